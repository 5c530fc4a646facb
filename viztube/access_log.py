"""The access log: one line per request, written by ``RequestIdMiddleware`` (viztube/middleware.py).

    2026-12-07T19:33:55.625Z 127.0.0.1 "GET /api/v1/videos?page=1&limit=10" 200 8060 1.55ms 992248d8627d450fb01aedb301dc0a7c

time (UTC, to the millisecond), client address (``viztube.api.client.client_ip``), method and
URI, status, body bytes (``-`` when unknown, e.g. a streamed body), time spent in the
application, request id. docs/operations.md describes it for operators.

Decided for cost: the server's own access log (gunicorn's) cost ~0.31 M instructions a request,
more than a tenth of a cached list page, most of it building a dictionary of every header and
environment variable for a format that uses a few. Here the line is one f-string, and the
record that carries it to the ``viztube.access`` logger's handlers is built without the work
``Logger.info`` does for every record (finding the caller's frame, the thread and process
names): ~35 k instructions in all, where ``logger.info(line)`` alone costs ~58 k. It is still a
``LogRecord`` handed to ``Logger.handle``, so the ``LOGGING`` setting routes it like any other
(a file, syslog, another formatter).

Imported by the logging configuration before the apps are loaded: no model imports here.
"""

import logging
import os
import threading
import time
from urllib.parse import quote

from viztube.api.client import client_ip

logger = logging.getLogger("viztube.access")

# Fields are logged as they are when they are plain printable ASCII without blanks or quotes
# (what clients send); anything else is percent-encoded first, so that no request can write a
# line break, a terminal escape or a field of its own into the log.
_SAFE = "/?&=%:@!$'()*+,;~-._"
_stamp = (None, "")


def _loggable(text, encoding="utf-8"):
    if text.isascii() and text.isprintable() and " " not in text and '"' not in text:
        return text
    return quote(text.encode(encoding, "replace"), safe=_SAFE)


def _timestamp(now):
    """``now`` (``time.time()``) as UTC ISO 8601 to the millisecond; the part down to the
    second is formatted once a second."""
    global _stamp
    second = int(now)
    cached_second, prefix = _stamp
    if second != cached_second:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _stamp = (second, prefix)  # one assignment: threads see the old pair or the new one
    return f"{prefix}.{int((now - second) * 1000):03d}Z"


def access_line(request, response, request_id, milliseconds, now):
    """The access log line of one request."""
    uri = _loggable(request.path)
    query = request.META.get("QUERY_STRING")
    if query:
        # The query string as the server passed it: its raw bytes, read as Latin-1 (WSGI).
        uri = f"{uri}?{_loggable(query, 'latin-1')}"
    return (
        f"{_timestamp(now)} {_loggable(client_ip(request) or '-')} "
        f'"{_loggable(request.method)} {uri}" {response.status_code} '
        f"{response.get('Content-Length', '-')} {milliseconds:.2f}ms {request_id}"
    )


class AccessRecord(logging.LogRecord):
    """A ``LogRecord`` of the access logger, built without ``LogRecord.__init__``'s work.

    Every attribute a record has is set (handlers that pickle or copy a record see a whole
    one); those that are the same for every access line come from one dictionary. ``msg`` is
    the finished line (no ``args``).
    """

    _fixed = {
        "name": logger.name,
        "levelno": logging.INFO,
        "levelname": "INFO",
        "pathname": __file__,
        "filename": "access_log.py",
        "module": "access_log",
        "lineno": 0,
        "funcName": "log_access",
        "args": (),
        "exc_info": None,
        "exc_text": None,
        "stack_info": None,
        "processName": "MainProcess",
        "taskName": None,
    }

    def __init__(self, line, created):  # no super().__init__(): that is the cost avoided
        self.__dict__.update(self._fixed)
        self.msg = line
        self.created = created
        self.msecs = (created - int(created)) * 1000
        self.relativeCreated = (created - logging._startTime) * 1000
        self.thread = threading.get_ident()
        self.threadName = threading.current_thread().name
        self.process = os.getpid()


def log_access(request, response, request_id, milliseconds):
    if logger.isEnabledFor(logging.INFO):
        now = time.time()
        logger.handle(
            AccessRecord(access_line(request, response, request_id, milliseconds, now), now)
        )


class AccessLineFormatter(logging.Formatter):
    """The line as it was written: it is complete (time included) when logged."""

    def format(self, record):
        return record.getMessage()
