"""GET /api/v1/videos/:id latency with and without 16 resumable uploads in progress (target: no
more than 20 % slower while they run). Prints figures; it is not a test.

    .venv/bin/python bench/upload_concurrency.py [--pace slow|fast|both] [--duration 15]
                                                 [--connections 1,16] [--uploaders 16]
                                                 [--repeat 1] [--threads N]
                                                 [--chunks-in-flight N]

The server is gunicorn exactly as in production (gunicorn.conf.py's workers and threads,
UPLOAD_CHUNKS_IN_FLIGHT as the settings say, DEBUG off, PostgreSQL, Redis; ``--workers``,
``--threads`` and ``--chunks-in-flight`` change them) on local media, pinned to CPU 0 as in
bench/run.py; wrk and the uploading clients share CPU 1. The database is one of its own
(``viztube_uploadbench_bench``, or ``UPLOAD_BENCH_DATABASE_URL``), created, migrated and seeded
(``seed_demo --scale 0.01``: 100 users, 1,000 videos) on the first run and reused after; the
cache is Redis database 9 (``UPLOAD_BENCH_REDIS_URL``), emptied at the start. Rate limits are
raised so that throttling is not what is measured.

For each pace, two measurements one after the other, each ``--duration`` seconds of wrk per
connection count (``--connections``, GET /videos/:id as a signed-in viewer over ``--ids``
published videos, each viewed once beforehand so that both measure the same, de-duplicated
view):

- *without*: nothing else happens on the server;
- *with*: meanwhile ``--uploaders`` clients, each signed in as a user of its own, each keep a
  resumable upload in progress, sending 64 MB chunks one after the other
  (``POST /uploads`` then ``PUT`` with ``Content-Range``): every client has sent its first
  chunk before wrk starts, and keeps trying until it ends. A chunk the server refuses (``503``,
  its cap on chunks in flight) is sent again as docs/api.md tells clients to: after
  ``Retry-After``, from the offset the server reports; so is one whose connection ended
  without an answer, after 5 s.

Paces of the uploading clients:

- ``slow``: 1 MiB/s each (``--slow-kib-s``), an ordinary home or mobile uplink: a 64 MB chunk
  takes about a minute, so each client holds one request open for the whole measurement, as
  real slow clients do; the disk sees 16 MiB/s in all.
- ``fast``: as fast as loopback carries them: the server's CPU and disk are what limit them.

Reported: p50 and p99 of each run, the ratio with/without of p50, and the verdict (ratio <= 1.2
and no request failed or timed out); the bytes the uploads moved meanwhile, the chunks stored,
refused and cut; the server's resident set (sum of VmRSS) after start-up, after the first GETs
and at its peak. On a shared machine one pair of measurements moves with the other work:
``--repeat N`` makes N pairs per pace, alternately, and the median of their ratios decides. Each upload is
cancelled (``DELETE``) at the end, before its last chunk, and the script checks that no byte of
it is left under MEDIA_ROOT. Every step has a time limit, the whole run too (``--time-limit``);
the server and the files go whatever happens. Linux only; stdlib only (psycopg from the
project's venv to create the database).
"""

import argparse
import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.procs import pin_to_cpu, tree_cpu_seconds, tree_memory_kb  # noqa: E402
from bench.run import (  # noqa: E402
    LOAD_CPU,
    SERVER_CPU,
    BenchError,
    Server,
    django_side,
    ensure_database,
    http_request,
    log,
    machine_description,
    manage,
    postgres_version,
    require_tools,
    server_env,
    wrk,
)
from bench.upload_memory import MB, free_port, make_video  # noqa: E402
from bench.upload_session_memory import call, send_file_section, start_upload  # noqa: E402
from bench.wrk_output import WrkOutputError  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/viztube_uploadbench_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"
# "No more than 20 % slower".
TARGET_RATIO = 1.2
CHUNK_BYTES = 64 * MB
# Each upload announces this much and never sends its last chunk: it stays in progress (a
# completed upload would be a different thing to cancel), and it fits VIDEO_MAX_UPLOAD_MB.
UPLOAD_BYTES = 2000 * MB
SEED_SCALE = "0.01"


