"""Local media, and the resumable upload routes (``UploadSessionViewSet``, at the end).

Local media (no ``CLOUDINARY_URL``): files under MEDIA_ROOT, with HTTP Range support so that a
browser ``<video>`` can seek (RFC 9110 §14). The bytes of upload sessions, under
``MEDIA_ROOT/uploads``, are never served: they are their uploader's alone until they are used.

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
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.decorators import action

from media import cloudinary_direct, selectors, services, uploads
from media.serializers import (
    CloudinarySignatureInputSerializer,
    CloudinarySignatureSerializer,
    UploadCompleteSerializer,
    UploadCreatedSerializer,
    UploadOffsetSerializer,
    UploadProgressSerializer,
    UploadSessionCreateInputSerializer,
    UploadSessionSerializer,
)
from viztube.api.envelope import created, error_body, ok
from viztube.api.parsers import JSONObjectParser, UnreadBodyParser
from viztube.api.renderers import dumps
from viztube.api.schema import ErrorEnvelopeSerializer, api_doc, envelope, error_envelope
from viztube.api.viewsets import ApiViewSet

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
    if os.path.commonpath([os.path.join(root, uploads.SESSIONS_FOLDER), full]) == os.path.join(
        root, uploads.SESSIONS_FOLDER
    ):
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


# --- Resumable uploads ----------------------------------------------------------------------------

UPLOAD_ID = OpenApiParameter(
    "upload_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The upload's uploadId."
)
CONTENT_RANGE = OpenApiParameter(
    "Content-Range",
    {"type": "string", "pattern": r"^bytes ([0-9]{1,19}-[0-9]{1,19}|\*)/[0-9]{1,19}$"},
    OpenApiParameter.HEADER,
    required=True,
    description=(
        "`bytes <first>-<last>/<size>` for a chunk (the body: bytes first to last, inclusive, "
        "of the file), `bytes */<size>` with an empty body to ask where the upload stands."
    ),
)
RANGE = OpenApiParameter(
    "Range",
    str,
    OpenApiParameter.HEADER,
    response=[308],
    description="`bytes=0-<offset - 1>`: the bytes stored so far (absent while none is).",
)
LOCATION = OpenApiParameter(
    "Location",
    str,
    OpenApiParameter.HEADER,
    response=[201],
    description="`/api/v1/uploads/<uploadId>`: where the chunks go.",
)
OFFSET_CONFLICT = OpenApiResponse(
    error_envelope(UploadOffsetSerializer, name="UploadConflict"),
    description=(
        "The chunk does not start at the upload's offset (also a chunk already stored), the "
        "upload is complete, or another request is writing to it: `data.offset` says where it "
        "stands."
    ),
)


def _location(session):
    return f"/api/v1/uploads/{session.pk}"


class UploadSessionViewSet(ApiViewSet):
    """``POST /uploads`` opens a resumable upload; ``PUT /uploads/:uploadId`` sends a chunk (or
    asks for the offset); ``GET`` reads where it stands; ``DELETE`` cancels it. Every route needs
    a token, and a session is its creator's alone."""

    # Opening a session counts in the fail-closed upload scope; its chunks count as ordinary
    # requests (a large file is many chunks).
    throttle_scope = {"POST": "upload"}
    parser_classes = [JSONObjectParser]
    input_serializers = {"create": UploadSessionCreateInputSerializer}

    @api_doc(
        name="UploadCreate",
        response=UploadCreatedSerializer,
        request=UploadSessionCreateInputSerializer,
        status=201,
        errors=(401, 413, 415, 422),
        parameters=[LOCATION],
        summary="Open a resumable upload (filename, size, contentType)",
    )
    def create(self, request):
        """``POST /uploads``."""
        data = self.validated_input()
        session = services.upload_session_create(owner=request.user, **data)
        response = created(UploadCreatedSerializer(session).data, "Upload started")
        response["Location"] = _location(session)
        return response

    @api_doc(
        name="UploadStatus",
        response=UploadSessionSerializer,
        errors=(401, 404),
        parameters=[UPLOAD_ID],
        summary="Where an upload stands: its offset, whether it is complete, when it expires",
    )
    def retrieve(self, request, upload_id):
        """``GET /uploads/:uploadId``."""
        session = selectors.upload_session_get_for_owner(upload_id, request.user)
        return ok(UploadSessionSerializer(session).data, "Upload fetched")

    @api_doc(
        name="UploadChunk",
        response=UploadCompleteSerializer,
        request={"application/octet-stream": OpenApiTypes.BINARY},
        errors=(401, 404, 413, 502),
        more_responses={
            308: OpenApiResponse(
                envelope(UploadProgressSerializer, name="UploadIncomplete"),
                description="Stored; the upload is not complete yet (see the Range header).",
            ),
            409: OFFSET_CONFLICT,
            422: OpenApiResponse(
                ErrorEnvelopeSerializer,
                description=(
                    "Cloudinary refused the finished file (not a video it can read): the "
                    "upload is deleted."
                ),
            ),
        },
        parameters=[UPLOAD_ID, CONTENT_RANGE, RANGE],
        summary="Send the chunk at the upload's offset (any content type), or ask for the offset",
    )
    @action(detail=True, methods=["put"], parser_classes=[UnreadBodyParser])
    def write(self, request, upload_id):
        """``PUT /uploads/:uploadId``: 308 while bytes are missing, 200 once complete."""
        content_range = uploads.parse_content_range(request.headers.get("Content-Range"))
        length = request.META.get("CONTENT_LENGTH")
        session = services.upload_session_write(
            upload_id=upload_id,
            owner=request.user,
            content_range=content_range,
            length=int(length) if length else None,
            # The request itself (a file object reading the body as it arrives), never a copy.
            stream=request.stream,
        )
        if session.is_complete:
            return ok(UploadCompleteSerializer(session).data, "Upload complete")
        response = ok(UploadProgressSerializer(session).data, "Chunk stored", status=308)
        if session.received:
            response["Range"] = f"bytes=0-{session.received - 1}"
        return response

    @api_doc(
        name="UploadCancel",
        response=None,
        errors=(401, 404),
        parameters=[UPLOAD_ID],
        summary="Cancel an upload: the session and its bytes are deleted",
    )
    def destroy(self, request, upload_id):
        """``DELETE /uploads/:uploadId``."""
        services.upload_session_cancel(upload_id=upload_id, owner=request.user)
        return ok({}, "Upload cancelled")


