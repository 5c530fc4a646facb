"""A fake Cloudinary on 127.0.0.1 that the real ``cloudinary`` SDK talks to (architecture.md, Tests).

It implements the part of the Upload API the project uses, as Cloudinary answers it:

- ``POST /v1_1/<cloud>/<image|video|raw|auto>/upload``: multipart, signed; single requests and the
  chunked ``upload_large`` parts (``Content-Range`` + ``X-Unique-Upload-Id``), which it assembles
  by their ranges (a part sent twice counts once; the asset is made when every byte is in; parts
  under ``min_part_bytes`` but the last are refused, as Cloudinary refuses those under 5 MB);
  checks that an image is an image and a video a video; answers ``public_id, version, url,
  secure_url, resource_type, format, bytes, width, height`` (+ ``duration`` for video); the
  public id is the one given (``public_id``, under ``folder``), else the file name with a random
  suffix (``use_filename``; none with ``unique_filename=false``), else random; with
  ``overwrite=false`` an id already taken is answered at once with the asset it names and
  ``"existing": true``, and the file sent is not stored;
- ``POST /v1_1/<cloud>/<type>/destroy``: ``{"result": "ok"}`` or ``{"result": "not found"}``;
- ``POST /v1_1/<cloud>/<type>/explicit``: eager transformations of a stored asset; with
  ``eager_async`` it answers at once (``"eager": [{"status": "processing", "batch_id"}]``) and
  records the job (``eager_jobs``); ``finish_eager`` then makes the notification Cloudinary would
  POST to the job's ``eager_notification_url`` (signed, ``X-Cld-Signature`` and
  ``X-Cld-Timestamp``), for the test to deliver; ``sign_notification`` signs any body;
- ``GET /v1_1/<cloud>/resources/<type>/upload/<public_id>`` (Admin API, Basic auth with the API
  key and secret): an asset's details, or 404 ``Resource not found``;
- ``GET``/``HEAD /<cloud>/<type>/upload/[v<version>/]<public_id>[.<format>]``: delivery of what it
  holds, so storage URLs built with ``cname=127.0.0.1:PORT`` and ``secure=False`` resolve here;
  ``/<cloud>/video/upload/<transformation with so_...>/<public_id>.jpg``: a frame of a video it
  holds (a JPEG of the video's size; the fake decodes nothing), recorded in ``frames``.

Every API request's signature is checked with ``cloudinary.utils.api_sign_request`` (the SDK signs
every form field except ``file``, ``api_key`` and ``signature``); a bad one gets 401.
It records the assets it holds and the requests it saw, and can be told to fail or to answer late.

Pytest: ``fake_cloudinary_server`` (session) and ``fake_cloudinary`` (per test; resets the fake,
points the SDK at it and switches ``STORAGES`` to the Cloudinary backends). Stand-alone, for a
benchmark or a local run: ``python -m tests.fakes.cloudinary [--port N]`` prints a CLOUDINARY_URL.
"""

import argparse
import base64
import email.parser
import hashlib
import hmac
import io
import json
import mimetypes
import re
import secrets
import shutil
import string
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import cloudinary
import cloudinary.utils
import filetype
import pytest
from PIL import Image, UnidentifiedImageError
from pymediainfo import MediaInfo

CLOUD_NAME = "viztube-fake"
API_KEY = "111122223333444"
API_SECRET = "fake-cloudinary-secret-for-tests"

_API_PATH = re.compile(
    r"^/v1_1/(?P<cloud>[^/]+)/(?P<resource_type>[a-z]+)/(?P<action>upload|destroy|explicit)$"
)
_ADMIN_RESOURCE_PATH = re.compile(
    r"^/v1_1/(?P<cloud>[^/]+)/resources/(?P<resource_type>[a-z]+)/(?P<type>[a-z]+)/"
    r"(?P<public_id>.+)$"
)
_DELIVERY_PATH = re.compile(
    r"^/(?P<cloud>[^/]+)/(?P<resource_type>image|video|raw)/upload/(?:v\d+/)?(?P<public_id>.+)$"
)
_FRAME_PATH = re.compile(
    r"^/(?P<cloud>[^/]+)/video/upload/(?P<transformation>[^/]*so_[^/]*)/(?:v\d+/)?"
    r"(?P<public_id>.+)\.jpg$"
)
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
# The fields the SDK sends but leaves out of the signature.
_UNSIGNED_FIELDS = {"file", "api_key", "signature", "resource_type"}
_IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
# Cloudinary refuses requests whose timestamp is more than an hour old.
_MAX_TIMESTAMP_AGE = 3600


