"""Instructions per request, counted by valgrind's callgrind: a figure that the machine's load
does not move (req/s on a shared 2-core machine varies by a third from run to run).

    python bench/instructions.py                       # every endpoint, 30 requests each
    python bench/instructions.py --endpoints videos_page1,comments --requests 50

Runs the Django side in-process (Django's test Client, no gunicorn, no sockets to the client)
against the benchmark database of the last `make bench` (var/bench/context.json, the same
environment as the benchmark's server) under ``valgrind --tool=callgrind``, and prints, per
endpoint, the mean instructions executed by the Python process per request (PostgreSQL's and
Redis's own work are not in it: they run in their own processes). Needs valgrind (Debian package
``valgrind``); takes about a minute per endpoint. Stdlib only, like bench/run.py.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.endpoints import ENDPOINTS, ENDPOINTS_BY_KEY  # noqa: E402
from bench.run import DEFAULT_DATABASE_URL, PYTHON, VAR, server_env  # noqa: E402


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python bench/instructions.py")
    parser.add_argument("--endpoints", default=",".join(e.key for e in ENDPOINTS))
    parser.add_argument("--requests", type=int, default=30, help="measured requests each")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured requests first")
    args = parser.parse_args(argv)
    args.keys = [key.strip() for key in args.endpoints.split(",") if key.strip()]
    unknown = [key for key in args.keys if key not in ENDPOINTS_BY_KEY]
    if unknown:
        parser.error(f"unknown endpoint(s) {', '.join(unknown)}")
    if args.requests < 1 or args.warmup < 0:
        parser.error("--requests must be at least 1 and --warmup at least 0")
    return args


def dump_totals(folder):
    """Instruction totals of the dumps, in the order callgrind wrote them (base file last)."""
    dumps = sorted(
        folder.glob("callgrind.out.*"),
        key=lambda path: int(path.name.rsplit(".", 1)[1]) if path.name.count(".") > 2 else 1e9,
    )
    totals = []
    for path in dumps:
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("summary:"):
                totals.append(int(line.split()[1]))
                break
    return totals


def main(argv=None):
    args = parse_args(argv)
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is needed (Debian package valgrind)")
    context = VAR / "context.json"
    if not context.exists():
        sys.exit(f"{context} is missing: run `make bench` once first (it seeds and writes it)")
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    env = server_env(database_url, "instructions-" + "k" * 50, port=0)
    with tempfile.TemporaryDirectory(prefix="viztube-callgrind-") as tmp:
        folder = Path(tmp)
        command = [
            "valgrind",
            "--tool=callgrind",
            "--dump-before=os_getppid",
            f"--callgrind-out-file={folder}/callgrind.out.%p",
            str(PYTHON),
            "-m",
            "bench.django_side",
            "instructions",
            "--context",
            str(context),
            "--warmup",
            str(args.warmup),
            "--requests",
            str(args.requests),
            *args.keys,
        ]
        result = subprocess.run(  # noqa: S603 (fixed argv, no shell)
            command, cwd=REPO, env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            sys.exit(f"the callgrind run failed:\n{result.stderr[-3000:]}")
        statuses = json.loads(result.stdout.strip().splitlines()[-1])
        totals = dump_totals(folder)
    # Dumps: [start .. 1st marker], then per endpoint [measured], [next warm-up], ..., [rest].
    measured = totals[1 : 1 + 2 * len(args.keys) : 2]
    print("| Endpoint | instructions per request (millions) | statuses |")
    print("|---|---:|---|")
    for key, total in zip(args.keys, measured, strict=True):
        label = ENDPOINTS_BY_KEY[key].label
        print(f"| {label} | {total / args.requests / 1e6:.2f} | {statuses[key]} |")


if __name__ == "__main__":
    main()
