"""Peak memory of a gunicorn worker while one large file arrives as a resumable upload (chunks
of ``--chunk-mb`` sent one after the other to ``PUT /api/v1/uploads/:uploadId``). Prints
figures; it is not a test.

    .venv/bin/python bench/upload_session_memory.py [--size-mb 1024] [--chunk-mb 64]
                                                    [--storage local|cloudinary|both]

- ``local``: the chunks go to the part file under MEDIA_ROOT.
- ``cloudinary``: the chunks are staged part by part and passed on to the fake Cloudinary, which
  runs in a process of its own (its copy of the file is not counted).

Each run: gunicorn with one worker (the project's gunicorn.conf.py otherwise), SQLite, a user
made for the run, a warm-up upload of 1 MB first so that imports and connection pools are not
counted. Growth is the worker's peak resident set (VmHWM, reset just before the upload) minus its
resident set at that moment, as bench/upload_memory.py measures it. The file is sparse (a real
MP4 header, then a hole) and is streamed from disk: this script never holds a chunk in memory
either. Linux only; stdlib only.
"""

import argparse
import hashlib
import http.client
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from upload_memory import (
    MB,
    PYTHON,
    REPO,
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
SEND_BLOCK = MB


class FileSection(io.RawIOBase):
    """``length`` bytes of a file from ``start``, read a block at a time."""

    def __init__(self, path, start, length):
        self._file = path.open("rb")
        self._file.seek(start)
        self._left = length

    def readable(self):
        return True

    def readinto(self, buffer):
        if self._left <= 0:
            return 0
        view = memoryview(buffer)[: min(len(buffer), self._left)]
        count = self._file.readinto(view)
        self._left -= count
        return count

    def close(self):
        self._file.close()
        super().close()


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


def upload(port, token, path, chunk_bytes):
    """Send ``path`` as a resumable upload; returns the upload's id and the seconds it took."""
    size = path.stat().st_size
    body = json.dumps({"filename": path.name, "size": size, "contentType": "video/mp4"}).encode()
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
    upload_id = answer["data"]["uploadId"]
    started, offset = time.monotonic(), 0
    while offset < size:
        length = min(chunk_bytes, size - offset)
        section = FileSection(path, offset, length)
        status, answer = call(
            port,
            "PUT",
            f"/api/v1/uploads/{upload_id}",
            token,
            section,
            {
                "Content-Type": "application/octet-stream",
                "Content-Range": f"bytes {offset}-{offset + length - 1}/{size}",
            },
            length,
        )
        section.close()
        if status not in {200, 308}:
            raise SystemExit(f"PUT at {offset} answered {status}: {answer}")
        offset = answer["data"]["offset"]
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
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], env=env, cwd=REPO, check=True
    )
    token = subprocess.run(  # noqa: S603
        [PYTHON, str(REPO / "bench" / "upload_memory.py"), "_token"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    try:
        with one_worker(env, lambda port: upload(port, token, warm_up, chunk_mb * MB)) as (
            port,
            worker,
        ):
            baseline = rss_mb(worker)
            reset_peak(worker)
            upload_id, seconds = upload(port, token, video, chunk_mb * MB)
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
    verdict = "OK" if growth <= TARGET_GROWTH_MB else "OVER TARGET"
    print(
        f"{storage:<10} {size_mb} MB in {chunk_mb} MB chunks: RSS {baseline:.1f} MB before, peak "
        f"{peak:.1f} MB -> growth {growth:.1f} MB (target <= {TARGET_GROWTH_MB} MB: {verdict}); "
        f"{seconds:.1f} s; byte-identical: {identical}; staged bytes left: {left}"
    )
    return growth <= TARGET_GROWTH_MB and identical


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="file size (default 1024)")
    parser.add_argument("--chunk-mb", type=int, default=64, help="chunk size (default 64)")
    parser.add_argument("--storage", choices=["local", "cloudinary", "both"], default="both")
    args = parser.parse_args()
    within = True
    for storage in ["local", "cloudinary"] if args.storage == "both" else [args.storage]:
        workdir = Path(tempfile.mkdtemp(prefix="viztube-session-bench-"))
        try:
            within &= run(storage, args.size_mb, args.chunk_mb, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
