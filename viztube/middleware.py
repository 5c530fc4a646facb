"""Request ids and the access log, and body-size caps and the cap on upload chunks in flight,
enforced before anything is read.

Imported by the logging configuration (``RequestIdLogFilter``), before the apps are loaded:
nothing here may import a model (the browser-only middleware live in viztube/browser.py)."""

import contextlib
import contextvars
import logging
import re
import socket
import ssl
import threading
import time
import uuid

from django.conf import settings
from django.http import HttpResponse

from viztube.access_log import log_access
from viztube.api.envelope import error_body
from viztube.api.renderers import dumps

# Every route of the API is under this prefix (viztube/urls.py).
API_PREFIX = "/api/v1/"

_request_id = contextvars.ContextVar("request_id", default="-")
_media_base_url = contextvars.ContextVar("media_base_url", default="")
_VALID_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id():
    return _request_id.get()


def media_base_url():
    """What local media URLs start with while a request is served: ``MEDIA_BASE_URL``, else
    ``scheme://host[:port]`` of the request; "" outside a request."""
    return _media_base_url.get()


@contextlib.contextmanager
def media_base_url_as(base):
    """``media_base_url()`` is ``base`` inside this block: for work outside a request that
    builds media URLs for a known host (a WebSocket's)."""
    token = _media_base_url.set(base)
    try:
        yield
    finally:
        _media_base_url.reset(token)


class RequestIdLogFilter(logging.Filter):
    """Gives every record the ``request_id`` of the request it was logged for ("-" outside one).

    A record that carries its request (``extra={"request": ...}``, as ``django.request``'s do) takes
    the id from it: Django writes its "Not Found" / "Internal Server Error" lines after the whole
    middleware chain has returned, when ``RequestIdMiddleware`` has already reset the context
    variable.
    """

    def filter(self, record):
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or _request_id.get()
        return True


def json_error(status, message, **headers):
    response = HttpResponse(
        dumps(error_body(status, message)), status=status, content_type="application/json"
    )
    for name, value in headers.items():
        response[name] = value
    return response


