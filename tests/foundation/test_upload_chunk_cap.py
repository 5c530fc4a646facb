"""The cap on chunks of resumable uploads in flight (``UploadChunkCapMiddleware``), on the
middleware alone: which requests count, the 503 and its Retry-After, that every slot comes back
whatever the view did, and what the refusal does to the connection. The same over real servers
(gunicorn, Django's development server): tests/media/test_upload_chunk_cap_live.py."""

import json
import runpy
import socket
import threading
from pathlib import Path
from wsgiref.util import is_hop_by_hop

import pytest
from django.http import HttpResponse, StreamingHttpResponse
from django.test import RequestFactory

from viztube.middleware import (
    CHUNK_RETRY_AFTER_SECONDS,
    UnreadBodyResponse,
    UploadChunkCapMiddleware,
)

CHUNK_PATH = "/api/v1/uploads/01900000-0000-7000-8000-000000000001"


def chunk(length=16, path=CHUNK_PATH, method="PUT", **extra):
    return RequestFactory().generic(
        method, path, b"x" * length, content_type="application/octet-stream", **extra
    )


class Holding:
    """A view that keeps every request it gets until ``let_go``; counts the calls."""

    def __init__(self):
        self.calls = 0
        self.entered = threading.Semaphore(0)
        self._go = threading.Event()

    def __call__(self, request):
        self.calls += 1
        self.entered.release()
        assert self._go.wait(10), "never let go"
        return HttpResponse("stored")

    def let_go(self):
        self._go.set()


def hold(middleware, view, count):
    """``count`` chunks in the view at once, each in a thread; the threads."""
    threads = [threading.Thread(target=middleware, args=(chunk(),)) for _ in range(count)]
    for thread in threads:
        thread.start()
    for _ in threads:
        assert view.entered.acquire(timeout=10)
    return threads


def finish(view, threads):
    view.let_go()
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()


@pytest.fixture
def capped(settings):
    """A middleware with room for two chunks, and its view."""
    settings.UPLOAD_CHUNKS_IN_FLIGHT = 2
    view = Holding()
    return UploadChunkCapMiddleware(view), view


def test_the_chunk_past_the_cap_is_a_503_in_the_envelope_and_never_reaches_the_view(capped):
    middleware, view = capped
    threads = hold(middleware, view, 2)
    try:
        response = middleware(chunk())
        assert response.status_code == 503
        assert response["Retry-After"] == str(CHUNK_RETRY_AFTER_SECONDS)
        body = json.loads(response.content)
        assert body["statusCode"] == 503
        assert body["success"] is False
        assert body["data"] is None
        assert body["message"].startswith("Too many chunks are arriving at this server")
        assert "Retry after 5 seconds from the upload's offset" in body["message"]
        assert "Content-Range: bytes */<size>" in body["message"]
        assert isinstance(response, UnreadBodyResponse)
        assert view.calls == 2
    finally:
        finish(view, threads)


def test_what_is_not_a_chunk_with_a_body_passes_while_the_cap_is_full(capped):
    middleware, view = capped
    threads = hold(middleware, view, 2)
    passed = []

    def through(request):
        passed.append(request.method)
        return HttpResponse("ok")

    other = UploadChunkCapMiddleware(through)
    # The second middleware has slots of its own; the one that is full is what matters.
    other.slots = middleware.slots
    try:
        assert other(chunk(length=0)).status_code == 200  # asking for the offset
        assert other(chunk(method="GET", length=0)).status_code == 200
        assert other(chunk(method="DELETE", length=0)).status_code == 200
        assert other(chunk(path="/api/v1/uploads")).status_code == 200  # POST-like path, PUT
        assert other(chunk(path="/api/v1/videos/x")).status_code == 200
        assert other(chunk(path=CHUNK_PATH + "/extra")).status_code == 200
        assert other(chunk()).status_code == 503
        assert passed == ["PUT", "GET", "DELETE", "PUT", "PUT", "PUT"]
    finally:
        finish(view, threads)


def test_slots_come_back_once_the_chunks_are_answered(capped):
    middleware, view = capped
    finish(view, hold(middleware, view, 2))
    # Both slots are free again: two more chunks at once get in.
    view._go.clear()
    threads = hold(middleware, view, 2)
    assert view.calls == 4
    assert middleware(chunk()).status_code == 503
    finish(view, threads)
    assert middleware(chunk()).status_code == 200


def test_a_view_that_raises_gives_its_slot_back(settings):
    settings.UPLOAD_CHUNKS_IN_FLIGHT = 1

    def broken(request):
        raise SystemExit("gunicorn's timeout aborts a request with SystemExit")

    middleware = UploadChunkCapMiddleware(broken)
    for _ in range(3):
        with pytest.raises(SystemExit):
            middleware(chunk())
    # BoundedSemaphore: a slot given back twice would raise; one taken and never given back
    # would leave nothing to acquire.
    assert middleware.slots.acquire(blocking=False)