@dataclass(frozen=True)
class Asset:
    """One stored asset, as the fake holds it."""

    public_id: str
    resource_type: str
    format: str
    bytes: int
    version: int
    path: Path
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    tags: tuple = ()

    def read(self):
        """The stored bytes."""
        return self.path.read_bytes()


@dataclass(frozen=True)
class ApiRequest:
    """One Upload API request the fake received, and the status it answered."""

    action: str
    resource_type: str
    params: dict
    content_range: str | None
    upload_id: str | None
    file_bytes: int
    status: int


@dataclass
class _Partial:
    path: Path
    total: int
    public_id: str
    # The byte ranges received, merged: a part sent twice (a retry) is counted once.
    ranges: list = field(default_factory=list)

    def add(self, start, end):
        merged = []
        for low, high in sorted([*self.ranges, (start, end)]):
            if merged and low <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(merged[-1][1], high))
            else:
                merged.append((low, high))
        self.ranges = merged

    @property
    def received(self):
        return sum(high - low + 1 for low, high in self.ranges)


@dataclass(frozen=True)
class EagerJob:
    """An asynchronous eager request (``explicit`` with ``eager_async``) not yet finished."""

    public_id: str
    resource_type: str
    eager: tuple  # the transformations as sent, e.g. ("sp_hd/m3u8",)
    notification_url: str
    batch_id: str


@dataclass(frozen=True)
class Notification:
    """A notification as Cloudinary would POST it: to ``url``, ``body`` (bytes, JSON) with
    ``headers`` (``X-Cld-Timestamp``, ``X-Cld-Signature``, ``Content-Type``)."""

    url: str
    body: bytes
    headers: dict

    @property
    def payload(self):
        return json.loads(self.body)


@dataclass
class _Faults:
    # {action: {n-th request of that action: (status, message)}}
    failures: dict = field(default_factory=dict)
    delay_seconds: float = 0.0


class _ApiError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def _parse_multipart(body, content_type):
    """Split a multipart/form-data body into ``{name: value | [values]}`` and the file part."""
    match = re.search(r'boundary="?([^";]+)"?', content_type or "")
    if not match:
        raise _ApiError(400, "Expected a multipart/form-data request")
    delimiter = b"--" + match.group(1).encode("latin-1")
    fields, file_part = {}, None
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):  # the closing delimiter
            break
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        headers = email.parser.BytesHeaderParser().parsebytes(head + b"\r\n\r\n")
        name = headers.get_param("name", header="content-disposition")
        filename = headers.get_param("filename", header="content-disposition")
        if name is None:
            raise _ApiError(400, "A multipart part has no name")
        if name == "file" and filename is not None:
            file_part = (filename, data)
        elif name.endswith("[]"):
            fields.setdefault(name[:-2], []).append(data.decode())
        else:
            fields[name] = data.decode()
    return fields, file_part


def _as_list(value):
    """A list parameter, sent either as ``k[]`` parts or as one comma-separated string."""
    return value if isinstance(value, list) else value.split(",")


def _md5_of(path):
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as file:
        while block := file.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def _random_suffix(length):
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(length))


def _probe(path, resource_type):
    """``(resource_type, format, width, height, duration)`` of a file, as Cloudinary reads it.

    Raises ``_ApiError`` 400 when the bytes are not of the requested type, like Cloudinary does.
    """
    if resource_type in {"image", "auto"}:
        try:
            with Image.open(path) as image:
                image.verify()
                return (
                    "image",
                    _IMAGE_FORMATS.get(image.format, image.format.lower()),
                    *image.size,
                    None,
                )
        except (UnidentifiedImageError, OSError, SyntaxError):
            if resource_type == "image":
                raise _ApiError(400, "Invalid image file") from None
    if resource_type in {"video", "auto"}:
        info = MediaInfo.parse(path)
        if info.video_tracks or info.audio_tracks:
            video = info.video_tracks[0] if info.video_tracks else None
            duration_ms = info.general_tracks[0].duration
            kind = filetype.guess(str(path))
            return (
                "video",
                kind.extension if kind else "mp4",
                video.width if video else None,
                video.height if video else None,
                round(float(duration_ms) / 1000, 3) if duration_ms else 0.0,
            )
        if resource_type == "video":
            raise _ApiError(400, "Unsupported video format or file")
    kind = filetype.guess(str(path))
    return "raw", kind.extension if kind else "", None, None, None


