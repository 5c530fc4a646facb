"""`make bench`: VizTube against the original's figures, on this machine, with the standard data.

Protocol: the standard data set (``seed_demo --scale 1``) in a dedicated PostgreSQL
database; gunicorn as in production (DEBUG off, gunicorn.conf.py) pinned to CPU 0; wrk pinned to
CPU 1 with 16 connections; per endpoint a 3 s warm-up, three measured 15 s passes (medians
reported) and a single-connection run; SQL statements per request counted in-process; the
server's memory sampled from /proc. Output: a markdown table on stdout, var/bench/latest.md and
var/bench/latest.json.

Decisions behind the protocol (see docs/benchmark.md for the why):
- Every request is signed in (Bearer token from POST /user/login): the original required a token
  on every route, so its figures include the authentication cost. Dashboard stats are requested
  as the big channel, everything else as one ordinary viewer.
- The seeded database is reused when var/bench/marker-<db>.json says it holds the same seed and
  scale and the row counts still match; ``--reseed`` forces a fresh load (a change of the seeding
  code since the load is only reported: most such changes are about loading speed). After a
  load, VACUUM ANALYZE, as autovacuum would have done in production.
- gunicorn.conf.py is used as it is; PostgreSQL is not pinned (only the server and the
  load generator are).
- Rate limits are raised so that throttling does not distort the figures; the bench uses its own
  Redis database (2), emptied at the start of a run.
- An endpoint that does not answer 2xx before the run (not built yet, broken) is skipped and
  reported as such rather than benchmarked on its error responses.

Only stdlib here (plus psycopg from the project's venv for CREATE DATABASE / VACUUM); everything
Django-side runs in a child process (bench/django_side.py) with the server's environment.
"""

import argparse
import contextlib
import hashlib
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.endpoints import ENDPOINTS, ENDPOINTS_BY_KEY, expand_paths  # noqa: E402
from bench.procs import (  # noqa: E402
    MemorySampler,
    pin_to_cpu,
    tree_cpu_seconds,
    tree_memory_kb,
)
from bench.report import median, render_table, summarise_passes  # noqa: E402
from bench.wrk_output import WrkOutputError, parse_wrk_output  # noqa: E402

VAR = REPO / "var" / "bench"
PYTHON = REPO / ".venv" / "bin" / "python"
GUNICORN = REPO / ".venv" / "bin" / "gunicorn"
# The alternative server measured against gunicorn (docs/benchmark.md, "The server"); a
# development dependency, not a production one.
GRANIAN = REPO / ".venv" / "bin" / "granian"
LUA = REPO / "bench" / "wrk" / "rotate.lua"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/viztube_bench"
REDIS_URL = "redis://127.0.0.1:6379/2"
SERVER_CPU, LOAD_CPU = 0, 1
SEEDING_CODE = ("ops/management/commands/seed_demo.py", "ops/seeding.py")
# Generous: throttling must never be what the benchmark measures.
UNTHROTTLED = "10000000/s"
THROTTLE_SCOPES = ("ANON", "USER", "LOGIN", "REGISTER", "UPLOAD", "COMMENT", "TOGGLE")