class RequestIdMiddleware:
    """Tags each request with an id (a sane incoming ``X-Request-ID``, else a new one), says
    what local media URLs start with while it is served (``media_base_url``), and writes the
    request's access log line (``ACCESS_LOG``).

    Outermost, so the line carries the final status and its duration covers every other
    middleware; the time to send the body to the client is not in it (a file streamed by a
    ``FileResponse`` is logged when its first bytes are ready).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.writes_access_log = settings.ACCESS_LOG

    def __call__(self, request):
        started = time.perf_counter()
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _VALID_INCOMING_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        # The raw host: CommonMiddleware checks it against ALLOWED_HOSTS before any view runs
        # (get_host() would check it again).
        base = settings.MEDIA_BASE_URL or f"{request.scheme}://{request._get_raw_host()}"
        token, base_token = _request_id.set(request_id), _media_base_url.set(base)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
            _media_base_url.reset(base_token)
        response["X-Request-ID"] = request_id
        if self.writes_access_log:
            log_access(request, response, request_id, (time.perf_counter() - started) * 1000)
        return response


# The longest request URI (path and query) the API answers. Nothing legitimate comes near it
# (ids are UUIDs, a search is at most 200 characters); gunicorn refuses request lines over
# ``limit_request_line`` itself (see gunicorn.conf.py), so this is below that limit and a long
# URI gets a 414 in the envelope rather than gunicorn's HTML page.
MAX_URI_BYTES = 4096
# PUT /api/v1/uploads/:uploadId, whose body is a chunk of a resumable upload.
_UPLOAD_CHUNK_PATH = re.compile(r"^/api/v1/uploads/[^/]+/?$")


class RequestSizeLimitMiddleware:
    """Answers 414 for a request URI over ``MAX_URI_BYTES``, and 413 from the declared
    ``Content-Length`` before any byte of the body is read.

    DRF's JSON parser reads the raw stream and so bypasses ``DATA_UPLOAD_MAX_MEMORY_SIZE``;
    multipart bodies are capped at what the largest legitimate upload (a video plus a
    thumbnail) can need. Per-file caps are checked again on each file. A chunk of a resumable
    upload is capped at the largest session.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        mb = 1024 * 1024
        self.multipart_limit = (
            settings.SINGLE_UPLOAD_MAX_MB + settings.IMAGE_MAX_UPLOAD_MB + 1
        ) * mb
        self.other_limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        # A chunk of a resumable upload is streamed to storage as it arrives, never held in
        # memory: it may be as large as the session (the upload service checks it against the
        # session's own size and its Content-Range).
        self.chunk_limit = settings.VIDEO_MAX_UPLOAD_MB * mb

    def __call__(self, request):
        meta = request.META
        # PATH_INFO is decoded text; its UTF-8 length is what travelled (at least).
        uri_bytes = len(meta.get("PATH_INFO", "").encode("utf-8", "surrogateescape"))
        if uri_bytes + len(meta.get("QUERY_STRING", "")) + 1 > MAX_URI_BYTES:
            return json_error(414, f"Request URI too long (at most {MAX_URI_BYTES} bytes)")
        try:
            length = int(meta.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return json_error(400, "Invalid Content-Length header")
        content_type = request.META.get("CONTENT_TYPE", "")
        if content_type.startswith("multipart/form-data"):
            limit = self.multipart_limit
        elif request.method == "PUT" and _UPLOAD_CHUNK_PATH.match(request.path_info):
            limit = self.chunk_limit
        else:
            limit = self.other_limit
        if length > limit:
            return json_error(413, f"Request body too large (limit {limit} bytes)")
        return self.get_response(request)


# Seconds a chunk refused by the cap tells its client to wait. A slot frees when a chunk ends:
# within a second for a fast client, after a minute for 64 MB at 1 MiB/s. Each retry costs the
# server a request line and a few headers, never the body.
CHUNK_RETRY_AFTER_SECONDS = 5


def _chunk_with_body(request):
    """A chunk of a resumable upload that has a body to read. Asking for the offset (an empty
    body) is quick and never refused: it is how a refused client finds where to resume."""
    if request.method != "PUT" or not _UPLOAD_CHUNK_PATH.match(request.path_info):
        return False
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > 0
    except ValueError:
        return False


class UnreadBodyResponse(HttpResponse):
    """An answer given without reading the request's body; once it is sent, the connection
    reads no more and closes.

    gunicorn (27, HTTP/1.x) keeps a connection alive after a response whose body the
    application left unread only once it has read and dropped the rest of that body: up to
    64 KiB, waiting up to 5 s for it in the request's thread, then (the body being longer) up
    to 64 KiB more and 2 s in the worker's main loop while it closes. A slow or stalled client
    holds the thread, and then the loop that accepts every connection, for that long. A
    ``Connection: close`` from the application does not stop it: gunicorn drops hop-by-hop
    headers (and Django's development server refuses them outright). Shutting down the read side
    of its socket (``gunicorn.socket``) once the answer is written makes those reads end at
    once: what has arrived is read, then the end of the stream, and gunicorn closes. Under any
    other server (no ``gunicorn.socket``), HTTP/2 (one socket for many requests) or TLS in
    gunicorn itself, nothing is done."""

    def __init__(self, request, *args, **kwargs):
        super().__init__(*args, **kwargs)
        environ = request.META
        sock = environ.get("gunicorn.socket")
        plain_http1 = environ.get("SERVER_PROTOCOL") in {"HTTP/1.0", "HTTP/1.1"}
        usable = isinstance(sock, socket.socket) and not isinstance(sock, ssl.SSLSocket)
        self._socket_to_stop = sock if plain_http1 and usable else None

    def close(self):
        # Called by the server once the answer is written (WSGI), never before.
        try:
            super().close()
        finally:
            sock, self._socket_to_stop = self._socket_to_stop, None
            if sock is not None:
                with contextlib.suppress(OSError):  # the client may be gone already
                    sock.shutdown(socket.SHUT_RD)


def refuse_unread(request, status, message, **headers):
    """``json_error`` for a request whose body is not read: the connection closes after it."""
    content = dumps(error_body(status, message))
    response = UnreadBodyResponse(request, content, status=status, content_type="application/json")
    # CommonMiddleware, which sets it on other answers, is not reached: without it the answer
    # would be sent in chunks, and a client that is still sending reads it less easily.
    response["Content-Length"] = str(len(response.content))
    for name, value in headers.items():
        response[name] = value
    return response


class _Slot:
    """One place under the cap, given back once whatever happens (a response closed after an
    exception, a streamed body closed early)."""

    def __init__(self, semaphore):
        self._semaphore = semaphore
        self._lock = threading.Lock()
        self._held = True

    def release(self):
        with self._lock:
            held, self._held = self._held, False
        if held:
            self._semaphore.release()


class _ReleasedOnClose:
    """A streamed response body that gives its slot back when the server closes it (Django
    registers an iterable's ``close`` with the response's), also if it was never iterated."""

    def __init__(self, content, slot):
        self._content, self._slot = content, slot

    def __iter__(self):
        return iter(self._content)

    def close(self):
        try:
            close = getattr(self._content, "close", None)
            if close is not None:
                close()
        finally:
            self._slot.release()


class UploadChunkCapMiddleware:
    """At most ``UPLOAD_CHUNKS_IN_FLIGHT`` chunks of resumable uploads being read at once in
    this process; one more is answered ``503`` with ``Retry-After`` before a byte of its body is
    read, and its connection closed (``UnreadBodyResponse``).

    A chunk holds a server thread for as long as its body takes to arrive (gunicorn's gthread
    worker gives a request to a thread, which reads the whole body): a minute for 64 MB from a
    client sending 1 MiB/s. Without a cap, as many slow uploads as a process has threads leave
    it none for any other request. The slot is taken without waiting, before the view runs, and
    given back when the view has answered (the body is then read or abandoned); a streamed
    answer gives it back when the server closes it. Nothing of the upload changes: the client
    asks for the offset and sends the chunk again (docs/api.md, uploads)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.cap = settings.UPLOAD_CHUNKS_IN_FLIGHT
        # Per process: with a preloaded application each worker gets its own copy at fork.
        self.slots = threading.BoundedSemaphore(self.cap) if self.cap else None

    def __call__(self, request):
        if self.slots is None or not _chunk_with_body(request):
            return self.get_response(request)
        if not self.slots.acquire(blocking=False):
            return refuse_unread(
                request,
                503,
                f"Too many chunks are arriving at this server; nothing of this one was read or "
                f"stored. Retry after {CHUNK_RETRY_AFTER_SECONDS} seconds from the upload's "
                f"offset (ask for it with Content-Range: bytes */<size>)",
                **{"Retry-After": str(CHUNK_RETRY_AFTER_SECONDS)},
            )
        slot = _Slot(self.slots)
        try:
            response = self.get_response(request)
        except BaseException:
            # SystemExit too (gunicorn's timeout aborts a request with it).
            slot.release()
            raise
        if response.streaming:
            response.streaming_content = _ReleasedOnClose(response.streaming_content, slot)
        else:
            slot.release()
        return response
