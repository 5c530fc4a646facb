"""The cap on chunks in flight over real connections: gunicorn as in production (gunicorn.conf.py,
its gthread worker) and Django's development server (`make run`), each with room for two chunks.
Two chunks are held open by clients that stop sending mid-body; a third is refused at once, the
upload it was for is left as it was, other requests are still served, and once the two end a
chunk gets in again."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.test import override_settings

from media import uploads
from media.models import UploadSession
from tests.conftest import tokens_for
from tests.factories import UploadSessionFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
CAP = 2
SIZE = 4 * 1024 * 1024
CHUNK = 1024 * 1024


class Raw:
    """One HTTP/1.1 request written by hand on its own connection, so that a test can stop in
    the middle of its body."""

    def __init__(self, port, method, path, headers, length=0):
        self.sock = socket.create_connection((HOST, port), timeout=30)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", f"Content-Length: {length}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    def send(self, data):
        self.sock.sendall(data)

    def answer(self):
        """``(status, headers, body)``: headers with lower-case names."""
        received = b""
        while b"\r\n\r\n" not in received:
            block = self.sock.recv(65536)
            assert block, f"the connection ended before an answer: {received!r}"
            received += block
        head, _, body = received.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in header_lines)
        headers = {name.lower(): value for name, value in headers.items()}
        length = int(headers["content-length"])
        while len(body) < length:
            block = self.sock.recv(65536)
            assert block, "the connection ended inside the answer"
            body += block
        return int(status_line.split(" ")[1]), headers, json.loads(body[:length])

    def seconds_until_closed(self, limit=15):
        """How long until the server ends the connection (what it still sends is dropped)."""
        started = time.monotonic()
        self.sock.settimeout(limit)
        with contextlib.suppress(ConnectionResetError):
            while self.sock.recv(65536):
                pass
        return time.monotonic() - started

    def close(self):
        self.sock.close()


def bearer(user):
    return {"Authorization": f"Bearer {tokens_for(user)[0]}"}


def chunk_headers(user, first, length):
    return {
        **bearer(user),
        "Content-Type": "application/octet-stream",
        "Content-Range": f"bytes {first}-{first + length - 1}/{SIZE}",
    }


def call(port, method, path, user, headers=None):
    """A complete request without a body; ``(status, headers, body, seconds)``."""
    started = time.monotonic()
    request = Raw(port, method, path, {**bearer(user), **(headers or {})})
    try:
        return (*request.answer(), time.monotonic() - started)
    finally:
        request.close()


def wait_until(condition, seconds=15):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def _test_database_url():
    database = settings.DATABASES["default"]
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    return (
        f"postgres://{database['USER']}{password}@{database['HOST']}:{database['PORT']}/"
        f"{database['NAME']}"
    )


def _free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn_server(media_root, log_path):
    """gunicorn with gunicorn.conf.py, one worker of three threads, on the test database;
    yields ``(port, media_root)``."""
    port = _free_port()
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    env.update(
        DEBUG="0",
        SECRET_KEY=settings.SECRET_KEY,  # the tokens the test makes must be valid there
        DATABASE_URL=_test_database_url(),
        REDIS_URL="",
        CLOUDINARY_URL="",
        ALLOWED_HOSTS=HOST,
        SECURE_SSL_REDIRECT="0",
        MEDIA_ROOT=str(media_root),
        FILE_UPLOAD_TEMP_DIR=str(media_root.parent / "server-uploads"),
        LOG_LEVEL="WARNING",
        GUNICORN_BIND=f"{HOST}:{port}",
        GUNICORN_WORKERS="1",
        GUNICORN_THREADS=str(CAP + 1),
        UPLOAD_CHUNKS_IN_FLIGHT=str(CAP),
        PYTHONPATH=str(REPO),
    )
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "viztube.wsgi:application",
                "--config",
                "gunicorn.conf.py",
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping it touches nothing else
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(OSError):
                    socket.create_connection((HOST, port), timeout=1).close()
                    break
                assert process.poll() is None, log_path.read_text()[-3000:]
                assert time.monotonic() < deadline, log_path.read_text()[-3000:]
                time.sleep(0.2)
            yield port, media_root
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@contextlib.contextmanager
def development_server():
    """Django's development server (what `make run` starts: its threaded WSGI server, request
    handler and wsgiref-based response handler) in this process; yields ``(port,
    media_root)``."""
    with override_settings(UPLOAD_CHUNKS_IN_FLIGHT=CAP):
        handler = WSGIHandler()  # reads the cap now
    server = ThreadedWSGIServer((HOST, 0), WSGIRequestHandler, allow_reuse_address=False)
    server.set_app(handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], Path(settings.MEDIA_ROOT)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture(params=["gunicorn", "development"])
def server(request, tmp_path):
    if request.param == "gunicorn":
        with gunicorn_server(tmp_path / "server-media", tmp_path / "gunicorn.log") as running:
            yield request.param, *running
    else:
        with development_server() as running:
            yield request.param, *running


def test_the_chunk_past_the_cap_is_refused_at_once_and_the_rest_is_served(server):
    kind, port, media_root = server
    user = UserFactory()
    held = [UploadSessionFactory(owner=user, size=SIZE) for _ in range(CAP)]
    refused = UploadSessionFactory(owner=user, size=SIZE)
    before = UploadSession.objects.values().get(pk=refused.pk)

    # Two clients stop sending in the middle of their chunks: both hold a thread and a slot.
    holders = []
    for session in held:
        holder = Raw(
            port, "PUT", f"/api/v1/uploads/{session.pk}", chunk_headers(user, 0, CHUNK), CHUNK
        )
        holder.send(b"\0" * 1000)
        holders.append(holder)
    wait_until(
        lambda: (
            UploadSession.objects.filter(pk__in=[s.pk for s in held], writer__isnull=False).count()
            == CAP
        )
    )

    # The next chunk: its client sends the headers and not a byte of the body.
    started = time.monotonic()
    third = Raw(port, "PUT", f"/api/v1/uploads/{refused.pk}", chunk_headers(user, 0, CHUNK), CHUNK)
    status, headers, body = third.answer()
    assert time.monotonic() - started < 3
    assert status == 503, body
    assert headers["retry-after"] == "5"
    assert body["statusCode"] == 503
    assert body["success"] is False
    assert body["data"] is None
    assert body["message"].startswith("Too many chunks are arriving at this server")
    assert "connection" not in headers or headers["connection"] in {"keep-alive", "close"}
    if kind == "gunicorn":
        # gunicorn ends the connection without waiting for the body it was announced (it
        # would wait 5 s for it, then up to 2 s more, the first in the thread that answered).
        assert third.seconds_until_closed() < 2
    third.close()

    # Other requests are served meanwhile, without waiting: the refusal freed its thread.
    status, _, answer, seconds = call(port, "GET", f"/api/v1/uploads/{refused.pk}", user)
    assert status == 200, answer
    assert answer["data"]["offset"] == 0
    assert seconds < 2
    status, _, answer, seconds = call(port, "GET", "/api/v1/healthcheck", user)
    assert status == 200, answer
    assert seconds < 2
    # The offset query of the refused upload is not a chunk to read: never refused.
    status, _, answer, _ = call(
        port,
        "PUT",
        f"/api/v1/uploads/{refused.pk}",
        user,
        {"Content-Range": f"bytes */{SIZE}"},
    )
    assert status == 308, answer
    assert answer["data"]["offset"] == 0

    # The refused chunk changed nothing: the row (expiry included) and the bytes on disk.
    assert UploadSession.objects.values().get(pk=refused.pk) == before
    part = media_root / uploads.SESSIONS_FOLDER / f"{refused.pk}.part"
    assert not part.exists() or part.stat().st_size == 0

    # The two held chunks end; each is stored, and a chunk gets in again.
    for holder in holders:
        holder.send(b"\0" * (CHUNK - 1000))
        status, headers, body = holder.answer()
        holder.close()
        assert status == 308, body
        assert body["data"]["offset"] == CHUNK
    again = Raw(port, "PUT", f"/api/v1/uploads/{refused.pk}", chunk_headers(user, 0, CHUNK), CHUNK)
    again.send(b"\1" * CHUNK)
    status, headers, body = again.answer()
    again.close()
    assert status == 308, body
    assert body["data"]["offset"] == CHUNK
    assert headers["range"] == f"bytes=0-{CHUNK - 1}"
    assert UploadSession.objects.get(pk=refused.pk).received == CHUNK
    assert part.read_bytes() == b"\1" * CHUNK
