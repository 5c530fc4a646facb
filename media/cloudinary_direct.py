"""Cloudinary's side of direct uploads and of the HLS rendition, through the ``cloudinary`` SDK.

- ``sign_upload``: the signed parameters with which a client uploads a video straight to
  Cloudinary under a public id we chose (``POST /uploads/cloudinary-signature``).
- ``video_asset``: what the Admin API says of the asset stored under a public id, before a video
  is published from it; ``video_frame``: a still of it that Cloudinary makes, for a thumbnail.
- ``request_streaming``: asks Cloudinary for the HLS rendition (an eager transformation with a
  streaming profile, format ``m3u8``), made in the background; Cloudinary posts an ``eager``
  notification to our webhook when it is done or has failed.
- ``notification_payload`` / ``streaming_outcome``: a notification's signature and timestamp
  checked, its body read, and what it says about a video's HLS rendition.

Only the SDK is imported here, never django-cloudinary-storage (whose settings refuse to load
without credentials): the webhook must answer, with a 404, on a deployment without Cloudinary.
"""

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass

import cloudinary
import cloudinary.api
import cloudinary.uploader
import cloudinary.utils
import requests
from cloudinary.exceptions import Error as CloudinaryError
from cloudinary.exceptions import NotFound as CloudinaryNotFound
from django.conf import settings

from media.errors import MediaRefused, MediaStorageError
from viztube import errors
from viztube.middleware import API_PREFIX

logger = logging.getLogger(__name__)

RESOURCE_TYPE = "video"
# Cloudinary sends a notification at once and retries a refused one within minutes; one older
# than this is a replay, as the SDK's own check has it (verify_notification_signature).
NOTIFICATION_MAX_AGE_SECONDS = 2 * 60 * 60
# A timestamp this far ahead of our clock is refused too (clocks drift, but not by hours).
NOTIFICATION_MAX_AHEAD_SECONDS = 5 * 60
# Unix time in seconds: 10 digits until 2286; anything longer is not a timestamp.
_TIMESTAMP_MAX_DIGITS = 12
_SIGNATURE_MAX_LENGTH = 128
HLS_FORMAT = "m3u8"
STREAMING_URL_MAX_LENGTH = 500

MISSING_SIGNATURE = "The notification is not signed (X-Cld-Signature and X-Cld-Timestamp)"
BAD_TIMESTAMP = "The notification's timestamp (X-Cld-Timestamp) is not a Unix time"
STALE_TIMESTAMP = "The notification's timestamp is too old, or ahead of the server's clock"
BAD_SIGNATURE = "The notification's signature does not match"
NOT_A_NOTIFICATION = "The notification's body is not a JSON object"


# Where the webhook is routed (videos.urls): the videos it updates live a layer above media.
WEBHOOK_PATH = f"{API_PREFIX}webhooks/cloudinary"


def _timeout():
    return settings.CLOUDINARY_TIMEOUT_SECONDS


def notification_url(request=None):
    """The absolute URL of our webhook, as Cloudinary must reach it:
    ``CLOUDINARY_NOTIFICATION_URL``, else built from ``request`` (the Host it came to, which
    ``ALLOWED_HOSTS`` vouches for), else "" (a background task without either)."""
    if settings.CLOUDINARY_NOTIFICATION_URL:
        return settings.CLOUDINARY_NOTIFICATION_URL
    return request.build_absolute_uri(WEBHOOK_PATH) if request is not None else ""


# --- Direct uploads -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedUpload:
    """What a client needs to upload a file straight to Cloudinary under ``public_id``: POST
    the file as ``file`` to ``upload_url`` with every one of ``fields`` as it is."""

    public_id: str
    upload_url: str
    cloud_name: str
    api_key: str
    timestamp: int
    signature: str
    notification_url: str
    fields: dict


def sign_upload(public_id, *, notification_url, tags=""):
    """Signed Upload API parameters for one upload of a video under ``public_id``, valid for
    the hour Cloudinary accepts a signed timestamp.

    The signature covers every parameter but the file and the API key (the SDK's
    ``sign_request``), so the client can change none: not the public id, not ``overwrite``
    (false: an asset stored under the id is never replaced, so what was verified at publish
    time stays what is published), not where Cloudinary posts its upload notification. The
    resource type is the upload URL's, not a signed parameter: a file sent elsewhere becomes
    an image or raw asset, which publishing refuses (it looks the public id up as a video).
    """
    params = {
        "public_id": public_id,
        "timestamp": int(time.time()),
        "overwrite": False,
        "notification_url": notification_url,
        "tags": tags,
    }
    fields = {key: str(value) for key, value in cloudinary.utils.sign_request(params, {}).items()}
    config = cloudinary.config()
    return SignedUpload(
        public_id=public_id,
        upload_url=cloudinary.utils.cloudinary_api_url("upload", resource_type=RESOURCE_TYPE),
        cloud_name=config.cloud_name,
        api_key=fields["api_key"],
        timestamp=int(fields["timestamp"]),
        signature=fields["signature"],
        notification_url=notification_url,
        fields=fields,
    )


