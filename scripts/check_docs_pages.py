"""Load /api/docs/ (Swagger UI) and /api/redoc/ (ReDoc) in headless Chromium, offline.

    .venv/bin/python scripts/check_docs_pages.py [--screenshot-dir DIR] [--chromium PATH]

Starts the app as `make run` does (``manage.py runserver``, DEBUG=1) on a free 127.0.0.1 port with
a temporary SQLite database and media folder, and always stops it again. Each page is loaded by
headless Chromium with every host name but 127.0.0.1 resolving to nothing (so a CDN cannot
rescue a page that depends on one) and a NetLog of every request the browser makes. Checks:

- the rendered DOM lists every operation of the API's OpenAPI document (its path and summary);
- the page itself asked for nothing outside 127.0.0.1 (the NetLog's requests made on behalf of
  the page; requests Chromium makes for itself, such as update checks, are counted apart);
- every script, stylesheet, image and the schema the page asked the server for answered 200.

With ``--screenshot-dir`` it also saves a PNG of each page. Prints one PASS/FAIL line per check.
Exit status: 0 every check passed, 1 a check failed, 2 the check could not run (no Chromium, the
server did not start). Not part of `make test`: CI machines may have no Chromium.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
PAGES = ("/api/docs/", "/api/redoc/")
HOST = "127.0.0.1"
# Operations of the document that the report names as examples.
EXAMPLE_PATH = "/api/v1/videos/"


class CannotRun(Exception):
    """The check could not run (as opposed to: it ran and a page failed it)."""


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def find_chromium(explicit):
    for name in [explicit] if explicit else ["chromium", "chromium-browser", "google-chrome"]:
        path = shutil.which(name)
        if path:
            return path
    raise CannotRun("no Chromium found (Debian: apt-get install chromium; or --chromium PATH)")


def server_env(workdir):
    """A clean environment: DEBUG=1 as `make run`, SQLite and media in the temporary folder, and
    none of the caller's service URLs (no Redis, no Cloudinary, no PostgreSQL)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "MEDIA_ROOT": str(workdir / "media"),
        "FILE_UPLOAD_TEMP_DIR": str(workdir / "uploads"),
        "PYTHONUNBUFFERED": "1",
    }