class CloudinarySignatureViewSet(ApiViewSet):
    """``POST /uploads/cloudinary-signature``: signed parameters with which the caller uploads
    one video straight to Cloudinary (only when videos are stored on Cloudinary; 404
    otherwise)."""

    # Like starting an upload session: the fail-closed upload scope.
    throttle_scope = {"POST": "upload"}
    parser_classes = [JSONObjectParser]
    input_serializers = {"create": CloudinarySignatureInputSerializer}

    @api_doc(
        name="CloudinarySignature",
        response=CloudinarySignatureSerializer,
        request=CloudinarySignatureInputSerializer,
        status=201,
        errors=(401, 404, 415, 422, 429),
        more_responses={
            200: OpenApiResponse(
                envelope(CloudinarySignatureSerializer, name="CloudinarySignatureRenewed"),
                description="The upload under the publicId sent is signed again.",
            )
        },
        summary="Sign an upload straight to Cloudinary (with Cloudinary storage only)",
    )
    def create(self, request):
        """``POST /uploads/cloudinary-signature``."""
        public_id = self.validated_input().get("public_id")
        grant = services.direct_upload_issue(
            owner=request.user,
            notification_url=cloudinary_direct.notification_url(request),
            public_id=public_id,
        )
        data = CloudinarySignatureSerializer(grant).data
        if public_id is None:
            return created(data, "Upload signed")
        return ok(data, "Upload signed again")
