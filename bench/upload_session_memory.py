"""Peak memory of a gunicorn worker, and the throughput through loopback, while one large file
arrives as a resumable upload (chunks of ``--chunk-mb`` sent one after the other to
``PUT /api/v1/uploads/:uploadId``). Prints figures; it is not a test.

    .venv/bin/python bench/upload_session_memory.py [--size-mb 2048] [--chunk-mb 64]
                                                    [--storage local|cloudinary|both] [--runs N]

- ``local``: the chunks go to the part file under MEDIA_ROOT.
- ``cloudinary``: the chunks are staged part by part and passed on to the fake Cloudinary, which
  runs in a process of its own (its copy of the file is not counted).

Each run: gunicorn with one worker (the project's gunicorn.conf.py otherwise), SQLite, a user
made for the run, a warm-up upload of 1 MB first so that imports and connection pools are not
counted. Growth is the worker's peak resident set (VmHWM, reset just before the upload) minus its
resident set at that moment, as bench/upload_memory.py measures it. Target: growth <= 50 MB.

Throughput is the file's size over the wall time of its chunk PUTs (from the first PUT sent to
the last answer read; the POST that opens the session is not counted), in MB/s with MB = 2**20
bytes as everywhere here; beside it, the CPU seconds (user + system) of the worker and of the
client over the same stretch, which other work on the machine moves less than the wall time.
Target: >= 200 MB/s with local storage. With Cloudinary the figure is reported only: the fake, a
Python test server, takes the parts more slowly than the worker sends them, so it measures the
fake.

The file is sparse (a real MP4 header, then a hole). The client sends it with sendfile(2), never
holding a chunk in memory nor copying it through Python: it shares the machine's two CPUs with
the server, and the less it takes, the more the figure is the server's. ``--runs`` repeats each
measurement (a fresh server each time) and prints the range. Linux only; stdlib only.
"""

import argparse
import hashlib
import http.client
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.procs import tree_cpu_seconds  # noqa: E402
from bench.upload_memory import (  # noqa: E402
    MB,
    PYTHON,
    django_env,
    make_video,
    one_worker,
    peak_mb,
    reset_peak,
    rss_mb,
    start_fake,
)

# What a worker may grow by, whatever the file's or the chunk's size.
TARGET_GROWTH_MB = 50
# Through loopback, on the machine the server runs on.
TARGET_THROUGHPUT_MB_S = 200
SEND_BLOCK = MB


def send_file_section(sock, file, offset, length, *, rate=None, stop=None, sent=None):
    """Send ``length`` bytes of ``file`` from ``offset`` with sendfile(2): the client copies
    nothing through Python, so that what the benchmark measures is the server's side (both share
    the machine's CPUs). ``rate`` (bytes per second) paces the sending, as a slow network would;
    ``stop`` (a ``threading.Event``) ends it early; ``sent(count)`` is told of every piece sent.
    Returns the bytes sent."""
    block = SEND_BLOCK if rate is None else max(1024, min(SEND_BLOCK, rate // 20))
    started, done = time.monotonic(), 0
    while done < length:
        if stop is not None and stop.is_set():
            break
        count = sock.sendfile(file, offset + done, min(block, length - done))
        done += count
        if sent is not None:
            sent(count)
        ahead = 0 if rate is None else started + done / rate - time.monotonic()
        if ahead > 0:
            if stop is None:
                time.sleep(ahead)
            elif stop.wait(ahead):
                break
    return done


def call(port, method, path, token, body=None, headers=None, length=0):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600, blocksize=SEND_BLOCK)
    connection.request(
        method,
        path,
        body=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Length": str(length),
            **(headers or {}),
        },
    )
    response = connection.getresponse()
    answer = json.loads(response.read())
    connection.close()
    return response.status, answer


def start_upload(port, token, size, filename="bench.mp4"):
    """Open a resumable upload of ``size`` bytes; returns its id."""
    body = json.dumps({"filename": filename, "size": size, "contentType": "video/mp4"}).encode()
    status, answer = call(
        port,
        "POST",
        "/api/v1/uploads",
        token,
        body,
        {"Content-Type": "application/json"},
        len(body),
    )
    if status != 201:
        raise SystemExit(f"POST /api/v1/uploads answered {status}: {answer}")
    return answer["data"]["uploadId"]


def send_chunk(port, token, upload_id, path, offset, length, size, connection=None, **pacing):
    """PUT ``length`` bytes of ``path`` at ``offset``; returns the upload's offset after it.
    ``connection``: an ``HTTPConnection`` to send it on (closed after), so that another thread
    can cut it; ``pacing``: ``rate``, ``stop`` and ``sent`` of ``send_file_section``. With
    ``stop`` set midway the request is abandoned (its connection closed) and None returned, as
    when a client's connection drops."""
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        connection.putrequest("PUT", f"/api/v1/uploads/{upload_id}", skip_accept_encoding=True)
        for name, value in {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/octet-stream",
            "Content-Length": str(length),
            "Content-Range": f"bytes {offset}-{offset + length - 1}/{size}",
        }.items():
            connection.putheader(name, value)
        connection.endheaders()
        with path.open("rb") as file:
            sent = send_file_section(connection.sock, file, offset, length, **pacing)
        if sent < length:
            return None
        response = connection.getresponse()
        answer = json.loads(response.read())
    finally:
        connection.close()
    if response.status not in {200, 308}:
        raise SystemExit(f"PUT at {offset} answered {response.status}: {answer}")
    return answer["data"]["offset"]


def upload(port, token, path, chunk_bytes):
    """Send ``path`` as a resumable upload; returns the upload's id and the seconds its chunk
    PUTs took."""
    size = path.stat().st_size
    upload_id = start_upload(port, token, size, path.name)
    started, offset = time.monotonic(), 0
    while offset < size:
        offset = send_chunk(
            port, token, upload_id, path, offset, min(chunk_bytes, size - offset), size
        )
    return upload_id, time.monotonic() - started