class FakeCloudinary:
    """The fake's state and behaviour; ``start()`` serves it on 127.0.0.1 (random port)."""

    def __init__(
        self, storage_dir, *, cloud_name=CLOUD_NAME, api_key=API_KEY, api_secret=API_SECRET
    ):
        self.cloud_name = cloud_name
        self.api_key = api_key
        self.api_secret = api_secret
        self._dir = Path(storage_dir)
        self._lock = threading.Lock()
        self._assets = {}
        self._partials = {}
        self._requests = []
        self._faults = _Faults()
        self._counts = {}
        self._eager_jobs = []
        self._derived = {}
        self._frames = []
        self._version = int(time.time())
        self._httpd = None
        # Cloudinary refuses a part of a chunked upload under 5 MB, but for the last one; tests
        # with small parts set what they need (0: any size).
        self.min_part_bytes = 0

    # --- life cycle ---------------------------------------------------------------------------

    def start(self, port=0):
        """Serve on 127.0.0.1:``port`` (0: a free one) from a daemon thread."""
        self._dir.mkdir(parents=True, exist_ok=True)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.fake = self
        threading.Thread(
            target=self._httpd.serve_forever, name="fake-cloudinary", daemon=True
        ).start()
        return self

    def stop(self):
        """Stop serving and remove what was stored."""
        self._httpd.shutdown()
        self._httpd.server_close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def reset(self):
        """Forget every asset, request, partial upload and fault (between tests)."""
        with self._lock:
            for item in [*self._assets.values(), *self._partials.values()]:
                item.path.unlink(missing_ok=True)
            self._assets.clear()
            self._partials.clear()
            self._requests.clear()
            self._faults = _Faults()
            self._counts.clear()
            self._eager_jobs.clear()
            self._derived.clear()
            self._frames.clear()
            self.min_part_bytes = 0

    @property
    def host(self):
        """``127.0.0.1:PORT``, usable as the SDK's ``cname`` for delivery URLs."""
        return f"127.0.0.1:{self._httpd.server_port}"

    @property
    def url(self):
        """``http://127.0.0.1:PORT``, the SDK's ``upload_prefix``."""
        return f"http://{self.host}"

    @property
    def cloudinary_url(self):
        """A ``CLOUDINARY_URL`` pointing the SDK (uploads and delivery URLs) at this fake."""
        return (
            f"cloudinary://{self.api_key}:{self.api_secret}@{self.cloud_name}"
            f"?upload_prefix={self.url}&cname={self.host}"
        )

    def sdk_config(self):
        """Keyword arguments for ``cloudinary.config`` that point the SDK at this fake."""
        return {
            "cloud_name": self.cloud_name,
            "api_key": self.api_key,
            "api_secret": self.api_secret,
            "upload_prefix": self.url,
            "cname": self.host,
            "secure": True,
        }

    # --- what tests read ----------------------------------------------------------------------

    @property
    def assets(self):
        """``{public_id: Asset}`` of everything stored now (a snapshot)."""
        with self._lock:
            return dict(self._assets)

    def public_ids(self, resource_type=None):
        """Sorted public ids stored now, optionally of one resource type."""
        return sorted(
            public_id
            for public_id, asset in self.assets.items()
            if resource_type in (None, asset.resource_type)
        )

    @property
    def uploads(self):
        """Every upload request seen (one per chunk for chunked uploads), oldest first."""
        with self._lock:
            return [request for request in self._requests if request.action == "upload"]

    @property
    def destroys(self):
        """Every destroy request seen, oldest first."""
        with self._lock:
            return [request for request in self._requests if request.action == "destroy"]

    @property
    def explicits(self):
        """Every explicit request seen, oldest first."""
        with self._lock:
            return [request for request in self._requests if request.action == "explicit"]

    @property
    def resource_lookups(self):
        """Every Admin API ``resource`` request seen, oldest first (``params``: the public id
        and the ``resource_type`` asked for)."""
        with self._lock:
            return [request for request in self._requests if request.action == "resource"]

    @property
    def frames(self):
        """``(public_id, transformation)`` of every video frame delivered, oldest first."""
        with self._lock:
            return list(self._frames)

    @property
    def eager_jobs(self):
        """The asynchronous eager requests not yet finished (``finish_eager``), oldest first."""
        with self._lock:
            return list(self._eager_jobs)

    # --- fault injection ----------------------------------------------------------------------

    def fail(self, action, n=1, status=500, message="Internal error (injected by the fake)"):
        """Make the ``n``-th correctly signed (or authenticated) request of ``action`` from now
        answer ``status``: ``upload``, ``destroy``, ``explicit`` or ``resource`` (the Admin API
        lookup of one asset)."""
        with self._lock:
            failures = self._faults.failures.setdefault(action, {})
            failures[self._counts.get(action, 0) + n] = (status, message)

    def fail_upload(self, n=1, status=500, message="Internal error (injected by the fake)"):
        """Make the ``n``-th correctly signed upload request from now answer ``status``.

        Each part of a chunked upload is one request.
        """
        self.fail("upload", n, status, message)

    def fail_destroy(self, n=1, status=500, message="Internal error (injected by the fake)"):
        """Make the ``n``-th correctly signed destroy request from now answer ``status``."""
        self.fail("destroy", n, status, message)

    def delay(self, seconds):
        """Answer every API request ``seconds`` late (0 to stop).

        The work is done first, then the answer waits: like a Cloudinary that stored the asset
        but whose answer came too late, so a client that timed out leaves an orphan behind.
        """
        with self._lock:
            self._faults.delay_seconds = seconds

    # --- the API ------------------------------------------------------------------------------

    def handle_api(self, path, headers, body):
        """Answer one API request: ``(status, json_body, delay_seconds)``."""
        match = _API_PATH.match(urlsplit(path).path)
        if not match:
            return 404, {"error": {"message": f"Unknown API path {path}"}}, 0
        resource_type, action = match["resource_type"], match["action"]
        params, file_part = {}, None
        status = 200
        try:
            if match["cloud"] != self.cloud_name:
                raise _ApiError(401, f"cloud_name {match['cloud']} does not exist")
            if resource_type not in {"image", "video", "raw", "auto"}:
                raise _ApiError(400, f"Invalid resource type {resource_type}")
            params, file_part = _parse_multipart(body, headers.get("Content-Type"))
            self._check_signature(params)
            injected = self._count_and_fault(action)
            if injected:
                raise _ApiError(*injected)
            if action == "upload":
                result = self._upload(resource_type, params, file_part, headers)
            elif action == "explicit":
                result = self._explicit(resource_type, params)
            else:
                result = self._destroy(resource_type, params)
        except _ApiError as exc:
            status, result = exc.status, {"error": {"message": exc.message}}
        with self._lock:
            self._requests.append(
                ApiRequest(
                    action=action,
                    resource_type=resource_type,
                    params={k: v for k, v in params.items() if k != "signature"},
                    content_range=headers.get("Content-Range"),
                    upload_id=headers.get("X-Unique-Upload-Id"),
                    file_bytes=len(file_part[1]) if file_part else 0,
                    status=status,
                )
            )
            delay = self._faults.delay_seconds
        return status, result, delay

    def _check_signature(self, params):
        if params.get("api_key") != self.api_key:
            raise _ApiError(401, f"Unknown API key {params.get('api_key')}")
        signature = params.get("signature", "")
        signed = {k: v for k, v in params.items() if k not in _UNSIGNED_FIELDS}
        # The SDK signs with SHA-1 unless configured for SHA-256; the length tells which.
        algorithm = "sha256" if len(signature) == 64 else "sha1"
        expected = cloudinary.utils.api_sign_request(signed, self.api_secret, algorithm)
        if not hmac.compare_digest(signature, expected):
            raise _ApiError(401, f"Invalid Signature {signature}.")
        timestamp = params.get("timestamp", "")
        if not timestamp.isdigit():
            raise _ApiError(400, "Missing required parameter - timestamp")
        if abs(time.time() - int(timestamp)) > _MAX_TIMESTAMP_AGE:
            raise _ApiError(400, f"Stale request - reported time is {timestamp}")

    def _count_and_fault(self, action):
        with self._lock:
            count = self._counts[action] = self._counts.get(action, 0) + 1
            return self._faults.failures.get(action, {}).pop(count, None)

    def _upload(self, resource_type, params, file_part, headers):
        if file_part is None:
            raise _ApiError(400, "Missing required parameter - file")
        filename, data = file_part
        existing = self._existing(params)
        if existing is not None:
            with self._lock:
                partial = self._partials.pop(headers.get("X-Unique-Upload-Id"), None)
            if partial is not None:
                partial.path.unlink(missing_ok=True)
            return self._describe(existing, filename, existing=True)
        content_range = headers.get("Content-Range")
        if not content_range:
            path = self._dir / f"asset-{_random_suffix(16)}"
            path.write_bytes(data)
            public_id = self._public_id(params, filename)
            return self._store(resource_type, public_id, filename, path, params)
        match = _CONTENT_RANGE.match(content_range)
        upload_id = headers.get("X-Unique-Upload-Id")
        if not match or not upload_id:
            raise _ApiError(400, "Chunked upload needs Content-Range and X-Unique-Upload-Id")
        start, end, total = (int(group) for group in match.groups())
        if end - start + 1 != len(data) or end >= total:
            raise _ApiError(400, f"Content-Range {content_range} does not match the chunk")
        if end + 1 < total and len(data) < self.min_part_bytes:
            raise _ApiError(400, f"Chunk of {len(data)} bytes is too small (all but the last)")
        with self._lock:
            partial = self._partials.get(upload_id)
            if partial is None:
                # The public id is settled by the first part and answered with every part
                # (the SDK's upload_large sends it back with the next ones).
                partial = _Partial(
                    path=self._dir / f"partial-{_random_suffix(16)}",
                    total=total,
                    public_id=self._public_id(params, filename),
                )
                partial.path.touch()
                self._partials[upload_id] = partial
        with partial.path.open("r+b") as out:
            out.seek(start)
            out.write(data)
        with self._lock:
            partial.add(start, end)
        if partial.received < partial.total:
            return {
                "done": False,
                "bytes": partial.received,
                "upload_id": upload_id,
                "public_id": partial.public_id,
            }
        with self._lock:
            del self._partials[upload_id]
        return self._store(resource_type, partial.public_id, filename, partial.path, params)

    def _existing(self, params):
        """The asset an upload with ``overwrite=false`` must not replace, or None."""
        if params.get("overwrite") not in {"0", "false"} or not params.get("public_id"):
            return None
        with self._lock:
            return self._assets.get(self._public_id(params, ""))

    def _public_id(self, params, filename):
        folder = params.get("folder", "").strip("/")
        if params.get("public_id"):
            public_id = params["public_id"]
        elif params.get("use_filename") in {"1", "true"}:
            public_id = re.sub(r"[^\w-]+", "_", Path(filename).stem) or "file"
            if params.get("unique_filename") not in {"0", "false"}:
                public_id += "_" + _random_suffix(6)
        else:
            public_id = _random_suffix(20)
        return f"{folder}/{public_id}" if folder else public_id

    def _store(self, requested_type, public_id, filename, path, params):
        try:
            resource_type, fmt, width, height, duration = _probe(path, requested_type)
        except _ApiError:
            path.unlink(missing_ok=True)
            raise
        with self._lock:
            previous = self._assets.get(public_id)
            if previous is not None and params.get("overwrite") in {"0", "false"}:
                # Taken while this upload was on its way: the same answer as at its start.
                path.unlink(missing_ok=True)
                return self._describe(previous, filename, existing=True)
            self._version += 1
            version = self._version
            asset = Asset(
                public_id=public_id,
                resource_type=resource_type,
                format=fmt,
                bytes=path.stat().st_size,
                version=version,
                path=path,
                width=width,
                height=height,
                duration=duration,
                tags=tuple(filter(None, _as_list(params.get("tags", "")))),
            )
            self._assets[public_id] = asset
        if previous is not None:
            previous.path.unlink(missing_ok=True)
        return self._describe(asset, filename)

    def _describe(self, asset, filename, *, existing=False):
        delivery = f"{self.host}/{self.cloud_name}/{asset.resource_type}/upload/v{asset.version}/"
        delivery += f"{asset.public_id}.{asset.format}" if asset.format else asset.public_id
        folder, _, _ = asset.public_id.rpartition("/")
        result = {
            "asset_id": hashlib.md5(asset.public_id.encode(), usedforsecurity=False).hexdigest(),
            "public_id": asset.public_id,
            "version": asset.version,
            "version_id": _random_suffix(32),
            "signature": cloudinary.utils.api_sign_request(
                {"public_id": asset.public_id, "version": asset.version},
                self.api_secret,
                signature_version=1,
            ),
            "width": asset.width,
            "height": asset.height,
            "format": asset.format,
            "resource_type": asset.resource_type,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "tags": list(asset.tags),
            "bytes": asset.bytes,
            "type": "upload",
            "etag": _md5_of(asset.path),
            "placeholder": False,
            "url": f"http://{delivery}",
            "secure_url": f"https://{delivery}",
            "folder": folder,
            "original_filename": Path(filename).stem,
            "api_key": self.api_key,
        }
        if asset.resource_type == "video":
            result["duration"] = asset.duration
        if existing:
            result["existing"] = True
        return result

    def _destroy(self, resource_type, params):
        public_id = params.get("public_id")
        if not public_id:
            raise _ApiError(400, "Missing required parameter - public_id")
        with self._lock:
            asset = self._assets.get(public_id)
            if asset is None or asset.resource_type != resource_type:
                return {"result": "not found"}
            del self._assets[public_id]
        asset.path.unlink(missing_ok=True)
        return {"result": "ok"}

    def _explicit(self, resource_type, params):
        public_id = params.get("public_id")
        if not public_id:
            raise _ApiError(400, "Missing required parameter - public_id")
        with self._lock:
            asset = self._assets.get(public_id)
        if asset is None or asset.resource_type != resource_type:
            raise _ApiError(404, f"Resource not found - {public_id}")
        eager = tuple(filter(None, params.get("eager", "").split("|")))
        result = self._describe(asset, "")
        if not eager:
            return result
        if params.get("eager_async") in {"1", "true"}:
            batch_id = _random_suffix(32)
            with self._lock:
                self._eager_jobs.append(
                    EagerJob(
                        public_id=public_id,
                        resource_type=resource_type,
                        eager=eager,
                        notification_url=params.get("eager_notification_url", ""),
                        batch_id=batch_id,
                    )
                )
            result["eager"] = [{"status": "processing", "batch_id": batch_id} for _ in eager]
            return result
        result["eager"] = self._derive(asset, eager)
        return result

    def _derive(self, asset, eager):
        """The derived assets of ``eager`` transformations (``<transformation>/<format>``)."""
        derived = []
        for transformation in eager:
            spec, _, fmt = transformation.rpartition("/")
            path = (
                f"{self.host}/{self.cloud_name}/{asset.resource_type}/upload/{spec}/"
                f"v{asset.version}/{asset.public_id}.{fmt}"
            )
            derived.append(
                {
                    "transformation": transformation,
                    "width": asset.width,
                    "height": asset.height,
                    "bytes": 512,
                    "format": fmt,
                    "url": f"http://{path}",
                    "secure_url": f"https://{path}",
                }
            )
        with self._lock:
            self._derived.setdefault(asset.public_id, []).extend(derived)
        return derived

    def finish_eager(self, public_id=None, *, failed=None):
        """Finish the oldest asynchronous eager job (of ``public_id``, if given) and return the
        ``Notification`` Cloudinary would send to its ``eager_notification_url``: the derived
        assets, or, with ``failed`` (a reason), each transformation ``"status": "failed"``.
        The job is gone; the test delivers the notification (once, twice, or never)."""
        with self._lock:
            job = next((j for j in self._eager_jobs if public_id in (None, j.public_id)), None)
            if job is None:
                raise LookupError(f"No eager job pending for {public_id or 'any asset'}")
            self._eager_jobs.remove(job)
            asset = self._assets.get(job.public_id)
        if failed is not None or asset is None:
            reason = failed or "Resource not found"
            eager = [{"transformation": t, "status": "failed", "reason": reason} for t in job.eager]
        else:
            eager = [{**d, "status": "complete"} for d in self._derive(asset, job.eager)]
        payload = {
            "notification_type": "eager",
            "eager": eager,
            "batch_id": job.batch_id,
            "asset_id": hashlib.md5(job.public_id.encode(), usedforsecurity=False).hexdigest(),
            "public_id": job.public_id,
            "resource_type": job.resource_type,
            "type": "upload",
        }
        body = json.dumps(payload).encode()
        return Notification(
            url=job.notification_url, body=body, headers=self.sign_notification(body)
        )

    def sign_notification(self, body, timestamp=None):
        """The headers of a notification with ``body`` (bytes) sent at ``timestamp`` (default
        now), signed as Cloudinary signs them: hex SHA-1 of body, timestamp and API secret."""
        timestamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = hashlib.sha1(
            body + timestamp.encode() + self.api_secret.encode(), usedforsecurity=False
        ).hexdigest()
        return {
            "Content-Type": "application/json",
            "X-Cld-Timestamp": timestamp,
            "X-Cld-Signature": signature,
        }

    # --- the Admin API ------------------------------------------------------------------------

    def handle_admin_get(self, path, headers):
        """Answer an Admin API GET that names one asset: ``(status, json_body)``, or None when
        ``path`` is not one (delivery, or another Admin API route)."""
        match = _ADMIN_RESOURCE_PATH.match(unquote(urlsplit(path).path))
        if not match:
            return None
        resource_type, public_id = match["resource_type"], match["public_id"]
        status = 200
        credentials = base64.b64encode(f"{self.api_key}:{self.api_secret}".encode()).decode()
        try:
            if match["cloud"] != self.cloud_name:
                raise _ApiError(401, f"cloud_name {match['cloud']} does not exist")
            if headers.get("Authorization") != f"Basic {credentials}":
                raise _ApiError(401, "Invalid credentials")
            injected = self._count_and_fault("resource")
            if injected:
                raise _ApiError(*injected)
            with self._lock:
                asset = self._assets.get(public_id)
                derived = list(self._derived.get(public_id, []))
            if asset is None or asset.resource_type != resource_type or match["type"] != "upload":
                raise _ApiError(404, f"Resource not found - {public_id}")
            result = self._describe(asset, "")
            for name in ("existing", "original_filename", "api_key", "signature"):
                result.pop(name, None)
            if resource_type == "video":
                # Cloudinary stores audio files as video assets and says so.
                result["is_audio"] = asset.width is None
            result["derived"] = [
                {
                    "transformation": d["transformation"],
                    "format": d["format"],
                    "bytes": d["bytes"],
                    "url": d["url"],
                    "secure_url": d["secure_url"],
                }
                for d in derived
            ]
        except _ApiError as exc:
            status, result = exc.status, {"error": {"message": exc.message}}
        with self._lock:
            self._requests.append(
                ApiRequest(
                    action="resource",
                    resource_type=resource_type,
                    params={"public_id": public_id},
                    content_range=None,
                    upload_id=None,
                    file_bytes=0,
                    status=status,
                )
            )
        return status, result

    def frame(self, path):
        """The JPEG bytes of the frame a delivery URL path asks for, or None when it asks for
        none (or of a video the fake does not hold)."""
        match = _FRAME_PATH.match(unquote(urlsplit(path).path))
        if not match or match["cloud"] != self.cloud_name:
            return None
        asset = self.assets.get(match["public_id"])
        if asset is None or asset.resource_type != "video":
            return None
        with self._lock:
            self._frames.append((asset.public_id, match["transformation"]))
        buffer = io.BytesIO()
        Image.new("RGB", (asset.width or 64, asset.height or 64), (20, 120, 200)).save(
            buffer, format="JPEG"
        )
        return buffer.getvalue()

    def find_delivered(self, path):
        """The asset a delivery URL path names, or None."""
        match = _DELIVERY_PATH.match(unquote(urlsplit(path).path))
        if not match or match["cloud"] != self.cloud_name:
            return None
        public_id = match["public_id"]
        assets = self.assets
        candidates = [public_id, public_id.rpartition(".")[0]]
        for candidate in candidates:
            asset = assets.get(candidate)
            if asset is not None and asset.resource_type == match["resource_type"]:
                return asset
        return None


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive, as the SDK's connection pool expects; every answer carries Content-Length.
    protocol_version = "HTTP/1.1"
    server_version = "FakeCloudinary/1.0"

    def log_message(self, format, *args):
        """Quiet: tests assert on recorded requests, not on a log."""

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = self.rfile.read(length)
        except OSError:
            body = b""
        if len(body) < length:
            # The client gave up while sending (a timeout cut short by a deadline): a request
            # that never arrived whole is not processed.
            self.close_connection = True
            return
        status, result, delay = self.server.fake.handle_api(self.path, self.headers, body)
        if delay:
            time.sleep(delay)
        self._send(status, json.dumps(result).encode(), "application/json")

    def do_GET(self):
        answer = self.server.fake.handle_admin_get(self.path, self.headers)
        if answer is not None:
            status, result = answer
            self._send(status, json.dumps(result).encode(), "application/json")
            return
        self._deliver(with_body=True)

    def do_HEAD(self):
        self._deliver(with_body=False)

    def _deliver(self, *, with_body):
        frame = self.server.fake.frame(self.path)
        if frame is not None:
            self._send(200, frame if with_body else b"", "image/jpeg", length=len(frame))
            return
        asset = self.server.fake.find_delivered(self.path)
        if asset is None:
            self._send(404, b"Resource not found", "text/plain", with_body=with_body)
            return
        content_type = mimetypes.guess_type(f"x.{asset.format}")[0] or "application/octet-stream"
        self._send(200, asset.read() if with_body else b"", content_type, length=asset.bytes)

    def _send(self, status, payload, content_type, *, with_body=True, length=None):
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload) if length is None else length))
            self.end_headers()
            if with_body and payload:
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a timeout test): nothing to answer to.
            self.close_connection = True