def test_a_streamed_answer_keeps_its_slot_until_the_server_closes_it(settings):
    settings.UPLOAD_CHUNKS_IN_FLIGHT = 1
    closed = []

    class Parts:
        def __iter__(self):
            return iter([b"one ", b"two"])

        def close(self):
            closed.append(True)

    middleware = UploadChunkCapMiddleware(lambda request: StreamingHttpResponse(Parts()))
    response = middleware(chunk())
    assert middleware(chunk()).status_code == 503  # still being sent
    assert b"".join(response) == b"one two"
    assert middleware(chunk()).status_code == 503
    response.close()
    assert closed == [True]
    # Never iterated (a client gone before the first byte) and closed: given back too.
    unread = middleware(chunk())
    assert middleware(chunk()).status_code == 503
    unread.close()
    unread.close()  # a second close gives nothing back twice
    assert middleware.slots.acquire(blocking=False)


def test_no_cap_with_zero(settings):
    settings.UPLOAD_CHUNKS_IN_FLIGHT = 0
    view = Holding()
    middleware = UploadChunkCapMiddleware(view)
    threads = hold(middleware, view, 6)
    assert view.calls == 6
    finish(view, threads)


def test_the_refusal_carries_no_hop_by_hop_header(capped):
    """Django's development server (wsgiref) refuses an application's hop-by-hop header with an
    AssertionError, and gunicorn drops it: the refusal closes the connection otherwise."""
    middleware, view = capped
    threads = hold(middleware, view, 2)
    try:
        response = middleware(chunk())
        assert response.status_code == 503
        assert not [name for name, _ in response.items() if is_hop_by_hop(name)]
    finally:
        finish(view, threads)


@pytest.fixture
def connection():
    """Both ends of a TCP connection on the loopback: ``(server_side, client_side)``."""
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    listener.close()
    yield server, client
    server.close()
    client.close()


def refusal(request):
    return UnreadBodyResponse(request, b"{}", status=503, content_type="application/json")


def test_closing_the_refusal_under_gunicorn_stops_reading_the_connection(connection):
    server, client = connection
    client.sendall(b"the first bytes of a body")
    request = chunk(**{"gunicorn.socket": server, "SERVER_PROTOCOL": "HTTP/1.1"})
    response = refusal(request)
    response.close()
    server.settimeout(2)
    # What had arrived is still there, then the end of the stream at once: the client is
    # still connected and may send more, but this side reads no more of it.
    assert server.recv(100) == b"the first bytes of a body"
    assert server.recv(100) == b""


@pytest.mark.parametrize(
    "extra",
    [
        {"SERVER_PROTOCOL": "HTTP/2.0"},  # one connection carries other requests
        {"SERVER_PROTOCOL": "HTTP/1.1", "gunicorn.socket": None},  # another server
        {"SERVER_PROTOCOL": "HTTP/1.1", "gunicorn.socket": "not a socket"},
    ],
)
def test_the_connection_is_left_alone_elsewhere(connection, extra):
    server, client = connection
    extra.setdefault("gunicorn.socket", server)
    response = refusal(chunk(**extra))
    response.close()
    client.sendall(b"more")
    server.settimeout(2)
    assert server.recv(100) == b"more"
    server.settimeout(0.2)
    with pytest.raises(TimeoutError):
        server.recv(100)


def test_closing_the_refusal_twice_or_after_the_client_left_is_quiet(connection):
    server, client = connection
    request = chunk(**{"gunicorn.socket": server, "SERVER_PROTOCOL": "HTTP/1.1"})
    response = refusal(request)
    client.close()
    server.close()  # shutdown() of a closed socket raises OSError, which is swallowed
    response.close()
    response.close()


class _Log:
    def __init__(self):
        self.warnings = []

    def warning(self, message, *args):
        self.warnings.append(message % args)


class _Worker:
    def __init__(self, threads):
        self.cfg = type("Config", (), {"threads": threads})()
        self.log = _Log()


@pytest.mark.parametrize(("cap", "threads", "warned"), [(2, 4, False), (0, 1, False), (4, 4, True)])
def test_gunicorn_warns_of_a_cap_that_leaves_no_thread(settings, cap, threads, warned):
    hooks = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    settings.UPLOAD_CHUNKS_IN_FLIGHT = cap
    worker = _Worker(threads)
    hooks["post_worker_init"](worker)
    assert bool(worker.log.warnings) is warned
    if warned:
        assert worker.log.warnings[0].startswith(
            "UPLOAD_CHUNKS_IN_FLIGHT=4 leaves none of this worker's 4 threads"
        )
