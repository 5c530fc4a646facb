"""Instructions per request of the whole server (gunicorn or Granian), counted by valgrind's
callgrind: the server's own work (HTTP parsing, hand-offs between its threads, the WSGI
bridge) on top of the application's. Prints figures; it is not a test.

    .venv/bin/python bench/server_instructions.py [--server gunicorn|granian] [--requests 300]
                                                  [--connections 1] [--endpoints videos_page1]

req/s and req/CPU-s on a shared 2-core machine move with whatever else runs; an instruction count
does not. This runs the server with one worker process (4 threads) under ``valgrind
--tool=callgrind --trace-children=yes``, against the benchmark database and context of the last
`make bench`, with the benchmark's environment. Per endpoint: 20 warm-up requests, then the
counters of every process of the server are zeroed (``callgrind_control -z``), ``--requests``
requests are made over ``--connections`` keep-alive connections (one thread each), and the
counters are dumped (``callgrind_control -d``): instructions per request = the sum over the
server's processes / requests. The client runs outside valgrind. Needs valgrind. Stdlib only.
"""

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.endpoints import ENDPOINTS_BY_KEY, expand_paths  # noqa: E402
from bench.procs import process_tree  # noqa: E402
from bench.run import (  # noqa: E402
    DEFAULT_DATABASE_URL,
    VAR,
    BenchError,
    Server,
    free_port,
    login,
    server_env,
)

WARMUP = 20


def _requests(host, port, method, token, paths, count):
    connection = http.client.HTTPConnection(host, port, timeout=120)
    headers = {"Accept": "application/json", "Authorization": f"Bearer {token}"}
    if method != "GET":
        headers["Content-Length"] = "0"
    statuses = []
    for index in range(count):
        connection.request(method, paths[index % len(paths)], headers=headers)
        response = connection.getresponse()
        response.read()
        statuses.append(response.status)
    connection.close()
    return statuses


def make_requests(server, method, token, paths, count, connections):
    host, port = server.base_url.removeprefix("http://").rsplit(":", 1)
    share = [
        count // connections + (1 if i < count % connections else 0) for i in range(connections)
    ]
    results = [None] * connections

    def one(i):
        # Each connection walks the paths from its own offset.
        offset = i * len(paths) // connections
        results[i] = _requests(
            host, int(port), method, token, paths[offset:] + paths[:offset], share[i]
        )

    threads = [threading.Thread(target=one, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [status for part in results for status in part]


def callgrind_control(option, pids):
    tool = shutil.which("callgrind_control")
    for pid in pids:
        subprocess.run(  # noqa: S603 (fixed argv)
            [tool, option, str(pid)], capture_output=True, timeout=120, check=False
        )


def dump_totals(folder, since):
    """Instructions in the dumps written after ``since`` (a file modification time)."""
    total = 0
    for path in folder.glob("callgrind.out.*"):
        if path.stat().st_mtime < since:
            continue
        match = re.search(r"^summary:\s+(\d+)", path.read_text(errors="replace"), re.M)
        if match:
            total += int(match.group(1))
    return total


def main(argv=None):
    parser = argparse.ArgumentParser(prog="bench/server_instructions.py")
    parser.add_argument("--server", choices=("gunicorn", "granian"), default="gunicorn")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--endpoints", default="videos_page1")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is needed (Debian package valgrind)")
    context = json.loads((VAR / "context.json").read_text())
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    env = server_env(database_url, secrets.token_urlsafe(64), free_port())
    with tempfile.TemporaryDirectory(prefix="viztube-server-callgrind-") as tmp:
        folder = Path(tmp)
        server = Server(env, 1, 4, kind=args.server)
        server.argv = [
            "valgrind",
            "--tool=callgrind",
            "--trace-children=yes",
            "--dump-instr=no",
            f"--callgrind-out-file={folder}/callgrind.out.%p",
            "-q",
            *server.argv,
        ]
        rows = []
        try:
            server.start(timeout=600)
            tokens = {
                "viewer": login(server.base_url, context["viewer"], context["password"]),
                "channel": login(server.base_url, context["big_channel"], context["password"]),
            }
            for key in args.endpoints.split(","):
                endpoint = ENDPOINTS_BY_KEY[key]
                paths = expand_paths(endpoint.path, context)
                token = tokens[endpoint.caller]
                make_requests(server, endpoint.method, token, paths, WARMUP, args.connections)
                pids = process_tree(server.pid)
                callgrind_control("-z", pids)
                since = time.time()
                statuses = make_requests(
                    server, endpoint.method, token, paths, args.requests, args.connections
                )
                callgrind_control("-d", pids)
                time.sleep(1)
                total = dump_totals(folder, since)
                if not total:
                    raise BenchError("callgrind wrote no dump; is callgrind_control working?")
                rows.append((key, total / len(statuses), sorted(set(statuses))))
        finally:
            server.stop()
    print(
        f"{args.server}, 1 worker x 4 threads under callgrind, {args.requests} requests over "
        f"{args.connections} connection(s) after {WARMUP} warm-up:"
    )
    print("| Endpoint | M instructions per request (server tree) | statuses |")
    print("|---|---:|---|")
    for key, per_request, statuses in rows:
        print(f"| {key} | {per_request / 1e6:.2f} | {statuses} |")


if __name__ == "__main__":
    main()