# What a client waits after a chunk was cut without an answer, as the client example of
# docs/api.md does after a dropped connection.
DROPPED_WAIT_SECONDS = 5


def put_chunk(connection, token, upload_id, video, offset, length, *, rate, stop, sent):
    """PUT ``length`` bytes of ``video`` at ``offset`` on ``connection``, with sendfile(2);
    ``(status, answer, retry_after)``, status 0 when the connection ended without an answer,
    or None when ``stop`` ended the sending midway.

    A server that refuses the chunk answers before its body is sent and stops reading it: the
    send then fails (reset, broken pipe), and the answer, already received, is read after it, as
    HTTP clients that read early answers do."""
    connection.putrequest("PUT", f"/api/v1/uploads/{upload_id}", skip_accept_encoding=True)
    for name, value in {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/octet-stream",
        "Content-Length": str(length),
        "Content-Range": f"bytes {offset}-{offset + length - 1}/{UPLOAD_BYTES}",
    }.items():
        connection.putheader(name, value)
    connection.endheaders()
    cut_by_server = False
    with video.open("rb") as file:
        try:
            done = send_file_section(
                connection.sock, file, offset, length, rate=rate, stop=stop, sent=sent
            )
        except OSError:
            if stop.is_set():
                return None
            cut_by_server, done = True, length
    if done < length:
        return None
    try:
        response = connection.getresponse()
        answer = json.loads(response.read())
    except (OSError, http.client.HTTPException, ValueError):
        if stop.is_set():
            return None
        if cut_by_server:
            return 0, None, None
        raise
    retry_after = response.getheader("Retry-After")
    return response.status, answer, int(retry_after) if retry_after else None


class Uploader(threading.Thread):
    """One client keeping a resumable upload in progress until ``stop``: opens it, sends chunks
    at its pace one after the other, opens a new one rather than send the last chunk of a file
    (which would complete it); at the end its connection is cut mid-chunk (``cut``), as a
    dropped network would, and the upload cancelled.

    A chunk answered ``503`` (the server's cap on chunks in flight) is sent again as docs/api.md
    says: after ``Retry-After`` seconds, from the offset the server reports (a query with an
    empty body). A chunk whose connection ended without an answer is treated the same way,
    after ``DROPPED_WAIT_SECONDS``."""

    def __init__(self, number, port, token, video, rate, stop):
        super().__init__(name=f"uploader-{number}", daemon=True)
        self.port, self.token, self.video, self.rate, self.stop = port, token, video, rate, stop
        self.sent = 0
        self.chunks = 0
        self.refused = 0
        self.dropped = 0
        self.sending = threading.Event()
        self.error = None
        self._connection = None

    def _count(self, count):
        self.sent += count

    def cut(self):
        """Called from another thread once ``stop`` is set: wakes up a send or a wait for the
        answer blocked on a server that does not read (every thread busy)."""
        connection = self._connection
        sock = connection.sock if connection is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def run(self):
        try:
            while not self.stop.is_set():
                upload_id = start_upload(self.port, self.token, UPLOAD_BYTES)
                try:
                    self._send(upload_id)
                finally:
                    status, answer = call(
                        self.port, "DELETE", f"/api/v1/uploads/{upload_id}", self.token
                    )
                    if status != 200:
                        raise BenchError(f"DELETE /uploads/{upload_id} answered {status}: {answer}")
        except BaseException as error:  # SystemExit from the shared helpers too
            self.error = f"{type(error).__name__}: {error}"

    def _send(self, upload_id):
        offset = 0
        while not self.stop.is_set() and offset + CHUNK_BYTES < UPLOAD_BYTES:
            self._connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
            self.sending.set()
            try:
                result = put_chunk(
                    self._connection,
                    self.token,
                    upload_id,
                    self.video,
                    offset,
                    CHUNK_BYTES,
                    rate=self.rate,
                    stop=self.stop,
                    sent=self._count,
                )
            except OSError:
                if self.stop.is_set():
                    return  # cut by ``cut``
                raise
            finally:
                self._connection.close()
            if result is None:
                return
            status, answer, retry_after = result
            if status in {200, 308}:
                offset = answer["data"]["offset"]
                self.chunks += 1
                continue
            if status == 503 and retry_after:
                self.refused += 1
                wait = retry_after
            elif status == 0:
                self.dropped += 1
                wait = DROPPED_WAIT_SECONDS
            else:
                raise BenchError(f"PUT at {offset} answered {status}: {answer}")
            if self.stop.wait(wait):
                return
            status, answer = call(
                self.port,
                "PUT",
                f"/api/v1/uploads/{upload_id}",
                self.token,
                headers={"Content-Range": f"bytes */{UPLOAD_BYTES}"},
            )
            if status != 308:
                raise BenchError(f"the offset query answered {status}: {answer}")
            if answer["data"]["offset"] != offset:
                raise BenchError(f"a refused chunk moved the offset: {offset} -> {answer}")