# --- pytest fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def fake_cloudinary_server(tmp_path_factory):
    """The fake, started once for the session. Most tests want ``fake_cloudinary`` instead."""
    fake = FakeCloudinary(tmp_path_factory.mktemp("fake-cloudinary")).start()
    # django-cloudinary-storage's settings module raises ImproperlyConfigured when it is imported,
    # or reloaded (on any change of MEDIA_URL or CLOUDINARY_STORAGE), without credentials in the
    # environment. These three satisfy it for the whole session, whatever a test changes; unlike
    # CLOUDINARY_URL they do not switch viztube.settings to Cloudinary in a child process.
    names = {
        "CLOUDINARY_CLOUD_NAME": fake.cloud_name,
        "CLOUDINARY_API_KEY": fake.api_key,
        "CLOUDINARY_API_SECRET": fake.api_secret,
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in names.items():
            patch.setenv(name, value)
        yield fake
    fake.stop()


@pytest.fixture
def fake_cloudinary(fake_cloudinary_server, settings):
    """Cloudinary mode for one test, against an emptied fake; yields the ``FakeCloudinary``.

    The SDK is configured for the fake and ``settings.STORAGES`` "default"/"videos" become the
    Cloudinary backends; both are restored after. ``settings.CLOUDINARY_URL`` is left empty on
    purpose: ``viztube.urls`` reads it once, when the URLconf is first loaded, and a test that
    happened to load it here would remove the local /media/ route for the rest of the session.
    Delivery URLs are https (unreachable) as in production; set
    ``settings.CLOUDINARY_STORAGE = {"SECURE": False}`` to get http URLs served by the fake.
    """
    fake = fake_cloudinary_server
    fake.reset()
    cloudinary.config(**fake.sdk_config())
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "media.cloudinary_backends.CloudinaryImageStorage"},
        "videos": {"BACKEND": "media.cloudinary_backends.CloudinaryVideoStorage"},
    }
    try:
        yield fake
    finally:
        cloudinary.reset_config()
        fake.reset()


def main():
    """Serve the fake until interrupted; print the CLOUDINARY_URL that points at it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: free)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fake-cloudinary-") as folder:
        fake = FakeCloudinary(folder).start(args.port)
        print(fake.cloudinary_url, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            fake.stop()


if __name__ == "__main__":
    main()