@dataclass(frozen=True)
class VideoAsset:
    """A video asset as the Admin API describes it."""

    public_id: str
    bytes: int
    duration: float
    has_video_track: bool


def video_asset(public_id):
    """The video asset stored under ``public_id`` (Admin API ``resource``), or None when
    Cloudinary holds no video asset of that public id (none at all, or an image or raw one).

    Raises ``MediaStorageError`` when Cloudinary could not be asked (network, timeout, error
    answer), and ``MediaRefused`` when it answers with an asset that is not exactly that one.
    """
    try:
        found = cloudinary.api.resource(
            public_id, resource_type=RESOURCE_TYPE, type="upload", timeout=_timeout()
        )
    except CloudinaryNotFound:
        return None
    except (CloudinaryError, OSError) as exc:
        logger.warning("Cloudinary did not describe the asset %s: %s", public_id, exc)
        raise MediaStorageError(f"Cloudinary Admin API failed: {exc}", name=public_id) from exc
    if (found.get("public_id"), found.get("resource_type"), found.get("type")) != (
        public_id,
        RESOURCE_TYPE,
        "upload",
    ):
        logger.warning("Cloudinary described %s as %r", public_id, dict(found))
        raise MediaRefused("the asset is not the video asked for", name=public_id)
    try:
        size = int(found.get("bytes") or 0)
        duration = float(found.get("duration") or 0.0)
    except (TypeError, ValueError):
        raise MediaRefused("the asset's size or duration is unreadable", name=public_id) from None
    return VideoAsset(
        public_id=public_id,
        bytes=size,
        duration=max(duration, 0.0),
        # Cloudinary keeps audio files as video assets, and says so.
        has_video_track=not found.get("is_audio") and bool(found.get("width")),
    )


# --- A frame, for a video without a thumbnail ----------------------------------------------------

# Cloudinary makes a still of a video on request: a tenth into it (as media.frames takes one
# from a local file), scaled down to fit the box a thumbnail is shown in.
FRAME_TRANSFORMATION = {"start_offset": "10p", "width": 1280, "height": 1280, "crop": "limit"}
_FRAME_READ_BYTES = 64 * 1024


def frame_url(public_id):
    """The delivery URL of a JPEG frame of the video asset ``public_id``."""
    secure = getattr(settings, "CLOUDINARY_STORAGE", {}).get("SECURE", True)
    return cloudinary.CloudinaryVideo(public_id).build_url(
        format="jpg", secure=secure, **FRAME_TRANSFORMATION
    )


def video_frame(public_id):
    """The JPEG bytes of a frame of the video asset ``public_id``, made by Cloudinary (the
    video is never downloaded), or None when Cloudinary makes none (4xx) or it is larger than
    an image may be. Raises ``MediaStorageError`` when Cloudinary could not be asked."""
    limit = settings.IMAGE_MAX_UPLOAD_MB * 1024 * 1024
    try:
        with requests.get(frame_url(public_id), stream=True, timeout=_timeout()) as response:
            if 400 <= response.status_code < 500:
                logger.warning(
                    "Cloudinary made no frame of %s: %s", public_id, response.status_code
                )
                return None
            response.raise_for_status()
            data = bytearray()
            for block in response.iter_content(_FRAME_READ_BYTES):
                data += block
                if len(data) > limit:
                    logger.warning("The frame of %s is over %d bytes", public_id, limit)
                    return None
    except requests.RequestException as exc:
        raise MediaStorageError(f"Cloudinary frame failed: {exc}", name=public_id) from exc
    return bytes(data)


# --- The HLS rendition --------------------------------------------------------------------------


def streaming_transformation():
    """The eager transformation of the HLS rendition: the streaming profile, format m3u8."""
    return {"streaming_profile": settings.CLOUDINARY_STREAMING_PROFILE, "format": HLS_FORMAT}


def request_streaming(public_id, *, notification_url):
    """Ask Cloudinary to make the HLS rendition of the video asset ``public_id`` in the
    background (``explicit`` with an async eager transformation); Cloudinary posts an ``eager``
    notification to ``notification_url`` (our webhook) when it is done or has failed. Without
    a URL Cloudinary posts to the account's global notification URL, if it has one.

    Asking twice is harmless: Cloudinary makes the rendition once and notifies again.
    Raises ``MediaRefused`` when Cloudinary holds no such video asset, ``MediaStorageError``
    when it could not be asked (worth retrying).
    """
    options = {
        "type": "upload",
        "resource_type": RESOURCE_TYPE,
        "eager": [streaming_transformation()],
        "eager_async": True,
        "timeout": _timeout(),
    }
    if notification_url:
        options["eager_notification_url"] = notification_url
    else:
        logger.warning(
            "No notification URL for the HLS rendition of %s: set CLOUDINARY_NOTIFICATION_URL",
            public_id,
        )
    try:
        return cloudinary.uploader.explicit(public_id, **options)
    except CloudinaryNotFound as exc:
        raise MediaRefused(f"Cloudinary holds no video {public_id}", name=public_id) from exc
    except (CloudinaryError, OSError) as exc:
        logger.warning("Cloudinary did not take the HLS request for %s: %s", public_id, exc)
        raise MediaStorageError(f"Cloudinary explicit failed: {exc}", name=public_id) from exc