@contextlib.contextmanager
def uploads_in_progress(args, port, tokens, video, rate):
    """``args.uploaders`` clients sending; yields once every one has sent its first chunk on
    its way and ``args.settle`` seconds have passed; stops them after. Yields a function that
    tells the bytes sent, the chunks stored, refused and dropped so far."""
    stop = threading.Event()
    clients = [
        Uploader(number, port, token, video, rate, stop) for number, token in enumerate(tokens)
    ]
    for client in clients:
        client.start()
    try:
        deadline = time.monotonic() + 60
        for client in clients:
            if not client.sending.wait(max(0, deadline - time.monotonic())):
                raise BenchError(
                    f"{client.name} had no chunk on its way after 60 s: {client.error}"
                )
        time.sleep(args.settle)
        failed = [f"{c.name}: {c.error}" for c in clients if c.error]
        if failed:
            raise BenchError("uploads failed: " + "; ".join(failed))
        yield lambda: tuple(
            sum(getattr(c, name) for c in clients)
            for name in ("sent", "chunks", "refused", "dropped")
        )
        failed = [f"{c.name}: {c.error}" for c in clients if c.error]
        if failed:
            raise BenchError("uploads failed meanwhile: " + "; ".join(failed))
    finally:
        stop.set()
        for client in clients:
            client.cut()
        for client in clients:
            client.join(timeout=60)
        stuck = [client.name for client in clients if client.is_alive()]
        if stuck:
            log(f"WARNING: {len(stuck)} uploaders did not stop within 60 s")


def measure(args, server, paths_file, token, label):
    """wrk at every connection count; returns ``{connections: WrkResult}``."""
    results = {}
    for connections in args.connections:
        result = wrk(
            server.base_url,
            paths_file,
            "GET",
            token,
            connections=connections,
            threads=min(2, connections),
            seconds=args.duration,
        )
        log(
            f"{label}, {connections} connection(s): {result.requests_per_sec:.1f} req/s, "
            f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
            f"failures {result.failures}, timeouts {result.timeouts}"
        )
        results[connections] = result
    return results


def _forget_uploads(database_url):
    """Upload rows that a killed run left behind (its files went with its temp folder): they
    would count against UPLOAD_SESSIONS_MAX. Only in this benchmark's own database."""
    import psycopg  # from the project's venv

    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute("DELETE FROM media_uploadsession")