def sha256_of(read_blocks):
    digest = hashlib.sha256()
    for block in read_blocks:
        digest.update(block)
    return digest.hexdigest()


def file_blocks(path):
    with path.open("rb") as file:
        while block := file.read(MB):
            yield block


def run(storage, size_mb, chunk_mb, workdir):
    video = workdir / "bench.mp4"
    warm_up = workdir / "warm-up.mp4"
    make_video(video, size_mb * MB)
    make_video(warm_up, MB)
    fake, cloudinary_url = (None, "")
    if storage == "cloudinary":
        fake, cloudinary_url = start_fake(workdir)
    env = django_env(workdir, cloudinary_url, 16)
    env.update({"VIDEO_MAX_UPLOAD_MB": str(size_mb + 16), "UPLOAD_SESSIONS_MAX": "10"})
    (workdir / "uploads").mkdir(exist_ok=True)
    subprocess.run(  # noqa: S603
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
        env=env,
        cwd=REPO,
        check=True,
        timeout=300,
    )
    token = subprocess.run(  # noqa: S603
        [PYTHON, str(REPO / "bench" / "upload_memory.py"), "_token"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.strip()
    try:
        with one_worker(
            env, lambda port: upload(port, token, warm_up, chunk_mb * MB), "--log-level=warning"
        ) as (port, worker):
            baseline = rss_mb(worker)
            reset_peak(worker)
            cpu_before, client_before = tree_cpu_seconds(worker), _own_cpu_seconds()
            upload_id, seconds = upload(port, token, video, chunk_mb * MB)
            cpu_seconds = tree_cpu_seconds(worker) - cpu_before
            client_seconds = _own_cpu_seconds() - client_before
            peak = peak_mb(worker)
    finally:
        if fake is not None:
            fake.terminate()
            fake.wait(timeout=10)
    if storage == "local":
        stored = workdir / "media" / "uploads" / f"{upload_id}.part"
        identical = sha256_of(file_blocks(stored)) == sha256_of(file_blocks(video))
        left = "none"
    else:
        # The fake keeps what it holds in a temp folder of its own (TMPDIR=workdir): the asset
        # is the largest file there.
        assets = sorted(
            (p for p in workdir.glob("fake-cloudinary-*/*") if p.is_file()),
            key=lambda p: p.stat().st_size,
        )
        identical = bool(assets) and sha256_of(file_blocks(assets[-1])) == sha256_of(
            file_blocks(video)
        )
        staging = workdir / "media" / "uploads"
        left = sorted(p.name for p in staging.rglob("*") if p.is_file()) if staging.exists() else []
        left = left or "none"
    growth = peak - baseline
    throughput = size_mb / seconds
    if storage == "local":
        fast_enough = throughput >= TARGET_THROUGHPUT_MB_S
        rate_verdict = f"target >= {TARGET_THROUGHPUT_MB_S} MB/s: {_verdict(fast_enough)}"
    else:
        # The fake Cloudinary (a Python test server) takes the parts more slowly than the worker
        # sends them: the figure says how fast the fake is, not the code under test.
        fast_enough, rate_verdict = True, "no target: the fake Cloudinary sets the pace"
    print(
        f"{storage:<10} {size_mb} MB in {chunk_mb} MB chunks: RSS {baseline:.1f} MB before, peak "
        f"{peak:.1f} MB -> growth {growth:.1f} MB (target <= {TARGET_GROWTH_MB} MB: "
        f"{_verdict(growth <= TARGET_GROWTH_MB)}); PUTs {seconds:.1f} s -> {throughput:.0f} MB/s "
        f"({rate_verdict}); CPU: worker {cpu_seconds:.1f} s, client {client_seconds:.1f} s; "
        f"byte-identical: {identical}; "
        f"staged bytes left: {left}",
        flush=True,
    )
    return {
        "growth": growth,
        "throughput": throughput,
        "within": growth <= TARGET_GROWTH_MB and fast_enough and identical,
    }


def _own_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _verdict(met):
    return "OK" if met else "MISSED"


def summary(storage, results):
    """One line with the range of several runs of the same measurement."""
    growths = [r["growth"] for r in results]
    rates = [r["throughput"] for r in results]
    line = (
        f"{storage:<10} {len(results)} runs: growth {min(growths):.1f}-{max(growths):.1f} MB "
        f"(target met in {sum(g <= TARGET_GROWTH_MB for g in growths)}/{len(growths)}), "
        f"throughput {min(rates):.0f}-{max(rates):.0f} MB/s, median {statistics.median(rates):.0f}"
    )
    if storage == "local":
        met = sum(r >= TARGET_THROUGHPUT_MB_S for r in rates)
        line += f" (target met in {met}/{len(rates)})"
    print(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=2048, help="file size (default 2048)")
    parser.add_argument("--chunk-mb", type=int, default=64, help="chunk size (default 64)")
    parser.add_argument("--storage", choices=["local", "cloudinary", "both"], default="both")
    parser.add_argument("--runs", type=int, default=1, help="runs of each storage (default 1)")
    args = parser.parse_args()
    within = True
    results = {}
    for _ in range(args.runs):
        for storage in ["local", "cloudinary"] if args.storage == "both" else [args.storage]:
            workdir = Path(tempfile.mkdtemp(prefix="viztube-session-bench-"))
            try:
                figures = run(storage, args.size_mb, args.chunk_mb, workdir)
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
            within &= figures["within"]
            results.setdefault(storage, []).append(figures)
    if args.runs > 1:
        for storage, figures in results.items():
            summary(storage, figures)
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