class BenchError(RuntimeError):
    """A step failed; the message says which and what to look at."""


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- options ----------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description=__doc__.split("\n\n")[0], allow_abbrev=False
    )
    parser.add_argument("--duration", type=float, default=15, help="seconds per measured pass")
    parser.add_argument("--passes", type=int, default=3, help="measured passes (median reported)")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of discarded warm-up")
    parser.add_argument("--single", type=float, default=5, help="seconds of the 1-connection run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (-t)")
    parser.add_argument(
        "--endpoints",
        default=",".join(e.key for e in ENDPOINTS),
        help="comma-separated subset of: " + ", ".join(e.key for e in ENDPOINTS),
    )
    parser.add_argument("--scale", type=float, default=1.0, help="seed_demo --scale")
    parser.add_argument("--seed", type=int, default=42, help="seed_demo --seed")
    parser.add_argument("--reseed", action="store_true", help="reload the data set even if present")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument(
        "--worker-threads",
        type=int,
        default=4,
        help="threads a worker (4, as in every figure so far; gunicorn.conf.py has 6)",
    )
    parser.add_argument(
        "--server",
        choices=("gunicorn", "granian"),
        default="gunicorn",
        help="gunicorn with gunicorn.conf.py (production), or Granian's WSGI server with the "
        "same workers and threads",
    )
    parser.add_argument(
        "--no-preload",
        action="store_true",
        help="gunicorn only: each worker imports the application itself (no preload, no "
        "gc.freeze before the fork)",
    )
    parser.add_argument("--ids", type=int, default=1000, help="ids the rotating endpoints use")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 1 pass of 3 s, 1 s warm-up, 2 s single-connection",
    )
    parser.add_argument(
        "--prepare-only", action="store_true", help="create/migrate/seed the database, then stop"
    )
    parser.add_argument("--output", default=str(VAR), help="folder for latest.md / latest.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.passes, args.warmup, args.single = 3, 1, 1, 2
    keys = [key.strip() for key in args.endpoints.split(",") if key.strip()]
    unknown = [key for key in keys if key not in ENDPOINTS_BY_KEY]
    if unknown:
        parser.error(f"unknown endpoint(s) {', '.join(unknown)}")
    args.endpoint_keys = keys
    if args.scale <= 0 or args.passes < 1 or args.duration <= 0:
        parser.error("--scale, --passes and --duration must be positive")
    return args


# --- environment ------------------------------------------------------------------------------


def server_env(database_url, secret_key, port):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "RATE_LIMIT_", "GUNICORN_"))
    }
    env.update(
        DEBUG="0",
        SECRET_KEY=secret_key,
        DATABASE_URL=database_url,
        REDIS_URL=REDIS_URL,
        SECURE_SSL_REDIRECT="0",
        ALLOWED_HOSTS="127.0.0.1",
        ACCESS_TOKEN_MINUTES="240",  # noqa: S106 (a lifetime, not a password)
        MEDIA_ROOT=str(VAR / "media"),
        FILE_UPLOAD_TEMP_DIR=str(VAR / "uploads"),
        LOG_LEVEL="WARNING",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        PYTHONDONTWRITEBYTECODE="1",
        # As the production image sets it (Dockerfile): two malloc arenas, not eight per core.
        MALLOC_ARENA_MAX="2",
    )
    env.update({f"RATE_LIMIT_{scope}": UNTHROTTLED for scope in THROTTLE_SCOPES})
    return env


def require_tools(server="gunicorn"):
    missing = [tool for tool in ("wrk", "taskset") if not shutil.which(tool)]
    missing += [
        str(path)
        for path in (PYTHON, GRANIAN if server == "granian" else GUNICORN)
        if not path.exists()
    ]
    if missing:
        raise BenchError(
            f"missing: {', '.join(missing)} (apt-get install wrk util-linux; make install)"
        )
    if os.cpu_count() < 2:
        raise BenchError("needs 2 CPUs: the server on CPU 0, the load generator on CPU 1")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env, *arguments, timeout):
    command = [str(PYTHON), "manage.py", *arguments]
    log("$ " + " ".join(["manage.py", *arguments]))
    result = subprocess.run(command, cwd=REPO, env=env, timeout=timeout, check=False)  # noqa: S603
    if result.returncode:
        raise BenchError(f"manage.py {arguments[0]} failed (exit {result.returncode})")