def _prepare(args, env):
    ensure_database(args.database_url)
    manage(env, "migrate", "--noinput", "-v", "0", timeout=900)
    # --if-empty: the data set is loaded once and reused (the benchmark adds views to it, and
    # uploads that it cancels).
    manage(
        env,
        "seed_demo",
        "--scale",
        SEED_SCALE,
        "--seed",
        "42",
        "--if-empty",
        "--no-progress",
        timeout=900,
    )
    _forget_uploads(args.database_url)
    # No seed summary (a reused data set has none): facts reads the viewer and the ids from the
    # database.
    facts = django_side(env, "facts", "--summary", os.devnull, "--ids", str(args.ids), timeout=120)
    if not facts["video_ids"]:
        raise BenchError("the data set has no published videos to request")
    tokens = django_side(
        env,
        "tokens",
        "--count",
        str(args.uploaders),
        "--exclude",
        facts["viewer"],
        facts["big_channel"],
        timeout=120,
    )
    return facts, list(tokens.values())


def _server_env(args, workdir, port):
    env = server_env(args.database_url, secrets.token_urlsafe(64), port)
    env.update(
        REDIS_URL=args.redis_url,
        MEDIA_ROOT=str(workdir / "media"),
        FILE_UPLOAD_TEMP_DIR=str(workdir / "tmp"),
    )
    # Local media: the bytes of the uploads go to MEDIA_ROOT/uploads.
    env.pop("CLOUDINARY_URL", None)
    if args.chunks_in_flight is not None:
        env["UPLOAD_CHUNKS_IN_FLIGHT"] = str(args.chunks_in_flight)
    return env


def _ratio_line(label, connections, without, with_uploads):
    """Prints one pair's line; ``(met, ratio, failed)``."""
    ratio = with_uploads.p50_ms / without.p50_ms if with_uploads.requests else float("inf")
    # wrk leaves requests that timed out (10 s) or were still waiting when it stopped out of its
    # percentiles: a failure fails the target by itself, and so does a run without an answer.
    if not with_uploads.requests:
        note = ", not one answer"
    elif with_uploads.failures:
        note = f", {with_uploads.failures} failed or timed out after 10 s"
    else:
        note = ""
    met = ratio <= TARGET_RATIO and not note
    print(
        f"{label:<5} {connections:>2} conn: p50 {without.p50_ms:.1f} -> "
        f"{with_uploads.p50_ms:.1f} ms (x{ratio:.2f}), p99 {without.p99_ms:.1f} -> "
        f"{with_uploads.p99_ms:.1f} ms, {without.requests_per_sec:.1f} -> "
        f"{with_uploads.requests_per_sec:.1f} req/s{note}: {'OK' if met else 'MISSED'} "
        f"(target: p50 at most x{TARGET_RATIO})",
        flush=True,
    )
    return met, ratio, bool(note)


def _median_line(label, connections, pairs):
    """With ``--repeat``: the median of the pairs' ratios decides, and any failed request or
    phase without an answer fails it."""
    ratios = [ratio for _, ratio, _ in pairs]
    median = statistics.median(ratios)
    failed = any(failed for _, _, failed in pairs)
    met = median <= TARGET_RATIO and not failed
    print(
        f"{label:<5} {connections:>2} conn over {len(pairs)} pairs: p50 ratios "
        f"{', '.join(f'x{ratio:.2f}' for ratio in ratios)}; median x{median:.2f}"
        f"{', requests failed' if failed else ''}: {'OK' if met else 'MISSED'}",
        flush=True,
    )
    return met


def _overrides(args):
    given = [
        f"{name} {value}"
        for name, value in [
            ("workers", args.workers),
            ("threads", args.threads),
            ("UPLOAD_CHUNKS_IN_FLIGHT", args.chunks_in_flight),
        ]
        if value is not None
    ]
    return f" ({', '.join(given)})" if given else " (its defaults)"


