"""What a server does when a worker dies and when it is told to reload, under load. Prints
figures; it is not a test.

    .venv/bin/python bench/server_events.py [--server gunicorn|granian] [--seconds 12]

Uses the benchmark database and context of the last `make bench` (var/bench/context.json) and
the same server environment. For each event, wrk loads `GET /videos?page=1&limit=10` with 16
connections for ``--seconds``; a third of the way in, the event happens:

- ``worker killed``: SIGKILL to one worker (a crash, the OOM killer);
- ``reload``: SIGHUP to the master (gunicorn: new workers, the old ones finish their requests;
  Granian: its workers reload).

Reported: requests served, requests that failed (non-2xx, socket errors: connections reset,
timeouts), p99, and how long after the signal the first new worker process appeared (from
/proc, every 20 ms). Stdlib only, like bench/run.py.
"""

import argparse
import json
import os
import secrets
import signal
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.procs import process_tree  # noqa: E402
from bench.run import (  # noqa: E402
    DEFAULT_DATABASE_URL,
    VAR,
    Server,
    free_port,
    login,
    server_env,
    wrk,
)

PATH = "/api/v1/videos?page=1&limit=10"


def workers_of(server):
    return sorted(set(process_tree(server.pid)) - {server.pid})


def watch_workers(server, before, started, stop, out):
    """Until ``stop``: when the first worker that was not in ``before`` appeared (seconds since
    ``started``)."""
    while not stop.is_set():
        if set(workers_of(server)) - set(before):
            out["new_worker_at"] = time.monotonic() - started
            return
        time.sleep(0.02)


def one_event(server, token, event, seconds, workers):
    paths_file = VAR / "paths-server-events.txt"
    paths_file.write_text(PATH + "\n")
    before = workers_of(server)
    result, timing, stop = {}, {}, threading.Event()

    def load():
        result["wrk"] = wrk(
            server.base_url,
            paths_file,
            "GET",
            token,
            connections=16,
            threads=2,
            seconds=seconds,
            latency=True,
        )

    loader = threading.Thread(target=load)
    started = time.monotonic()
    watcher = threading.Thread(
        target=watch_workers, args=(server, before, started, stop, timing), daemon=True
    )
    loader.start()
    watcher.start()
    time.sleep(seconds / 3)
    signal_sent_at = time.monotonic() - started
    if event == "worker killed":
        os.kill(before[0], signal.SIGKILL)
    else:
        os.kill(server.pid, signal.SIGHUP)
    loader.join()
    time.sleep(1)
    stop.set()
    watcher.join()
    after = workers_of(server)
    replaced = len(set(before) - set(after))
    new_worker_at = timing.get("new_worker_at")
    measured = result["wrk"]
    return {
        "event": event,
        "requests": measured.requests,
        "non_2xx": measured.non_2xx_3xx,
        "socket_errors": measured.socket_errors,
        "timeouts": measured.timeouts,
        "p99_ms": round(measured.p99_ms, 1),
        "workers_replaced": replaced,
        "new_worker_after_s": (
            round(new_worker_at - signal_sent_at, 2) if new_worker_at is not None else None
        ),
        "workers_before_after": [len(before), len(after)],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="bench/server_events.py")
    parser.add_argument("--server", choices=("gunicorn", "granian"), default="gunicorn")
    parser.add_argument("--seconds", type=float, default=12)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    context = json.loads((VAR / "context.json").read_text())
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    env = server_env(database_url, secrets.token_urlsafe(64), free_port())
    server = Server(env, args.workers, 4, kind=args.server)
    rows = []
    try:
        server.start()
        token = login(server.base_url, context["viewer"], context["password"])
        for event in ("worker killed", "reload"):
            time.sleep(2)
            rows.append(one_event(server, token, event, args.seconds, args.workers))
    finally:
        server.stop()
    print(f"{args.server}, {args.workers} workers, wrk -c16 for {args.seconds:g} s per event:")
    for row in rows:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
