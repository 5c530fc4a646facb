"""Local media (no ``CLOUDINARY_URL``): files under MEDIA_ROOT, with HTTP Range support so that a
browser ``<video>`` can seek (RFC 9110 §14).

Written here rather than taken from a library: Django's ``django.views.static.serve`` ignores
Range; django-ranged-response 0.2.0 (last release 2017) reads the whole file into memory to learn
its size, answers 416 without ``Content-Range`` and takes ``bytes=-0`` for the whole file;
WhiteNoise serves ranges but only for files it indexed at start-up, not for uploads. What is
needed is one byte range over a file on disk, streamed by ``FileResponse``: about sixty lines.
"""

import os
import re
from mimetypes import guess_type

import filetype
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.http import FileResponse, HttpResponse
from django.utils._os import safe_join
from django.utils.http import http_date

from viztube.api.envelope import error_body
from viztube.api.renderers import dumps

_SINGLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# Enough for every signature the ``filetype`` package knows.
_SNIFF_BYTES = 261
_BLOCK_BYTES = 64 * 1024
# A type guessed from the extension is trusted only for these families: anything else (HTML,
# SVG, ...) could run script on our origin, so it is sent as opaque bytes.
_INERT_FAMILIES = ("image/", "video/", "audio/")
_INERT_EXCEPTIONS = {"image/svg+xml"}


class _Unsatisfiable(Exception):
    pass


class _FileSection:
    """``length`` bytes of an open file from ``start``, read block by block by FileResponse."""

    def __init__(self, file, start, length):
        file.seek(start)
        self._file = file
        self._remaining = length

    def read(self, size=-1):
        if self._remaining <= 0:
            return b""
        size = self._remaining if size < 0 else min(size, self._remaining)
        data = self._file.read(size)
        self._remaining -= len(data)
        return data

    def close(self):
        self._file.close()


def _json(status, message, headers=None):
    return HttpResponse(
        dumps(error_body(status, message)),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def _byte_range(header, size):
    """The ``(first, last)`` byte positions (inclusive) a Range header asks for.

    None means "send the whole file": no header, another unit, several ranges or a malformed
    value (RFC 9110 lets a server ignore Range). Raises ``_Unsatisfiable`` for a range that
    starts past the end of the file, a zero-length suffix, or any range of an empty file.
    """
    match = _SINGLE_RANGE.match(header.strip()) if header else None
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # bytes=-N: the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise _Unsatisfiable
        return max(size - suffix, 0), size - 1
    first = int(first)
    if last and int(last) < first:
        return None  # an invalid range-spec (RFC 9110 §14.1.1)
    if first >= size:
        raise _Unsatisfiable
    end = size - 1 if last == "" else min(int(last), size - 1)
    return first, end


def _content_type(path, head):
    """The media type from the file's first bytes, else from an inert extension."""
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    guessed, _ = guess_type(path)
    if guessed and guessed.startswith(_INERT_FAMILIES) and guessed not in _INERT_EXCEPTIONS:
        return guessed
    return "application/octet-stream"


def _resolve(path):
    """The file under MEDIA_ROOT that ``path`` names, or None (missing, a folder, or outside)."""
    root = os.path.realpath(settings.MEDIA_ROOT)
    try:
        full = os.path.realpath(safe_join(root, path))
    except SuspiciousFileOperation:
        return None
    # realpath resolves symlinks that safe_join (a string check) would let through.
    if os.path.commonpath([root, full]) != root or not os.path.isfile(full):
        return None
    return full


def serve_media(request, path):
    """GET/HEAD a local media file; honours a single byte range (206/416) and If-Range."""
    if request.method not in {"GET", "HEAD"}:
        return _json(405, f"Method {request.method} not allowed", {"Allow": "GET, HEAD"})
    # With Cloudinary, media are delivered by Cloudinary; nothing is served from here.
    full = None if settings.CLOUDINARY_URL else _resolve(path)
    if full is None:
        return _json(404, "Media not found")
    stat = os.stat(full)
    size, last_modified = stat.st_size, http_date(stat.st_mtime)
    headers = {"Accept-Ranges": "bytes", "Last-Modified": last_modified}

    range_header = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range != last_modified:
        range_header = None  # the client's copy is stale: send the whole current file
    try:
        byte_range = _byte_range(range_header, size)
    except _Unsatisfiable:
        return _json(
            416, "Requested range not satisfiable", {**headers, "Content-Range": f"bytes */{size}"}
        )
    status, (first, last) = (200, (0, size - 1)) if byte_range is None else (206, byte_range)
    if status == 206:
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    length = last - first + 1

    file = open(full, "rb")  # noqa: SIM115 - FileResponse closes it (HEAD: closed below)
    content_type = _content_type(full, file.read(_SNIFF_BYTES))
    if request.method == "HEAD":
        file.close()
        headers["Content-Length"] = str(length)
        return HttpResponse(status=status, headers=headers, content_type=content_type)
    # content_type must be passed, not set as a header: FileResponse overwrites the header when
    # the streamed object has no file name.
    response = FileResponse(
        _FileSection(file, first, length), status=status, headers=headers, content_type=content_type
    )
    response.block_size = _BLOCK_BYTES
    response["Content-Length"] = str(length)
    return response