class MemorySampler:
    """The gunicorn tree's resident set (sum of VmRSS, as ``make bench`` reports it): once
    after start-up, then its peak, sampled every half second until ``stop``."""

    def __init__(self):
        self.idle_mb = self.peak_mb = 0.0
        self.after_gets_mb = None
        self._stop = threading.Event()
        self._thread = None

    def start(self, pid):
        self.idle_mb = self.peak_mb = tree_memory_kb(pid)[0] / 1024
        self._thread = threading.Thread(target=self._sample, args=(pid,), daemon=True)
        self._thread.start()

    def now_mb(self, pid):
        return tree_memory_kb(pid)[0] / 1024

    def _sample(self, pid):
        while not self._stop.wait(0.5):
            self.peak_mb = max(self.peak_mb, tree_memory_kb(pid)[0] / 1024)

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def run(args, workdir):
    require_tools()
    pin_to_cpu(LOAD_CPU)
    if urllib.parse.urlsplit(args.database_url).hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise BenchError("the database must be a loopback PostgreSQL")
    port = free_port()
    env = _server_env(args, workdir, port)
    facts, uploader_tokens = _prepare(args, env)
    video = workdir / "upload.mp4"
    make_video(video, UPLOAD_BYTES)
    paths_file = workdir / "paths.txt"
    paths = [f"/api/v1/videos/{pk}" for pk in facts["video_ids"]]
    paths_file.write_text("\n".join(paths) + "\n")

    # Workers and threads as gunicorn.conf.py says (GUNICORN_* are not passed on), unless asked.
    server = Server(env, args.workers, args.threads, folder=workdir)
    within = True
    load_before = os.getloadavg()[0]
    memory = MemorySampler()
    try:
        server.start()
        memory.start(server.pid)
        login = http_request(
            server.base_url + "/api/v1/user/login",
            method="POST",
            body={"username": facts["viewer"], "password": facts["password"]},
            timeout=30,
        )
        viewer = ((login[1] or {}).get("data") or {}).get("accessToken")
        if not viewer:
            raise BenchError(f"login as the viewer failed: HTTP {login[0]}")
        # Every id once: both measurements then take the same (de-duplicated view) path.
        for path in paths:
            status, _ = http_request(server.base_url + path, token=viewer, timeout=10)
            if status != 200:
                raise BenchError(f"GET {path} answered {status}")
        log(f"warm-up {args.warmup:g} s")
        wrk(
            server.base_url,
            paths_file,
            "GET",
            viewer,
            connections=16,
            threads=2,
            seconds=args.warmup,
        )
        rates = {"slow": args.slow_kib_s * 1024, "fast": None}
        for pace in ["slow", "fast"] if args.pace == "both" else [args.pace]:
            pairs = {connections: [] for connections in args.connections}
            for _ in range(args.repeat):
                for connections, pair in _pair(
                    args,
                    server,
                    port,
                    paths_file,
                    viewer,
                    uploader_tokens,
                    video,
                    memory,
                    pace,
                    rates[pace],
                ).items():
                    pairs[connections].append(pair)
            if args.repeat > 1:
                for connections in args.connections:
                    within &= _median_line(pace, connections, pairs[connections])
            else:
                within &= all(met for runs in pairs.values() for met, _, _ in runs)
    finally:
        memory.stop()
        server.stop()
    print(
        f"server RSS (gunicorn master + workers, sum of VmRSS): {memory.idle_mb:.0f} MB "
        f"after start-up, {memory.after_gets_mb or 0:.0f} MB after the first GETs without "
        f"uploads, peak {memory.peak_mb:.0f} MB while measured",
        flush=True,
    )
    print(
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}; {machine_description()}; PostgreSQL "
        f"{postgres_version(args.database_url)}; gunicorn.conf.py{_overrides(args)} on CPU "
        f"{SERVER_CPU}, "
        f"wrk and the uploaders on CPU {LOAD_CPU}; load average (1 min) before/after "
        f"{load_before:.2f}/{os.getloadavg()[0]:.2f}"
    )
    left = (
        sorted(p.name for p in (workdir / "media" / "uploads").glob("*"))
        if (workdir / "media" / "uploads").exists()
        else []
    )
    print(f"upload bytes left under MEDIA_ROOT/uploads: {left or 'none'}")
    return 0 if within and not left else 1


