"""Peak memory of a Django process while one large video is uploaded (target: at most 50 MB of
growth for a 500 MB video). Prints figures; it is not a test.

    .venv/bin/python bench/upload_memory.py [--size-mb 500] [--mode storage|api|both]
                                            [--chunk-mb N]

Two measurements, each in a fresh Django process, against the fake Cloudinary running in a process
of its own (so that its copy of the video is not counted):

- ``storage``: Django's multipart parsing of a streamed request body (``TemporaryFileUploadHandler``
  spooling the file to disk), then ``CloudinaryVideoStorage.save()`` (chunked ``upload_large``).
  ``--chunk-mb`` overrides ``CLOUDINARY_UPLOAD_CHUNK_BYTES`` here.
- ``api``: ``POST /api/v1/videos`` (title, description, video, thumbnail) on gunicorn with one
  sync worker, SQLite and a user made for the run: parsing, probing, both uploads, the row.

The video is the 6 KB sample MP4 followed by an MP4 ``free`` box that fills it up to the size asked
for; the file is sparse and every step streams it, so this script never holds it in memory.

Growth is the kernel's peak resident set (VmHWM, reset through /proc/PID/clear_refs just before
the upload) minus the resident set at that moment, both after a warm-up upload of the small sample
so that imports and connection pools are not counted. Linux only; stdlib only (no psutil).
"""

import argparse
import contextlib
import functools
import http.client
import io
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "tests" / "media" / "sample.mp4"
PYTHON = sys.executable
MB = 1024 * 1024
# The growth must not depend on the video's size: one fixed budget.
TARGET_GROWTH_MB = 50
BOUNDARY = "viztube-bench-" + uuid.uuid4().hex
STREAM_BLOCK = MB


# --- /proc ---------------------------------------------------------------------------------------


