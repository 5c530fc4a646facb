"""Fault tests against a real gunicorn: loopback only, every loop bounded.

    .venv/bin/python scripts/faults.py [--scenario db-restart|worker-kill|cloudinary|all]

Each run creates its own database (``viztube_faults`` on the PostgreSQL server at
127.0.0.1:5432, or on a throwaway server with ``--private-postgres``), migrates it, creates a user
and a few videos, starts gunicorn on a free 127.0.0.1 port with production settings (DEBUG=0) and
always stops it again (also on Ctrl-C). Scenarios (docs/faults.md has the details and figures):

db-restart   8 threads of GET /videos and GET /healthcheck for ~12 s; PostgreSQL is restarted at
             t=4 s. Pass: no error before the restart and none once the first request started
             after the restart got a 2xx; then a second restart while idle, after which no
             request may fail either (dead persistent connections, revived by the health check).
             It restarts a PostgreSQL server: the shared one at 127.0.0.1:5432 only with
             ``--i-know-this-restarts-postgres``; ``--private-postgres`` instead runs the whole
             scenario on a server of its own (initdb in a temp folder, a free port).
worker-kill  a 60 MB multipart upload streamed slowly over a raw socket; once Django spooled part
             of it to FILE_UPLOAD_TEMP_DIR the workers are SIGKILLed. Pass: the temp file is left
             behind, gunicorn respawns its workers, ``manage.py sweep_upload_temp`` empties the
             folder and no video row was written.
cloudinary   the fake Cloudinary (tests/fakes/cloudinary.py) in this process, answering late
             (beyond the timeout) or with 500s: publishing a video and registering a user must end
             in bounded time with a 502/504 error envelope, no row, no temp file and no asset on
             the fake (what a late-answered upload had stored must have been destroyed).

Exit status: 0 all selected scenarios passed, 1 a check failed, 2 a scenario could not run
(refused, or a needed piece such as the sweep command is missing).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / ".venv" / "bin"
PYTHON = BIN / "python"
GUNICORN = BIN / "gunicorn"
MEDIA_FIXTURES = REPO / "tests" / "media"

HOST = "127.0.0.1"
SHARED_POSTGRES = "postgres://postgres@127.0.0.1:5432"
DATABASE_NAME = "viztube_faults"
# Signs the tokens of this run only (the test key of the Makefile).
SECRET_KEY = "test-only-secret-key-not-for-production-0123456789abcdef"  # noqa: S105
PASSWORD = "faults-Correct-Horse-42"  # noqa: S105 - a throwaway account of the run's database
# Nothing in these scenarios is about rate limiting: lift every scope out of the way.
RATE_LIMITS = {
    f"RATE_LIMIT_{scope}": "1000000/m"
    for scope in ("ANON", "USER", "LOGIN", "REGISTER", "UPLOAD", "COMMENT", "TOGGLE")
}

EXIT_OK, EXIT_FAILED, EXIT_BLOCKED = 0, 1, 2


class Blocked(Exception):
    """The scenario cannot run here (refused, or a piece it needs is missing)."""


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- processes we start, and only those, are stopped on the way out ----------------------------

_cleanups: list = []


def _run_cleanups():
    while _cleanups:
        action = _cleanups.pop()
        with contextlib.suppress(Exception):
            action()


def _on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def wait_for(predicate, *, timeout, interval=0.1, what="condition"):
    """Poll ``predicate`` until it returns a truthy value; ``TimeoutError`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


# --- HTTP ----------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int | None  # None: no HTTP answer (refused, reset, timeout)
    body: dict | None
    error: str = ""
    started: float = 0.0
    ended: float = 0.0

    @property
    def seconds(self):
        return self.ended - self.started

    @property
    def is_envelope_error(self):
        """An error answer in the project's envelope: ``success`` false, ``statusCode`` equal
        to the HTTP status, a message and its ``errors`` list. (``data`` is null, except in the
        healthcheck's 503, which says there which dependency is down.)"""
        body = self.body if isinstance(self.body, dict) else {}
        return (
            self.status is not None
            and self.status >= 400
            and body.get("success") is False
            and body.get("statusCode") == self.status
            and bool(body.get("message"))
            and isinstance(body.get("errors"), list)
        )


def http_request(port, method, path, *, body=None, headers=None, timeout=5.0):
    """One request on a fresh connection; never raises for network trouble."""
    started = time.monotonic()
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        raw = response.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return Answer(response.status, parsed, started=started, ended=time.monotonic())
    except (OSError, http.client.HTTPException) as exc:
        return Answer(None, None, type(exc).__name__, started=started, ended=time.monotonic())
    finally:
        connection.close()


def multipart(fields, files):
    """``(body, content_type)`` of a multipart/form-data body.

    ``files`` maps a field name to ``(filename, content_type, bytes)``.
    """
    boundary = f"faults-{uuid.uuid4().hex}"
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(f"{value}\r\n".encode())
    for name, (filename, content_type, data) in files.items():
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
        )
        out.write(data)
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def png_bytes(size=(16, 16)):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (40, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


# --- the run: a folder, a database, a gunicorn ---------------------------------------------------


class Run:
    """Folder of one run: upload temp dirs, media roots, logs; removed at the end unless kept."""

    def __init__(self, keep):
        self.dir = Path(tempfile.mkdtemp(prefix="viztube-faults-"))
        self.keep = keep

    def remove(self):
        if not self.keep:
            # The private PostgreSQL's files belong to the postgres account; root removes them.
            shutil.rmtree(self.dir, ignore_errors=True)

    def folder(self, name):
        path = self.dir / name
        path.mkdir(parents=True, exist_ok=True)
        return path


def django_env(*, database_url, upload_tmp, media_root, extra=None):
    """Environment of every Django process of a scenario (manage.py and gunicorn alike)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("CLOUDINARY", "DJANGO_", "RATE_LIMIT_", "GUNICORN_"))
        and name not in {"DATABASE_URL", "REDIS_URL", "FILE_UPLOAD_TEMP_DIR", "MEDIA_ROOT"}
    }
    env.update(
        DEBUG="0",
        SECRET_KEY=SECRET_KEY,
        SECURE_SSL_REDIRECT="0",
        ALLOWED_HOSTS=HOST,
        DATABASE_URL=database_url,
        FILE_UPLOAD_TEMP_DIR=str(upload_tmp),
        MEDIA_ROOT=str(media_root),
        PYTHONPATH=str(REPO),
        LOG_LEVEL="WARNING",
        **RATE_LIMITS,
    )
    env.update(extra or {})
    return env


def manage(env, *args, timeout=180, check=True):
    result = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [str(PYTHON), "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"manage.py {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}"
        )
    return result


def recreate_database(server_url, name):
    import psycopg

    with psycopg.connect(f"{server_url}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(server_url, name):
    import psycopg

    with (
        contextlib.suppress(psycopg.Error),
        psycopg.connect(f"{server_url}/postgres", autocommit=True, connect_timeout=5) as conn,
    ):
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


SEED_CODE = """
import json
from accounts.models import User
from videos.models import Video
from rest_framework_simplejwt.tokens import RefreshToken
user = User.objects.create_user("faults", "faults@example.com", {password!r}, fullname="Fault Tester")
for number in range(5):
    Video.objects.create(
        owner=user, title=f"Fault video {{number}}", description="seeded by scripts/faults.py",
        video_file=f"videos/seed-{{number}}.mp4", thumbnail=f"thumbnails/seed-{{number}}.png",
        duration=1.0, visibility="public",
    )
print(json.dumps({{"user_id": str(user.pk), "access": str(RefreshToken.for_user(user).access_token)}}))
"""


def prepare_database(server_url, env):
    """Fresh database, migrated, with one user and five videos; returns the user's Bearer token."""
    recreate_database(server_url, DATABASE_NAME)
    _cleanups.append(lambda: drop_database(server_url, DATABASE_NAME))
    manage(env, "migrate", "--noinput")
    output = manage(env, "shell", "-c", SEED_CODE.format(password=PASSWORD)).stdout
    return json.loads(output.strip().splitlines()[-1])["access"]


def count_rows(database_url, table):
    import psycopg

    with psycopg.connect(database_url, connect_timeout=5) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608


def settings_overlay(run, name, body):
    """Environment entries that run Django with ``viztube.settings`` plus a few lines of ours.

    The module lives in the run folder, never in the repository; it starts with
    ``from viztube.settings import *``, so everything else is the production configuration.
    """
    folder = run.folder(f"settings-{name}")
    module = f"faults_settings_{name.replace('-', '_')}"
    (folder / f"{module}.py").write_text(
        "import os\nfrom viztube.settings import *  # noqa\n" + body
    )
    return {"DJANGO_SETTINGS_MODULE": module, "PYTHONPATH": f"{folder}{os.pathsep}{REPO}"}


class Gunicorn:
    """gunicorn serving the project on a free 127.0.0.1 port; stopped on every way out."""

    def __init__(self, env, log_path):
        self.port = free_port()
        self.env = {**env, "GUNICORN_BIND": f"{HOST}:{self.port}"}
        self.log_path = log_path
        self.process = None

    def start(self):
        self.log_file = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - the venv's gunicorn, fixed arguments
            [str(GUNICORN), "viztube.wsgi:application", "--config", "gunicorn.conf.py"],
            cwd=REPO,
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            # Its own process group: stopping it never touches anything else.
            start_new_session=True,
        )
        _cleanups.append(self.stop)
        try:
            wait_for(self.healthy, timeout=40, interval=0.2, what="gunicorn to answer")
        except TimeoutError:
            raise RuntimeError(f"gunicorn did not come up:\n{self.log_tail()}") from None
        return self

    def healthy(self):
        if self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({self.process.returncode}):\n{self.log_tail()}")
        return http_request(self.port, "GET", "/api/v1/healthcheck", timeout=2).status == 200

    def worker_pids(self):
        """Pids of the workers: the master's children, read from /proc."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The command may hold spaces and parentheses: the fields follow the last ")".
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == self.process.pid:
                pids.append(int(entry.name))
        return sorted(pids)

    def log_tail(self, lines=30):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        # TERM to the master (graceful), then KILL to its process group if it lingers.
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        self.log_file.close()


def files_in(folder):
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*") if p.is_file())


# --- scenario results ----------------------------------------------------------------------------


@dataclass
class Result:
    scenario: str
    passed: bool = False
    blocked: str = ""
    checks: list = field(default_factory=list)
    figures: dict = field(default_factory=dict)

    def check(self, name, ok, detail=""):
        self.checks.append({"check": name, "ok": bool(ok), "detail": detail})
        log(f"  {'ok  ' if ok else 'FAIL'} {name}{f' ({detail})' if detail else ''}")
        return ok

    def finish(self):
        self.passed = not self.blocked and all(item["ok"] for item in self.checks)
        return self


# --- 1. PostgreSQL restarted under load ----------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    path: str
    started: float
    ended: float
    status: int | None
    error: str = ""
    envelope: bool = False

    @property
    def ok(self):
        return self.status is not None and 200 <= self.status < 300


def analyse_load(samples, *, restart_started, restart_ended):
    """Figures of a load run around a database restart (times on one monotonic clock).

    - before: requests that ended before the restart began (must all be 2xx);
    - recovered_at: end of the first 2xx answer to a request that started after the restart
      command returned (the server accepts connections again);
    - during: every other request that started before recovered_at (the outage window);
    - after: requests that started after recovered_at (must all be 2xx: a dead persistent
      connection would show up here as a 500).
    """
    ordered = sorted(samples, key=lambda sample: sample.started)
    firsts = [s for s in ordered if s.started >= restart_ended and s.ok]
    recovered_at = min((s.ended for s in firsts), default=None)
    before = [s for s in ordered if s.ended < restart_started]
    if recovered_at is None:
        during = [s for s in ordered if s.ended >= restart_started]
        after = []
    else:
        during = [s for s in ordered if s.ended >= restart_started and s.started <= recovered_at]
        after = [s for s in ordered if s.started > recovered_at]

    def errors(group):
        return [s for s in group if not s.ok]

    def by_status(group):
        counts = {}
        for sample in group:
            key = str(sample.status) if sample.status is not None else sample.error or "no answer"
            counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items()))

    return {
        "requests": len(ordered),
        "before": len(before),
        "before_errors": len(errors(before)),
        "during": len(during),
        "during_errors": len(errors(during)),
        "during_statuses": by_status(during),
        "during_errors_in_envelope": sum(
            1 for s in errors(during) if s.status is not None and s.envelope
        ),
        "after": len(after),
        "after_errors": len(errors(after)),
        "after_statuses": by_status(after),
        "restart_seconds": round(restart_ended - restart_started, 3),
        "outage_seconds": (
            round(recovered_at - restart_started, 3) if recovered_at is not None else None
        ),
    }


class _Deadline:
    """When the load stops; the restart may push it later (read by every load thread)."""

    def __init__(self, at):
        self.at = at

    def extend_to(self, at):
        self.at = max(self.at, at)


def _load_worker(port, deadline, samples, lock):
    paths = ("/api/v1/videos?limit=5", "/api/v1/healthcheck")
    turn = 0
    while time.monotonic() < deadline.at:
        path = paths[turn % 2]
        turn += 1
        answer = http_request(port, "GET", path, timeout=3)
        sample = Sample(
            path=path,
            started=answer.started,
            ended=answer.ended,
            status=answer.status,
            error=answer.error,
            envelope=answer.is_envelope_error,
        )
        with lock:
            samples.append(sample)
        # A short pause: the machine is shared, the point is a steady load, not a benchmark.
        time.sleep(0.01)


class PrivatePostgres:
    """A throwaway PostgreSQL server (initdb in a temp folder, a free port on 127.0.0.1)."""

    def __init__(self):
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not versions:
            raise Blocked("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
        self.bin = versions[-1].parent
        # A folder of its own (the run folder is private to us): it must belong to the server.
        self.folder = Path(tempfile.mkdtemp(prefix="viztube-faults-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.url = f"postgres://postgres@{HOST}:{self.port}"
        # The server refuses to run as root: run its tools as the postgres account then.
        self.prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _tool(self, *args, timeout=120):
        return subprocess.run(  # noqa: S603 - PostgreSQL's own tools, fixed arguments
            [*self.prefix, *args], capture_output=True, text=True, timeout=timeout, check=False
        )

    def start(self):
        _cleanups.append(lambda: shutil.rmtree(self.folder, ignore_errors=True))
        if self.prefix:
            shutil.chown(self.folder, "postgres", "postgres")
        init = self._tool(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"
        )
        if init.returncode != 0:
            raise Blocked(f"initdb failed: {init.stderr.strip()[-500:]}")
        self.options = f"-p {self.port} -k {self.folder} -c listen_addresses={HOST} -c fsync=off"
        started = self._tool(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            self.options,
            "-w",
            "-l",
            str(self.folder / "server.log"),
            "start",
        )
        if started.returncode != 0:
            raise Blocked(f"the private PostgreSQL did not start: {started.stderr.strip()}")
        _cleanups.append(self.stop)
        return self

    def restart_command(self):
        # Log file and options again: pg_ctl restart forgets -l, and without it the new server
        # would write into our pipe and the restart would never seem to return.
        return [
            *self.prefix,
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            self.options,
            "-l",
            str(self.folder / "server.log"),
            "-m",
            "fast",
            "-w",
            "restart",
        ]

    def stop(self):
        self._tool(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def shared_restart_command():
    clusters = sorted(path.name for path in Path("/etc/postgresql").iterdir())
    if len(clusters) != 1:
        raise Blocked(f"expected one PostgreSQL version under /etc/postgresql, found {clusters}")
    return ["pg_ctlcluster", "--skip-systemctl-redirect", clusters[0], "main", "restart"]


def scenario_db_restart(run, args):
    result = Result("db-restart")
    if args.private_postgres:
        server = PrivatePostgres().start()
        server_url, restart_command = server.url, server.restart_command()
        result.figures["postgres"] = f"private server on port {server.port}"
    elif args.i_know_this_restarts_postgres:
        server_url, restart_command = SHARED_POSTGRES, shared_restart_command()
        result.figures["postgres"] = "the shared server at 127.0.0.1:5432"
    else:
        raise Blocked(
            "db-restart restarts PostgreSQL: pass --private-postgres (a throwaway server) or "
            "--i-know-this-restarts-postgres (the shared one at 127.0.0.1:5432)"
        )
    overlay = {}
    if args.no_conn_health_checks:
        overlay = settings_overlay(run, "no-health-checks", NO_HEALTH_CHECKS_SETTINGS)
        result.figures["conn_health_checks"] = False
        log("  control run: CONN_HEALTH_CHECKS off (the idle-restart check is expected to FAIL)")
    env = django_env(
        database_url=f"{server_url}/{DATABASE_NAME}",
        upload_tmp=run.folder("db-restart/uploads"),
        media_root=run.folder("db-restart/media"),
        extra=overlay,
    )
    prepare_database(server_url, env)
    server_app = Gunicorn(env, run.dir / "gunicorn-db-restart.log").start()

    restart_log = run.dir / "postgres-restart.log"

    def restart_postgres():
        """Run the restart command; ``(returncode, output, started, ended)``."""
        log(f"  restarting PostgreSQL: {' '.join(restart_command)}")
        started = time.monotonic()
        # Output to a file, not a pipe: a server started by the restart may keep a pipe open.
        with restart_log.open("wb") as output:
            done = subprocess.run(  # noqa: S603 - pg_ctl / pg_ctlcluster, fixed arguments
                restart_command, stdout=output, stderr=subprocess.STDOUT, timeout=120, check=False
            )
        ended = time.monotonic()
        return done.returncode, restart_log.read_text(errors="replace").strip(), started, ended

    # Phase 1: restart in the middle of a steady load.
    samples, lock = [], threading.Lock()
    begin = time.monotonic()
    deadline = _Deadline(begin + args.load_seconds)
    threads = [
        threading.Thread(
            target=_load_worker, args=(server_app.port, deadline, samples, lock), daemon=True
        )
        for _ in range(args.threads)
    ]
    for thread in threads:
        thread.start()
    time.sleep(args.restart_at)
    returncode, restart_output, restart_started, restart_ended = restart_postgres()
    # However slow the restart was, the load goes on for at least 5 s after it.
    deadline.extend_to(restart_ended + 5)
    for thread in threads:
        thread.join(timeout=deadline.at - time.monotonic() + 10)

    # Phase 2: restart while idle. Under a steady load every dead connection is used (and
    # dropped) during the outage itself; idle, all of them survive the restart and the first
    # requests after it pick them up: only the health check stands between them and a 500.
    _burst(server_app.port, requests=48, parallel=16)  # every worker thread holds a connection
    idle_code, idle_output, _, _ = restart_postgres()
    time.sleep(0.5)
    idle_answers = _burst(server_app.port, requests=48, parallel=16)
    server_app.stop()

    figures = analyse_load(samples, restart_started=restart_started, restart_ended=restart_ended)
    figures["errors_started_after_the_restart_returned"] = sum(
        1 for sample in samples if sample.started >= restart_ended and not sample.ok
    )
    figures["threads"] = args.threads
    figures["load_seconds"] = round(max(s.ended for s in samples) - begin, 1) if samples else 0
    idle_errors = [answer for answer in idle_answers if not 200 <= (answer.status or 0) < 300]
    figures["idle_restart"] = {
        "requests_after": len(idle_answers),
        "errors_after": len(idle_errors),
        "statuses_after": _count_statuses(idle_answers),
    }
    result.figures.update(figures)
    result.check("restart command succeeded", returncode == 0, restart_output[-300:])
    result.check(
        "no error before the restart",
        figures["before_errors"] == 0,
        f"{figures['before']} requests",
    )
    result.check(
        "service recovered after the restart",
        figures["outage_seconds"] is not None,
        f"outage {figures['outage_seconds']} s",
    )
    result.check(
        "no error after recovery",
        figures["after_errors"] == 0 and figures["after"] > 0,
        f"{figures['after']} requests, statuses {figures['after_statuses']}",
    )
    answered_errors = sum(
        count
        for key, count in figures["during_statuses"].items()
        if key.isdigit() and key[0] != "2"
    )
    result.check(
        "errors during the outage are error envelopes",
        figures["during_errors_in_envelope"] == answered_errors,
        f"statuses {figures['during_statuses']}",
    )
    result.check("idle restart command succeeded", idle_code == 0, idle_output[-300:])
    result.check(
        "no error after a restart while idle (dead persistent connections revived)",
        not idle_errors,
        f"{len(idle_answers)} requests, statuses {figures['idle_restart']['statuses_after']}",
    )
    return result.finish()


def _count_statuses(answers):
    counts = {}
    for answer in answers:
        key = str(answer.status) if answer.status is not None else answer.error or "no answer"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def _burst(port, *, requests, parallel):
    """``requests`` GET /videos from ``parallel`` threads at once; the answers."""
    answers, lock = [], threading.Lock()
    per_thread = max(1, requests // parallel)

    def worker():
        for _ in range(per_thread):
            answer = http_request(port, "GET", "/api/v1/videos?limit=5", timeout=5)
            with lock:
                answers.append(answer)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


# --- 2. a worker killed during a large upload ----------------------------------------------------


def _sweep_problem(env):
    """Why ``manage.py sweep_upload_temp --older-than 0`` cannot run here, or "" when it can."""
    path = REPO / "viztube" / "management" / "commands" / "sweep_upload_temp.py"
    if not path.exists():
        return f"{path.relative_to(REPO)} does not exist (the sweep command is not written yet)"
    help_text = manage(env, "help", "sweep_upload_temp", check=False)
    if help_text.returncode != 0 or "--older-than" not in help_text.stdout:
        return f"manage.py sweep_upload_temp has no --older-than option: {help_text.stderr[-300:]}"
    return ""


def _bytes_in(folder):
    total = 0
    for path in Path(folder).iterdir():
        with contextlib.suppress(FileNotFoundError):  # a request may end meanwhile
            total += path.stat().st_size
    return total


def _stream_upload(port, token, upload_tmp, *, total_mb, chunk_kb, pause, timeout):
    """Start a ``total_mb`` multipart publish and stream it until Django spooled a few MB.

    Returns ``(socket, bytes_sent, temp_file_bytes)``; the socket stays open (the upload hangs).
    """
    boundary = f"faults-{uuid.uuid4().hex}"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\n'
        "Killed upload\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="videoFile"; '
        'filename="big.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    file_bytes = total_mb * 1024 * 1024
    request_head = (
        "POST /api/v1/videos HTTP/1.1\r\n"
        f"Host: {HOST}:{port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(head) + file_bytes + len(tail)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    sock = socket.create_connection((HOST, port), timeout=10)
    sock.sendall(request_head + head)
    chunk = b"\0" * (chunk_kb * 1024)
    sent, deadline = 0, time.monotonic() + timeout
    spool_target = 4 * 1024 * 1024
    while sent + len(chunk) < file_bytes and time.monotonic() < deadline:
        sock.sendall(chunk)
        sent += len(chunk)
        spooled = _bytes_in(upload_tmp)
        if spooled >= spool_target:
            return sock, sent, spooled
        time.sleep(pause)
    sock.close()
    raise TimeoutError(f"no temp file of {spool_target} bytes after sending {sent} bytes")


def scenario_worker_kill(run, args):
    result = Result("worker-kill")
    upload_tmp = run.folder("worker-kill/uploads")
    env = django_env(
        database_url=f"{SHARED_POSTGRES}/{DATABASE_NAME}",
        upload_tmp=upload_tmp,
        media_root=run.folder("worker-kill/media"),
    )
    token = prepare_database(SHARED_POSTGRES, env)
    app = Gunicorn(env, run.dir / "gunicorn-worker-kill.log").start()
    videos_before = count_rows(env["DATABASE_URL"], "videos_video")

    started = time.monotonic()
    sock, sent, spooled = _stream_upload(
        app.port, token, upload_tmp, total_mb=args.upload_mb, chunk_kb=256, pause=0.02, timeout=60
    )
    temp_files = files_in(upload_tmp)
    workers = app.worker_pids()
    log(f"  {sent} bytes sent, {spooled} spooled in {temp_files}; SIGKILL workers {workers}")
    killed_at = time.monotonic()
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    sock.settimeout(10)
    try:
        reply = sock.recv(4096)
        client_saw = reply.split(b"\r\n", 1)[0].decode(errors="replace") or "connection closed"
    except OSError as exc:
        client_saw = type(exc).__name__
    finally:
        sock.close()
    respawned = wait_for(
        lambda: set(app.worker_pids()).isdisjoint(workers) and len(app.worker_pids()) >= 1,
        timeout=30,
        what="gunicorn to respawn its workers",
    )
    healthy_again = wait_for(app.healthy, timeout=30, what="a 200 from the respawned workers")
    respawn_seconds = time.monotonic() - killed_at
    left_behind = files_in(upload_tmp)
    videos_after = count_rows(env["DATABASE_URL"], "videos_video")
    sweep_problem = _sweep_problem(env)
    if not sweep_problem:
        sweep = manage(env, "sweep_upload_temp", "--older-than", "0", check=False)
        after_sweep = files_in(upload_tmp)
    app.stop()

    result.figures.update(
        {
            "upload_declared_mb": args.upload_mb,
            "bytes_sent_before_kill": sent,
            "bytes_spooled_before_kill": spooled,
            "workers_killed": len(workers),
            "client_saw": client_saw,
            "temp_files_after_kill": len(left_behind),
            "seconds_to_a_200_after_the_kill": round(respawn_seconds, 2),
            "seconds_upload_start_to_kill": round(killed_at - started, 2),
        }
    )
    result.check("a temp file appeared during the upload", temp_files, ", ".join(temp_files))
    result.check("workers were killed and respawned", workers and respawned and healthy_again)
    result.check("the killed upload left its temp file behind", left_behind, ", ".join(left_behind))
    result.check("no video row was written", videos_after == videos_before)
    if sweep_problem:
        result.blocked = sweep_problem
        log(f"  BLOCKED {sweep_problem}")
        return result.finish()
    result.figures["temp_files_after_sweep"] = len(after_sweep)
    result.figures["sweep_output"] = sweep.stdout.strip()[-500:]
    result.check("sweep_upload_temp succeeded", sweep.returncode == 0, sweep.stderr.strip()[-300:])
    result.check("no temp file after the sweep", not after_sweep, ", ".join(after_sweep))
    return result.finish()


# --- 3. Cloudinary slow or failing ---------------------------------------------------------------

# Every uploaded file spooled to FILE_UPLOAD_TEMP_DIR (as any file over 2.5 MB is in production),
# so that "no temp file left" checks a file that really existed. (No environment variable.)
CLOUDINARY_SETTINGS = """
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
"""
# The control experiment of db-restart: without the ping before reuse, a persistent connection
# that the restart killed fails the next request that picks it up.
NO_HEALTH_CHECKS_SETTINGS = """
DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
"""


def scenario_cloudinary(run, args):
    sys.path.insert(0, str(REPO))
    from tests.fakes.cloudinary import FakeCloudinary

    result = Result("cloudinary")
    fake = FakeCloudinary(run.folder("fake-cloudinary")).start()
    _cleanups.append(fake.stop)
    upload_tmp = run.folder("cloudinary/uploads")
    media_root = run.folder("cloudinary/media")
    timeout = args.cloudinary_timeout
    env = django_env(
        database_url=f"{SHARED_POSTGRES}/{DATABASE_NAME}",
        upload_tmp=upload_tmp,
        media_root=media_root,
        extra={
            "CLOUDINARY_URL": fake.cloudinary_url,
            "CLOUDINARY_TIMEOUT_SECONDS": str(timeout),
            **settings_overlay(run, "cloudinary", CLOUDINARY_SETTINGS),
        },
    )
    token = prepare_database(SHARED_POSTGRES, env)
    app = Gunicorn(env, run.dir / "gunicorn-cloudinary.log").start()
    database_url = env["DATABASE_URL"]
    video = (MEDIA_FIXTURES / "sample.mp4").read_bytes()
    image = png_bytes()
    registrations = iter(range(1, 1000))

    def publish():
        body, content_type = multipart(
            {"title": "Fault test", "description": "published by scripts/faults.py"},
            {
                "videoFile": ("clip.mp4", "video/mp4", video),
                "thumbnail": ("thumb.png", "image/png", image),
            },
        )
        headers = {"Content-Type": content_type, "Authorization": f"Bearer {token}"}
        return http_request(
            app.port, "POST", "/api/v1/videos", body=body, headers=headers, timeout=timeout * 4 + 20
        )

    def register(with_cover=False):
        number = next(registrations)
        files = {"avatar": ("avatar.png", "image/png", image)}
        if with_cover:
            files["coverImage"] = ("cover.png", "image/png", image)
        body, content_type = multipart(
            {
                "fullname": "Fault Person",
                "username": f"faultperson{number}",
                "email": f"faultperson{number}@example.com",
                "password": PASSWORD,
            },
            files,
        )
        return http_request(
            app.port,
            "POST",
            "/api/v1/user/register",
            body=body,
            headers={"Content-Type": content_type},
            timeout=timeout * 4 + 20,
        )

    def table_counts():
        return {
            "videos": count_rows(database_url, "videos_video"),
            "users": count_rows(database_url, "accounts_user"),
        }

    cases = [
        # (name, action, fault, expected statuses, time bound in seconds)
        (
            "publish, uploads answered late",
            publish,
            ("delay", timeout + 3),
            {502, 504},
            timeout + 5,
        ),
        (
            "register, upload answered late",
            register,
            ("delay", timeout + 3),
            {502, 504},
            timeout + 5,
        ),
        ("publish, video upload fails (500)", publish, ("fail", 1), {502}, 5),
        ("publish, thumbnail upload fails (500)", publish, ("fail", 2), {502}, 5),
        ("register, avatar upload fails (500)", register, ("fail", 1), {502}, 5),
        (
            "register, cover upload fails (500)",
            lambda: register(with_cover=True),
            ("fail", 2),
            {502},
            5,
        ),
    ]
    case_figures = []
    try:
        control = publish()
        result.check(
            "control: publish without a fault is a 201 with two assets",
            control.status == 201 and len(fake.assets) == 2,
            f"{control.status} in {control.seconds:.2f} s",
        )
        baseline_assets = set(fake.assets)
        for name, action, (kind, amount), expected, bound in cases:
            before = table_counts()
            if kind == "delay":
                fake.delay(amount)
            else:
                fake.fail_upload(amount, status=500)
            answer = action()
            fake.delay(0)
            # A late answer holds the fake's handler; let it finish before looking at the assets.
            time.sleep(amount - answer.seconds + 0.5 if kind == "delay" else 0.2)
            after = table_counts()
            new_assets = sorted(set(fake.assets) - baseline_assets)
            figure = {
                "case": name,
                "status": answer.status,
                "seconds": round(answer.seconds, 2),
                "bound_seconds": bound,
                "message": (answer.body or {}).get("message"),
                "rows_added": {k: after[k] - before[k] for k in after if after[k] != before[k]},
                "assets_left": new_assets,
                "temp_files": files_in(upload_tmp),
                "local_files": files_in(media_root),
            }
            case_figures.append(figure)
            result.check(
                f"{name}: {'/'.join(map(str, sorted(expected)))} envelope in bounded time",
                answer.status in expected
                and answer.is_envelope_error
                and answer.body.get("data", "missing") is None
                and answer.seconds < bound,
                f"{answer.status} {figure['message']!r} in {figure['seconds']} s",
            )
            result.check(f"{name}: no row", not figure["rows_added"], str(figure["rows_added"]))
            result.check(
                f"{name}: no temp or local file",
                not figure["temp_files"] and not figure["local_files"],
            )
            result.check(
                f"{name}: no asset left on the fake", not new_assets, ", ".join(new_assets)
            )
            # Every case starts from an empty fake (the control's assets go too: only counted).
            fake.reset()
            baseline_assets = set()
        recovery = publish()
        result.check(
            "after the faults, publishing works again",
            recovery.status == 201,
            f"{recovery.status} in {recovery.seconds:.2f} s",
        )
    finally:
        fake.delay(0)
        app.stop()
    result.figures.update({"cloudinary_timeout_seconds": timeout, "cases": case_figures})
    return result.finish()


# --- main ----------------------------------------------------------------------------------------

SCENARIOS = {
    "db-restart": scenario_db_restart,
    "worker-kill": scenario_worker_kill,
    "cloudinary": scenario_cloudinary,
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="VizTube fault scenarios against gunicorn on 127.0.0.1 (see docs/faults.md).",
    )
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument(
        "--i-know-this-restarts-postgres",
        action="store_true",
        help="allow db-restart to restart the SHARED PostgreSQL server (pg_ctlcluster)",
    )
    parser.add_argument(
        "--private-postgres",
        action="store_true",
        help="run db-restart on a throwaway PostgreSQL server of its own instead",
    )
    parser.add_argument(
        "--no-conn-health-checks",
        action="store_true",
        help="db-restart control run with CONN_HEALTH_CHECKS off (shows what the check prevents)",
    )
    parser.add_argument("--threads", type=int, default=8, help="db-restart load threads (8)")
    parser.add_argument("--load-seconds", type=float, default=12.0, help="db-restart load (12)")
    parser.add_argument("--restart-at", type=float, default=4.0, help="restart after N s (4)")
    parser.add_argument("--upload-mb", type=int, default=60, help="worker-kill upload size (60)")
    parser.add_argument(
        "--cloudinary-timeout",
        type=int,
        default=2,
        help="CLOUDINARY_TIMEOUT_SECONDS, whole seconds (2)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the run folder (logs)")
    args = parser.parse_args(argv)
    if not 1 <= args.threads <= 32:
        parser.error("--threads must be between 1 and 32")
    if not 5 <= args.load_seconds <= 120 or not 1 <= args.restart_at < args.load_seconds:
        parser.error("--load-seconds must be 5-120 and --restart-at between 1 and it")
    if not 10 <= args.upload_mb <= 100:
        parser.error("--upload-mb must be between 10 and 100 (SINGLE_UPLOAD_MAX_MB)")
    if not 1 <= args.cloudinary_timeout <= 30:
        parser.error("--cloudinary-timeout must be between 1 and 30 seconds")
    if args.i_know_this_restarts_postgres and args.private_postgres:
        parser.error("choose one of --private-postgres and --i-know-this-restarts-postgres")
    return args


def main(argv=None):
    args = parse_args(argv)
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    if "db-restart" in names and not (args.private_postgres or args.i_know_this_restarts_postgres):
        if args.scenario == "db-restart":
            print(
                "refused: db-restart restarts PostgreSQL. Pass --private-postgres (a throwaway "
                "server) or --i-know-this-restarts-postgres (the shared one).",
                file=sys.stderr,
            )
            return EXIT_BLOCKED
        names.remove("db-restart")
        log("db-restart skipped (needs --private-postgres or --i-know-this-restarts-postgres)")
    signal.signal(signal.SIGTERM, _on_sigterm)
    run = Run(keep=args.keep)
    atexit.register(run.remove)
    atexit.register(_run_cleanups)
    log(f"run folder {run.dir}")
    results = []
    try:
        for name in names:
            log(f"scenario {name}")
            try:
                result = SCENARIOS[name](run, args)
            except Blocked as exc:
                result = Result(name, blocked=str(exc))
                log(f"  BLOCKED {exc}")
            except Exception as exc:
                result = Result(name)
                result.check("scenario ran to the end", False, f"{type(exc).__name__}: {exc}")
                result.finish()
            finally:
                # Each scenario has its own gunicorn and database: stop them before the next.
                _run_cleanups()
            results.append(result)
    finally:
        _run_cleanups()
        run.remove()
    summary = [asdict(result) for result in results]
    print(json.dumps(summary, indent=2, default=str))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2, default=str) + "\n")
    if any(not item["ok"] for r in results for item in r.checks):
        return EXIT_FAILED
    if any(r.blocked for r in results):
        return EXIT_BLOCKED
    return EXIT_OK


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        # The finally blocks and atexit have stopped gunicorn and dropped the database.
        print("interrupted: everything this run started has been stopped", file=sys.stderr)
        sys.exit(130)