def _pair(args, server, port, paths_file, viewer, tokens, video, memory, pace, rate):
    """One measurement without the uploads, then one with them; prints both and the ratio of
    each connection count. ``{connections: (met, ratio, failed)}``."""
    without = measure(args, server, paths_file, viewer, f"{pace}: without uploads")
    if memory.after_gets_mb is None:
        # The GETs alone have run: what `make bench` sees, give or take its endpoints.
        memory.after_gets_mb = memory.now_mb(server.pid)
    cpu_before = tree_cpu_seconds(server.pid)
    log(f"{pace}: starting {args.uploaders} uploaders")
    with uploads_in_progress(args, port, tokens, video, rate) as progress:
        before = progress()
        started = time.monotonic()
        with_uploads = measure(args, server, paths_file, viewer, f"{pace}: with uploads")
        seconds = time.monotonic() - started
        sent, chunks, refused, dropped = (
            after - first for after, first in zip(progress(), before, strict=True)
        )
    cpu = tree_cpu_seconds(server.pid) - cpu_before
    print(
        f"{pace}: {args.uploaders} uploads moved {sent / MB / seconds:.1f} MB/s in all "
        f"while wrk ran ({chunks} chunks of 64 MB completed, {refused} refused with "
        f"503, {dropped} cut without an answer; server CPU {cpu:.0f} s over the phase)",
        flush=True,
    )
    return {
        connections: _ratio_line(pace, connections, without[connections], with_uploads[connections])
        for connections in args.connections
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pace", choices=["slow", "fast", "both"], default="both")
    parser.add_argument("--duration", type=float, default=15, help="seconds of each wrk run")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of discarded warm-up")
    parser.add_argument("--settle", type=float, default=2, help="seconds after the uploads start")
    parser.add_argument(
        "--connections", default="1,16", help="wrk connection counts, comma-separated (1,16)"
    )
    parser.add_argument("--uploaders", type=int, default=16)
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="pairs (without, then with the uploads) per pace; over 1, their median ratio decides",
    )
    parser.add_argument("--workers", type=int, help="gunicorn workers (gunicorn.conf.py: 2)")
    parser.add_argument("--threads", type=int, help="threads a worker (gunicorn.conf.py's)")
    parser.add_argument(
        "--chunks-in-flight",
        type=int,
        help="UPLOAD_CHUNKS_IN_FLIGHT of the server (the settings' default; 0: no cap)",
    )
    parser.add_argument("--slow-kib-s", type=int, default=1024, help="slow pace, KiB/s a client")
    parser.add_argument("--ids", type=int, default=200, help="published videos requested")
    parser.add_argument("--time-limit", type=int, default=900, help="seconds for the whole run")
    parser.add_argument(
        "--database-url", default=os.environ.get("UPLOAD_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("UPLOAD_BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    )
    args = parser.parse_args(argv)
    args.connections = [int(value) for value in args.connections.split(",") if value.strip()]
    if not args.connections or min(args.connections) < 1 or args.duration <= 0:
        parser.error("--connections and --duration must be positive")
    return args


def main(argv=None):
    args = parse_args(argv)

    def _stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGALRM, _stop)
    signal.alarm(args.time_limit)
    workdir = Path(tempfile.mkdtemp(prefix="viztube-upload-concurrency-"))
    try:
        return run(args, workdir)
    except KeyboardInterrupt:
        log("interrupted (or over --time-limit); the server was stopped")
        return 130
    except (BenchError, WrkOutputError, subprocess.TimeoutExpired) as error:
        log(f"FAILED: {error}")
        return 2
    finally:
        signal.alarm(0)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