def start_server(workdir, port):
    env = server_env(workdir)
    manage = [sys.executable, str(REPO / "manage.py")]
    migrate = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [*manage, "migrate", "--noinput", "-v", "0"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if migrate.returncode != 0:
        raise CannotRun(f"migrate failed:\n{migrate.stderr[-2000:]}")
    log = (workdir / "server.log").open("w")
    server = subprocess.Popen(  # noqa: S603 - our own manage.py, fixed arguments
        [*manage, "runserver", f"{HOST}:{port}", "--noreload"],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CannotRun(f"runserver exited ({server.returncode}); see its log above")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/api/v1/healthcheck", timeout=2):
                return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    stop_server(server)
    raise CannotRun("runserver did not answer within 60 s")


def stop_server(server):
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def operations(base_url):
    """(method, path, summary) of every operation of the OpenAPI document the app serves."""
    url = f"{base_url}/api/schema/?format=json"
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - http://127.0.0.1
        document = json.load(response)
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                found.append((method.upper(), path, operation.get("summary", "")))
    return found


def chromium_command(chromium, workdir, name, *extra):
    command = [
        chromium,
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={workdir / ('profile-' + name)}",
        # Every host but 127.0.0.1 fails to resolve: nothing can leave the machine.
        f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {HOST}",
        # Virtual time: run the page's scripts and fetches until it settles, up to 20 s.
        "--virtual-time-budget=20000",
        *extra,
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
    return command


def run_chromium(command):
    try:
        # The browser found on PATH (or named by the caller), arguments built here.
        result = subprocess.run(command, capture_output=True, timeout=180)  # noqa: S603
    except subprocess.TimeoutExpired:
        raise CannotRun("Chromium did not finish within 180 s") from None
    if result.returncode != 0:
        raise CannotRun(
            f"Chromium exited {result.returncode}: {result.stderr.decode(errors='replace')[-1500:]}"
        )
    return result.stdout.decode(errors="replace")


def requests_in_netlog(path):
    """(url, initiator, request type) of every request in a Chromium NetLog file."""
    raw = path.read_text()
    try:
        log = json.loads(raw)
    except json.JSONDecodeError:
        # A log cut short lacks its closing brackets (Chromium writes them on exit).
        log = json.loads(raw.rstrip().rstrip(",") + "]}")
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    found = []
    for event in log["events"]:
        params = event.get("params") or {}
        if event["type"] == start_job and "url" in params:
            found.append((params["url"], params.get("initiator", ""), params.get("request_type")))
    return found


def served_statuses(log_path, offset):
    """(path, status) of the requests runserver logged after ``offset`` bytes of its log."""
    with log_path.open() as log:
        log.seek(offset)
        text = log.read()
    return [
        (m.group(1), int(m.group(2)))
        for m in re.finditer(r'"GET (\S+) HTTP/1\.[01]" (\d{3})', text)
    ]


class Report:
    def __init__(self):
        self.failed = False

    def check(self, ok, label, detail=""):
        self.failed |= not ok
        line = f"{'PASS' if ok else 'FAIL'} {label}"
        print(f"{line}: {detail}" if detail else line, flush=True)


def check_page(report, chromium, workdir, base_url, page, ops, screenshot_dir):
    name = page.strip("/").replace("/", "-")
    netlog = workdir / f"{name}.netlog.json"
    log_path = workdir / "server.log"
    offset = log_path.stat().st_size
    dom = run_chromium(
        [
            *chromium_command(chromium, workdir, name, f"--log-net-log={netlog}", "--dump-dom"),
            base_url + page,
        ]
    )
    text = html.unescape(dom)

    # 1. The operations are on the page.
    missing = [
        f"{method} {path}"
        for method, path, summary in ops
        if path not in text or (summary and summary not in text)
    ]
    example = next((s for m, p, s in ops if p == EXAMPLE_PATH and m == "GET"), "")
    report.check(
        not missing and EXAMPLE_PATH in text and example in text,
        f"{page} lists the API's operations",
        f"{len(ops) - len(missing)}/{len(ops)} operations (path and summary) in the rendered "
        f"DOM, e.g. {EXAMPLE_PATH} {example!r}"
        + (f"; missing: {', '.join(missing[:5])}" if missing else ""),
    )

    # 2. Nothing the page asked for left 127.0.0.1.
    requests = requests_in_netlog(netlog)
    # Made on behalf of the page: the page itself, and what a web origin initiated (scripts,
    # stylesheets, fetches). Chromium's own requests have no origin ("not an origin").
    for_page = [
        url
        for url, initiator, kind in requests
        if kind == "main frame" or initiator.startswith(("http://", "https://"))
    ]
    own = [url for url, initiator, kind in requests if url not in for_page]
    foreign = sorted({url for url in for_page if urlsplit(url).hostname != HOST})
    loaded_static = [url for url in for_page if "/static/" in url]
    report.check(
        not foreign and loaded_static and any("/api/schema/" in url for url in for_page),
        f"{page} made no request outside {HOST}",
        f"{len(for_page)} requests for the page, all to {HOST} "
        f"({len(loaded_static)} static file(s) and the schema)"
        if not foreign
        else f"outside {HOST}: {', '.join(foreign)}",
    )
    if own:
        hosts = sorted({urlsplit(url).hostname or url for url in own})
        print(
            f"     (not counted: {len(own)} requests Chromium made for itself, not for the "
            f"page, to {', '.join(hosts)}; the resolver rule stops them too)"
        )

    # 3. What the page loaded from the server answered 200.
    statuses = [
        (path, status)
        for path, status in served_statuses(log_path, offset)
        # The browser's own guess at an icon (ReDoc's page names none), and this script's own
        # read of the schema, which the log may show late.
        if path not in ("/favicon.ico", "/api/schema/?format=json")
    ]
    bad = [f"{path} {status}" for path, status in statuses if status not in (200, 304)]
    report.check(
        statuses and not bad,
        f"{page} assets served",
        ", ".join(f"{path} {status}" for path, status in statuses) if not bad else "; ".join(bad),
    )

    if screenshot_dir:
        target = screenshot_dir / f"{name}.png"
        run_chromium(
            [
                *chromium_command(
                    chromium,
                    workdir,
                    f"{name}-shot",
                    f"--screenshot={target}",
                    "--window-size=1280,1400",
                ),
                base_url + page,
            ]
        )
        report.check(
            target.is_file() and target.stat().st_size > 10_000,
            f"{page} screenshot",
            f"{target} ({target.stat().st_size if target.is_file() else 0:,} bytes)",
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chromium", help="the browser binary (default: chromium on PATH)")
    parser.add_argument("--screenshot-dir", type=Path, help="also save a PNG of each page here")
    args = parser.parse_args(argv)

    report = Report()
    with tempfile.TemporaryDirectory(prefix="viztube-docs-check-") as tmp:
        workdir = Path(tmp)
        server = None
        try:
            chromium = find_chromium(args.chromium)
            if args.screenshot_dir:
                args.screenshot_dir.mkdir(parents=True, exist_ok=True)
                args.screenshot_dir = args.screenshot_dir.resolve()
            port = free_port()
            server = start_server(workdir, port)
            base_url = f"http://{HOST}:{port}"
            print(f"runserver (DEBUG=1, SQLite) at {base_url}; {chromium}", flush=True)
            ops = operations(base_url)
            for page in PAGES:
                check_page(report, chromium, workdir, base_url, page, ops, args.screenshot_dir)
        except CannotRun as error:
            print(f"FAIL could not run the check: {error}")
            if (workdir / "server.log").exists():
                print((workdir / "server.log").read_text()[-3000:])
            return 2
        finally:
            if server is not None:
                stop_server(server)
    print("FAIL" if report.failed else "PASS", "docs pages", flush=True)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