def _status_kb(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status has no {field}")


def reset_peak(pid):
    """Make VmHWM (peak RSS) start again from the current RSS (Linux >= 4.0)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def rss_mb(pid):
    return _status_kb(pid, "VmRSS") / 1024


def peak_mb(pid):
    return _status_kb(pid, "VmHWM") / 1024


# --- streamed bodies ----------------------------------------------------------------------------


def make_video(path, size):
    """Write a playable MP4 of ``size`` bytes: the sample plus one sparse ``free`` box."""
    head = SAMPLE.read_bytes()
    padding = size - len(head)
    if padding < 8 or padding >= 2**32:
        raise SystemExit(f"--size-mb must give between {len(head) + 8} bytes and 4 GB")
    with open(path, "wb") as out:
        out.write(head)
        out.write(struct.pack(">I", padding) + b"free")
        out.truncate(size)  # the rest is a hole: no disk blocks, no memory


class ConcatReader(io.RawIOBase):
    """Reads byte strings and files one after another, never more than asked for at once."""

    def __init__(self, parts):
        self._parts = [p if isinstance(p, Path) else bytes(p) for p in parts]
        self._current = None

    def readable(self):
        return True

    def readinto(self, buffer):
        while self._parts or self._current:
            if self._current is None:
                part = self._parts.pop(0)
                self._current = part.open("rb") if isinstance(part, Path) else io.BytesIO(part)
            count = self._current.readinto(buffer)
            if count:
                return count
            self._current.close()
            self._current = None
        return 0


def multipart(fields, files):
    """``(parts, length, content_type)`` of a multipart body whose file parts stay on disk."""
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    for name, (filename, content_type, source) in files.items():
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
        )
        parts.append(source)
        parts.append(b"\r\n")
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    length = sum(p.stat().st_size if isinstance(p, Path) else len(p) for p in parts)
    return parts, length, f"multipart/form-data; boundary={BOUNDARY}"


# --- the child processes ------------------------------------------------------------------------


def storage_child(video, chunk_bytes):
    """In a fresh Django process: parse a streamed multipart body, save the video; print JSON."""
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "viztube.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.files.storage import storages
    from django.core.handlers.wsgi import WSGIRequest

    from media.cloudinary_backends import upload_chunk_bytes

    if chunk_bytes:
        settings.CLOUDINARY_UPLOAD_CHUNK_BYTES = chunk_bytes
    storage = storages["videos"]

    def parse_and_save(path):
        parts, length, content_type = multipart(
            {"title": "bench"}, {"videoFile": ("bench.mp4", "video/mp4", path)}
        )
        request = WSGIRequest(
            {
                "REQUEST_METHOD": "POST",
                "PATH_INFO": "/",
                "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": "80",
                "wsgi.url_scheme": "http",
                "CONTENT_TYPE": content_type,
                "CONTENT_LENGTH": str(length),
                "wsgi.input": ConcatReader(parts),
            }
        )
        started = time.monotonic()
        upload = request.FILES["videoFile"]
        parsed = time.monotonic()
        # A fresh name each time, as the services give: the storage never overwrites an asset.
        name = storage.save(f"videos/{uuid.uuid4().hex}.mp4", upload)
        saved = time.monotonic()
        upload.close()
        return name, parsed - started, saved - parsed

    parse_and_save(SAMPLE)  # warm-up: imports, the SDK's connection pool
    pid = os.getpid()
    baseline = rss_mb(pid)
    reset_peak(pid)
    name, parse_seconds, save_seconds = parse_and_save(Path(video))
    print(
        json.dumps(
            {
                "baseline_mb": baseline,
                "peak_mb": peak_mb(pid),
                "parse_seconds": parse_seconds,
                "save_seconds": save_seconds,
                "stored_as": name,
                "chunk_bytes": upload_chunk_bytes(),
            }
        )
    )


def token_child():
    """In a Django process: make a user and print a Bearer token for it."""
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "viztube.settings")
    import django

    django.setup()
    from rest_framework_simplejwt.tokens import RefreshToken

    from tests.factories import UserFactory

    print(str(RefreshToken.for_user(UserFactory()).access_token))


# --- the orchestrator ---------------------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_fake(workdir):
    fake = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [PYTHON, "-m", "tests.fakes.cloudinary"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(workdir)},
    )
    return fake, fake.stdout.readline().strip()


def django_env(workdir, cloudinary_url, size_mb):
    return {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "CLOUDINARY_URL": cloudinary_url,
        "MEDIA_ROOT": str(workdir / "media"),
        "FILE_UPLOAD_TEMP_DIR": str(workdir / "uploads"),
        "SINGLE_UPLOAD_MAX_MB": str(size_mb + 16),
        "SECURE_SSL_REDIRECT": "0",
        "RATE_LIMIT_UPLOAD": "1000/h",
        "LOG_LEVEL": "WARNING",
    }


def run_storage(video, env, chunk_bytes):
    command = [PYTHON, __file__, "_storage", str(video), str(chunk_bytes or 0)]
    out = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, check=False)  # noqa: S603
    if out.returncode:
        raise SystemExit(f"storage measurement failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _worker_pid(master_pid, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for task in Path(f"/proc/{master_pid}/task").iterdir():
            children = (task / "children").read_text().split()
            if children:
                return int(children[0])
        time.sleep(0.1)
    raise SystemExit("gunicorn started no worker")


def _post_video(port, token, video, thumbnail):
    parts, length, content_type = multipart(
        {"title": "Benchmark upload", "description": "bench/upload_memory.py"},
        {
            "videoFile": ("bench.mp4", "video/mp4", video),
            "thumbnail": ("thumb.png", "image/png", thumbnail),
        },
    )
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600, blocksize=STREAM_BLOCK)
    started = time.monotonic()
    connection.request(
        "POST",
        "/api/v1/videos",
        body=ConcatReader(parts),
        headers={
            "Content-Type": content_type,
            "Content-Length": str(length),
            "Authorization": f"Bearer {token}",
        },
    )
    response = connection.getresponse()
    body = response.read()
    connection.close()
    if response.status != 201:
        raise SystemExit(f"POST /api/v1/videos answered {response.status}: {body[:500]!r}")
    return time.monotonic() - started


def run_api(video, env, workdir):
    subprocess.run(  # noqa: S603
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], env=env, cwd=REPO, check=True
    )
    token = subprocess.run(  # noqa: S603
        [PYTHON, __file__, "_token"], env=env, cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    thumbnail = workdir / "thumb.png"
    from PIL import Image

    Image.new("RGB", (64, 36), (20, 120, 200)).save(thumbnail)
    warm_up = functools.partial(_post_video, token=token, video=SAMPLE, thumbnail=thumbnail)
    # A 500 MB upload through a sync worker takes longer than gunicorn's default 30 s.
    with one_worker(env, warm_up, "--timeout=600", "--log-level=warning") as (port, worker):
        baseline = rss_mb(worker)
        reset_peak(worker)
        seconds = _post_video(port, token, Path(video), thumbnail)
        return {"baseline_mb": baseline, "peak_mb": peak_mb(worker), "request_seconds": seconds}


@contextlib.contextmanager
def one_worker(env, warm_up, *gunicorn_args):
    """gunicorn with one worker on a free port, warmed up by ``warm_up(port)`` (tried until the
    server answers, so that imports and connection pools are not measured); yields
    ``(port, worker pid)`` and stops the server after."""
    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [
            PYTHON,
            "-m",
            "gunicorn",
            "viztube.wsgi",
            "--workers=1",
            f"--bind=127.0.0.1:{port}",
            # gunicorn's control socket is one path per user by default: a server started here
            # must not take it from another one running on the machine.
            "--no-control-socket",
            *gunicorn_args,
        ],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )
    try:
        worker = _worker_pid(server.pid)
        deadline = time.monotonic() + 20
        while True:
            try:
                warm_up(port)
                break
            except ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield port, worker
    finally:
        server.terminate()
        server.wait(timeout=30)


def report(label, size_mb, figures, seconds_keys):
    growth = figures["peak_mb"] - figures["baseline_mb"]
    limit = TARGET_GROWTH_MB
    timing = ", ".join(
        f"{key.replace('_seconds', '')} {figures[key]:.1f} s" for key in seconds_keys
    )
    verdict = "OK" if growth <= limit else "OVER TARGET"
    print(
        f"{label:<8} {size_mb} MB video: RSS {figures['baseline_mb']:.1f} MB before, "
        f"peak {figures['peak_mb']:.1f} MB -> growth {growth:.1f} MB "
        f"(target <= {limit:.0f} MB: {verdict}); {timing}"
    )
    return growth <= limit


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=500, help="video size (default 500)")
    parser.add_argument("--mode", choices=["storage", "api", "both"], default="both")
    parser.add_argument("--chunk-mb", type=float, help="upload_large part size (storage mode)")
    args = parser.parse_args()
    chunk_bytes = int(args.chunk_mb * MB) if args.chunk_mb else None

    workdir = Path(tempfile.mkdtemp(prefix="viztube-upload-bench-"))
    fake = None
    try:
        video = workdir / "bench.mp4"
        make_video(video, args.size_mb * MB)
        fake, cloudinary_url = start_fake(workdir)
        if not re.match(r"^cloudinary://", cloudinary_url):
            raise SystemExit(f"the fake Cloudinary did not start: {cloudinary_url!r}")
        env = django_env(workdir, cloudinary_url, args.size_mb)
        (workdir / "uploads").mkdir()
        within = True
        if args.mode in {"storage", "both"}:
            figures = run_storage(video, env, chunk_bytes)
            label = f"storage (chunk {figures['chunk_bytes'] / MB:.1f} MB)"
            within &= report(label, args.size_mb, figures, ["parse_seconds", "save_seconds"])
        if args.mode in {"api", "both"}:
            figures = run_api(video, env, workdir)
            within &= report("api", args.size_mb, figures, ["request_seconds"])
        left = sorted(p.name for p in (workdir / "uploads").iterdir())
        print(f"temp files left in FILE_UPLOAD_TEMP_DIR: {left or 'none'}")
        return 0 if within else 1
    finally:
        if fake is not None:
            fake.terminate()
            fake.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_storage":
        storage_child(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "_token":
        token_child()
    else:
        sys.exit(main())