def django_side(env, *arguments, timeout=600):
    result = subprocess.run(  # noqa: S603 (fixed argv, no shell)
        [str(PYTHON), "-m", "bench.django_side", *arguments],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode:
        raise BenchError(f"bench.django_side {arguments[0]} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout)


# --- step 1: the data set ---------------------------------------------------------------------


def _database_name(url):
    return urllib.parse.urlsplit(url).path.lstrip("/")


def ensure_database(database_url):
    import psycopg  # from the project's venv

    name = _database_name(database_url)
    admin_url = urllib.parse.urlsplit(database_url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            log(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def vacuum_analyze(database_url):
    import psycopg

    log("VACUUM ANALYZE (visibility map and statistics, as autovacuum would leave them)")
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute("VACUUM ANALYZE")


def seeding_fingerprint():
    digest = hashlib.sha256()
    for relative in SEEDING_CODE:
        path = REPO / relative
        digest.update(path.read_bytes() if path.exists() else b"-")
    return digest.hexdigest()[:16]


def seed_files(database_url):
    """The marker and the seed summary of one bench database (several may coexist)."""
    name = _database_name(database_url)
    return VAR / f"marker-{name}.json", VAR / f"seed-summary-{name}.json"


SEEDED_TABLES = ("accounts_user", "videos_video", "social_comment", "social_subscription")


def table_counts(database_url):
    """Row counts of tables that the benchmark itself never writes (likes and views change)."""
    import psycopg

    with psycopg.connect(database_url, connect_timeout=5) as conn:
        try:
            return {
                table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
                for table in SEEDED_TABLES
            }
        except psycopg.errors.UndefinedTable:
            return {}


def prepare_data(args, database_url, env):
    """Create, migrate and (when needed) seed the bench database; returns the seed summary."""
    VAR.mkdir(parents=True, exist_ok=True)
    ensure_database(database_url)
    manage(env, "migrate", "--noinput", "-v", "0", timeout=900)
    marker_path, summary_path = seed_files(database_url)
    wanted = {"database": _database_name(database_url), "scale": args.scale, "seed": args.seed}
    marker = json.loads(marker_path.read_text()) if marker_path.exists() else {}
    current = table_counts(database_url)
    reusable = (
        not args.reseed
        and summary_path.exists()
        and {key: marker.get(key) for key in wanted} == wanted
        and marker.get("counts") == current
    )
    wanted["seeding_code"] = seeding_fingerprint()
    if reusable:
        log(f"reusing the seeded database ({current}); --reseed to reload it")
        if marker.get("seeding_code") != wanted["seeding_code"]:
            # Not a reason to reload by itself: most changes there are about loading speed.
            log("note: the seeding code changed since this data was loaded (--reseed reloads)")
    else:
        marker_path.unlink(missing_ok=True)
        started = time.monotonic()
        manage(
            env,
            "seed_demo",
            "--scale",
            f"{args.scale:g}",
            "--seed",
            str(args.seed),
            "--flush",
            "--no-progress",
            "--summary-json",
            str(summary_path),
            timeout=3600,
        )
        vacuum_analyze(database_url)
        wanted["counts"] = table_counts(database_url)
        wanted["seconds"] = round(time.monotonic() - started, 1)
        marker_path.write_text(json.dumps(wanted, indent=2) + "\n")
    return json.loads(summary_path.read_text())


# --- step 3: the server -----------------------------------------------------------------------


class Server:
    """The server pinned to CPU 0, in its own session so that it can be stopped as a whole."""

    def __init__(self, env, workers=None, threads=None, kind="gunicorn", preload=True, folder=VAR):
        """``workers``, ``threads``: None leaves them to gunicorn.conf.py's defaults (Granian:
        2 x 4). ``make bench`` passes 2 x 4 (``--workers``, ``--worker-threads``)."""
        self.kind = kind
        self.env = dict(
            env,
            GUNICORN_PRELOAD="1" if preload else "0",
            # gunicorn 27's control socket defaults to one path per user: keep ours apart so that
            # a colleague's server on the same machine is not disturbed.
            GUNICORN_CMD_ARGS=f"--control-socket {folder / 'gunicorn.ctl'}",
        )
        if workers is not None:
            self.env["GUNICORN_WORKERS"] = str(workers)
        if threads is not None:
            self.env["GUNICORN_THREADS"] = str(threads)
        self.base_url = "http://" + env["GUNICORN_BIND"]
        self.process = None
        self.log_path = folder / f"{kind}.log"
        host, port = env["GUNICORN_BIND"].rsplit(":", 1)
        if kind == "granian":
            # The WSGI interface with gunicorn's shape: as many worker processes, as many
            # threads running the application in each; its own access log off, as gunicorn's
            # is (the application writes one line per request itself).
            self.argv = [
                str(GRANIAN),
                "--interface",
                "wsgi",
                "--host",
                host,
                "--port",
                port,
                "--workers",
                str(workers or 2),
                "--blocking-threads",
                str(threads or 4),
                "--respawn-failed-workers",
                "--no-access-log",
                "viztube.wsgi:application",
            ]
        else:
            self.argv = [str(GUNICORN), "viztube.wsgi:application", "--config", "gunicorn.conf.py"]

    def start(self, timeout=60):
        command = ["taskset", "-c", str(SERVER_CPU), *self.argv]
        log(f"starting {self.kind} on {self.base_url} (CPU {SERVER_CPU}): " + " ".join(command[3:]))
        with open(self.log_path, "wb") as error_log:
            # stdout is the access log: written as in production, kept nowhere.
            self.process = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
                command,
                cwd=REPO,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=error_log,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.kind} exited at start-up; see {self.log_path}")
            with contextlib.suppress(OSError):
                status, _ = http_request(self.base_url + "/api/v1/healthcheck", timeout=2)
                if status == 200:
                    return
            time.sleep(0.3)
        raise BenchError(f"{self.kind} did not answer the healthcheck in {timeout} s")

    @property
    def pid(self):
        return self.process.pid

    def stop(self):
        if not self.process or self.process.poll() is not None:
            return
        log(f"stopping {self.kind}")
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            # Its own session: the group id is the master's pid, so this reaches only the server.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def http_request(url, method="GET", body=None, token=None, timeout=10):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (loopback)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.loads(error.read() or b"null")
        except ValueError:
            return error.code, None


def login(base_url, username, password):
    status, body = http_request(
        base_url + "/api/v1/user/login",
        method="POST",
        body={"username": username, "password": password},
        timeout=30,
    )
    token = ((body or {}).get("data") or {}).get("accessToken") if status == 200 else None
    if not token:
        message = (body or {}).get("message") if isinstance(body, dict) else body
        raise BenchError(f"login as {username} failed: HTTP {status} {message}")
    return token


# --- step 4: load -----------------------------------------------------------------------------


def wrk(base_url, paths_file, method, token, *, connections, threads, seconds, latency=True):
    command = [
        "taskset",
        "-c",
        str(LOAD_CPU),
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
    ]
    if latency:
        command.append("--latency")
    command += [base_url, "--", method, token or "-", str(paths_file), str(threads)]
    result = subprocess.run(  # noqa: S603 (fixed argv, no shell)
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if result.returncode:
        raise BenchError(f"wrk failed (exit {result.returncode}): {result.stderr.strip()}")
    return parse_wrk_output(result.stdout)


def preflight(base_url, endpoint, paths, token):
    """One request before the load: an endpoint that errors is reported, not benchmarked."""
    status, body = http_request(base_url + paths[0], method=endpoint.method, token=token)
    if 200 <= status < 300:
        return None
    message = body.get("message") if isinstance(body, dict) else ""
    return f"HTTP {status} {message}".strip()


def measure(args, server, sampler, endpoint, paths, token):
    paths_file = VAR / f"paths-{endpoint.key}.txt"
    paths_file.write_text("\n".join(paths) + "\n")
    load = {"connections": args.connections, "threads": min(args.threads, args.connections)}
    log(f"{endpoint.key}: warm-up {args.warmup:g} s")
    wrk(server.base_url, paths_file, endpoint.method, token, seconds=args.warmup, **load)
    passes, cpu_shares, per_cpu_second = [], [], []
    for number in range(1, args.passes + 1):
        cpu_before, started = tree_cpu_seconds(server.pid), time.monotonic()
        with sampler.measuring():
            result = wrk(
                server.base_url, paths_file, endpoint.method, token, seconds=args.duration, **load
            )
        cpu_used = tree_cpu_seconds(server.pid) - cpu_before
        cpu_shares.append(cpu_used / (time.monotonic() - started))
        per_cpu_second.append(result.requests / cpu_used if cpu_used else None)
        passes.append(result)
        log(
            f"{endpoint.key}: pass {number}: {result.requests_per_sec:.1f} req/s, "
            f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, failures {result.failures}, "
            f"server CPU {cpu_shares[-1]:.0%} of a core"
        )
    single = wrk(
        server.base_url,
        paths_file,
        endpoint.method,
        token,
        seconds=args.single,
        connections=1,
        threads=1,
    )
    log(f"{endpoint.key}: single connection p50 {single.p50_ms:.2f} ms")
    row = summarise_passes(passes)
    row.update(
        server_cpu_share=median(cpu_shares),
        requests_per_server_cpu_second=median(per_cpu_second),
        single_p50_ms=single.p50_ms,
        single_requests_per_sec=single.requests_per_sec,
        single_failures=single.failures,
    )
    return row


def measure_idle(args, server, plan, tokens):
    """Memory at idle after warm-up: one second of load on every endpoint (so that every worker
    has imported and run every code path measured), then a second without traffic."""
    for key, paths in plan.items():
        endpoint = ENDPOINTS_BY_KEY[key]
        paths_file = VAR / f"paths-{key}.txt"
        paths_file.write_text("\n".join(paths) + "\n")
        wrk(
            server.base_url,
            paths_file,
            endpoint.method,
            tokens[endpoint.caller],
            connections=args.connections,
            threads=min(args.threads, args.connections),
            seconds=1,
        )
    time.sleep(1)
    rss_kb, pss_kb, pids = tree_memory_kb(server.pid)
    return {"idle_mb": rss_kb / 1024, "idle_pss_mb": pss_kb / 1024, "processes": len(pids)}


# --- the run ----------------------------------------------------------------------------------


def machine_description():
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gb = 0.0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = int(line.split()[1]) / 1024 / 1024
    return (
        f"{os.cpu_count()} vCPU {cpu}, {memory_gb:.0f} GB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def postgres_version(database_url):
    import psycopg

    with psycopg.connect(database_url, connect_timeout=5) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def run(args):
    require_tools(args.server)
    pin_to_cpu(LOAD_CPU)
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    if urllib.parse.urlsplit(database_url).hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise BenchError("BENCH_DATABASE_URL must point at a loopback PostgreSQL")
    port = free_port()
    env = server_env(database_url, secrets.token_urlsafe(64), port)
    summary = prepare_data(args, database_url, env)
    if args.prepare_only:
        log("data set ready (--prepare-only)")
        return 0
    load_before = os.getloadavg()
    if load_before[0] > 1.5:
        log(
            f"WARNING: load average {load_before[0]:.1f} before the run: other work shares these "
            "CPUs, the figures will be lower than on an idle machine"
        )

    facts = django_side(
        env, "facts", "--summary", str(seed_files(database_url)[1]), "--ids", str(args.ids)
    )
    if not facts["video_ids"]:
        raise BenchError("the data set has no published videos to request")
    server = Server(
        env, args.workers, args.worker_threads, kind=args.server, preload=not args.no_preload
    )
    results, rss, queries = {}, {}, {}
    try:
        server.start()
        tokens = {
            "viewer": login(server.base_url, facts["viewer"], facts["password"]),
            "channel": login(server.base_url, facts["big_channel"], facts["password"]),
        }
        context = dict(facts, tokens=tokens, base_url=server.base_url)
        (VAR / "context.json").write_text(json.dumps(context, indent=2) + "\n")

        plan = {}
        for key in args.endpoint_keys:
            endpoint = ENDPOINTS_BY_KEY[key]
            paths = expand_paths(endpoint.path, facts)
            problem = preflight(server.base_url, endpoint, paths, tokens[endpoint.caller])
            if problem:
                log(f"{key}: skipped ({problem})")
                results[key] = {"skipped": problem}
            else:
                plan[key] = paths
        if plan:
            # Before the load: the first view of each id is then a counted view.
            queries = django_side(env, "queries", *plan)
        if plan:
            rss.update(measure_idle(args, server, plan, tokens))
        sampler = MemorySampler(server.pid)
        try:
            for key, paths in plan.items():
                endpoint = ENDPOINTS_BY_KEY[key]
                row = measure(args, server, sampler, endpoint, paths, tokens[endpoint.caller])
                counted = queries.get(key, {})
                row.update(
                    sql=max(counted.get("counts") or [0]) if counted else None,
                    sql_counts=counted.get("counts"),
                    sql_statuses=counted.get("statuses"),
                    sql_page_size_probe=counted.get("page_size_probe"),
                    sql_statements=counted.get("sql"),
                )
                results[key] = row
        finally:
            sampler.stop()
        time.sleep(1)
        end_rss_kb, _, _ = tree_memory_kb(server.pid)
        rss.update(
            peak_mb=sampler.peak_rss_kb / 1024,
            peak_pss_mb=sampler.peak_pss_kb / 1024,
            end_idle_mb=end_rss_kb / 1024,
            workers_seen=len(sampler.pids_seen - {server.pid}),
        )
    finally:
        server.stop()

    ordered = {key: results[key] for key in args.endpoint_keys if key in results}
    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_description(),
        "PostgreSQL": postgres_version(database_url),
        "data": f"seed_demo --scale {args.scale:g} --seed {args.seed}",
        "server": f"{args.server} {args.workers} workers x {args.worker_threads} threads on CPU "
        f"{SERVER_CPU}" + (", no preload" if args.no_preload and args.server == "gunicorn" else ""),
        "load average (1 min) before/after": f"{load_before[0]:.2f}/{os.getloadavg()[0]:.2f}",
        "load": f"wrk -t{args.threads} -c{args.connections} on CPU {LOAD_CPU}, "
        f"{args.warmup:g} s warm-up, {args.passes} x {args.duration:g} s (median), "
        f"1-connection {args.single:g} s",
    }
    table = render_table(ordered, rss, meta)
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    (output / "latest.md").write_text(table)
    (output / "latest.json").write_text(
        json.dumps(
            {
                "meta": meta,
                "rss": rss,
                "results": ordered,
                "facts": _public(facts),
                "seed_summary": summary,
            },
            indent=2,
        )
        + "\n"
    )
    print(table)
    log(f"written to {output / 'latest.md'} and {output / 'latest.json'}")
    failures = any(
        row.get("skipped")
        or row.get("non_2xx")
        or row.get("socket_errors")
        or row.get("single_failures")
        for row in ordered.values()
    )
    return 1 if failures else 0


def _public(facts):
    return {key: value for key, value in facts.items() if key not in {"password", "like_ids"}} | {
        "video_ids": len(facts["video_ids"]),
        "like_ids": len(facts["like_ids"]),
    }


def main(argv=None):
    args = parse_args(argv)

    def _terminate(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    try:
        return run(args)
    except KeyboardInterrupt:
        log("interrupted; the server was stopped")
        return 130
    except (BenchError, WrkOutputError, subprocess.TimeoutExpired) as error:
        log(f"FAILED: {error}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