# --- Notifications ------------------------------------------------------------------------------


class NotificationRefused(errors.InvalidCredentials):
    """The notification is not Cloudinary's (no signature, a wrong one) or is too old: 401."""


def _expected_signature(body, timestamp):
    # The formula of the SDK's verify_notification_signature (hex digest of body, timestamp and
    # API secret, with the configured algorithm), computed here so that the comparison takes
    # constant time (the SDK compares with ==) and so that a body that is not UTF-8 needs no
    # decoding first.
    config = cloudinary.config()
    algorithm = (config.signature_algorithm or cloudinary.utils.SIGNATURE_SHA1).lower()
    secret = (config.api_secret or "").encode()
    if not secret:
        raise MediaStorageError("Cloudinary has no API secret configured")
    return hashlib.new(algorithm, body + timestamp.encode() + secret).hexdigest()


def notification_payload(body, *, timestamp, signature, now=None):
    """The JSON object of a notification whose signature and timestamp hold.

    ``body`` is the request body as it came (bytes); ``timestamp`` and ``signature`` are the
    ``X-Cld-Timestamp`` and ``X-Cld-Signature`` headers. 401 (``NotificationRefused``) without
    them, with a timestamp over ``NOTIFICATION_MAX_AGE_SECONDS`` old (or ahead of our clock)
    or with a signature that does not match; 400 for a signed body that is not a JSON object.
    """
    timestamp, signature = (timestamp or "").strip(), (signature or "").strip().lower()
    if not timestamp or not signature:
        raise NotificationRefused(MISSING_SIGNATURE)
    if not signature.isascii() or len(signature) > _SIGNATURE_MAX_LENGTH:
        raise NotificationRefused(BAD_SIGNATURE)
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > _TIMESTAMP_MAX_DIGITS:
        raise NotificationRefused(BAD_TIMESTAMP)
    age = (time.time() if now is None else now) - int(timestamp)
    if age > NOTIFICATION_MAX_AGE_SECONDS or age < -NOTIFICATION_MAX_AHEAD_SECONDS:
        raise NotificationRefused(STALE_TIMESTAMP)
    if not hmac.compare_digest(_expected_signature(body, timestamp), signature):
        raise NotificationRefused(BAD_SIGNATURE)
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise errors.InvalidRequest(NOT_A_NOTIFICATION) from None
    if not isinstance(payload, dict):
        raise errors.InvalidRequest(NOT_A_NOTIFICATION)
    return payload


@dataclass(frozen=True)
class StreamingOutcome:
    """What an eager notification says of a video's HLS rendition: its ``streaming_url`` (the
    secure ``.m3u8`` URL) or, when Cloudinary could not make it, ``failure`` (the reason)."""

    public_id: str
    streaming_url: str = ""
    failure: str = ""


def _is_hls(derived):
    transformation = derived.get("transformation")
    url = derived.get("secure_url")
    return (
        derived.get("format") == HLS_FORMAT
        or (isinstance(transformation, str) and transformation.endswith("/" + HLS_FORMAT))
        or (isinstance(url, str) and url.split("?", 1)[0].endswith("." + HLS_FORMAT))
    )


def _text(value, limit=500):
    return value.strip()[:limit] if isinstance(value, str) else ""


def streaming_outcome(payload):
    """The ``StreamingOutcome`` of an ``eager`` notification of a video asset, or None for any
    other notification (an upload, a rename, an eager without an HLS rendition...) and for one
    whose fields are not what Cloudinary sends."""
    if payload.get("notification_type") != "eager":
        return None
    public_id = payload.get("public_id")
    if not isinstance(public_id, str) or not public_id or len(public_id) > 255:
        return None
    if payload.get("resource_type", RESOURCE_TYPE) != RESOURCE_TYPE:
        return None
    derived = payload.get("eager")
    if not isinstance(derived, list):
        return None
    for item in derived:
        if not isinstance(item, dict) or not _is_hls(item):
            continue
        url = item.get("secure_url")
        failed = item.get("status") == "failed" or "error" in item
        if failed or not isinstance(url, str):
            error = item.get("error")
            reason = _text(item.get("reason")) or (
                _text(error.get("message")) if isinstance(error, dict) else _text(error)
            )
            return StreamingOutcome(public_id, failure=reason or "no reason given")
        if not url.startswith("https://") or len(url) > STREAMING_URL_MAX_LENGTH:
            logger.warning("Eager notification of %s with an unusable URL %r", public_id, url)
            return None
        return StreamingOutcome(public_id, streaming_url=url)
    return None
