"""Request ids and the access log, and body-size caps enforced before anything is read.

Imported by the logging configuration (``RequestIdLogFilter``), before the apps are loaded:
nothing here may import a model (the browser-only middleware live in viztube/browser.py)."""

import contextlib
import contextvars
import logging
import re
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
