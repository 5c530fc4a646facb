"""Checks every uploaded file passes before anything is stored: decided by its bytes, never by
the name or the declared Content-Type.

Images are decoded with Pillow and re-encoded, which drops trailing payloads (a script appended
to a PNG), metadata (EXIF, GPS) and anything but the pixels. Videos are sniffed by magic bytes
(filetype) and probed with MediaInfo for a readable video track and its duration.
"""

import contextlib
import io
import math
import tempfile
import warnings
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError
from pymediainfo import MediaInfo

from viztube import errors

MB = 1024 * 1024
# Pillow only refuses images above 2 x 89.5 MP; a 10,000 x 10,000 PNG bomb of 12 KB passes that.
MAX_IMAGE_PIXELS = 25_000_000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
IMAGE_FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
}
VIDEO_TYPES = {
    "video/mp4": "mp4",
    "video/webm": "webm",
    "video/x-matroska": "mkv",
    "video/quicktime": "mov",
}
_SNIFF_BYTES = 8192


def _field_error(field, message):
    return errors.InvalidInput(fields={field: [message]})


def _check_size(upload, field, limit_mb):
    if upload.size > limit_mb * MB:
        raise errors.TooLarge(f"{field} is larger than {limit_mb} MB")
    if upload.size == 0:
        raise _field_error(field, "The file is empty.")


def _head(upload):
    upload.seek(0)
    head = upload.read(_SNIFF_BYTES)
    upload.seek(0)
    return head


def clean_images(**uploads):
    """``clean_image`` for each ``field=upload`` (``None`` passes through), reporting the
    problems of all of them in one ``InvalidInput``; ``TooLarge`` is raised at once."""
    cleaned, problems = {}, {}
    for field, upload in uploads.items():
        try:
            cleaned[field] = None if upload is None else clean_image(upload, field=field)
        except errors.InvalidInput as exc:
            problems.update(exc.fields)
    if problems:
        raise errors.InvalidInput(fields=problems)
    return cleaned


def clean_image(upload, *, field):
    """Validate an uploaded image and return it re-encoded as a ``ContentFile`` (JPEG/PNG/WebP).

    Raises 413 when it is over ``IMAGE_MAX_UPLOAD_MB`` and 422 (naming ``field``) when it is not
    a decodable JPEG, PNG or WebP image of at most ``MAX_IMAGE_PIXELS`` pixels.
    """
    _check_size(upload, field, settings.IMAGE_MAX_UPLOAD_MB)
    kind = filetype.guess(_head(upload))
    not_an_image = _field_error(field, "Must be a JPEG, PNG or WebP image.")
    if kind is None or kind.mime not in {mime for _, mime in IMAGE_FORMATS.values()}:
        raise not_an_image
    too_many_pixels = _field_error(field, "The image is too large: at most 25 megapixels.")
    try:
        with warnings.catch_warnings():
            # Pillow warns (instead of failing) between 1x and 2x its limit: refuse those too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise too_many_pixels from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise not_an_image from None
    try:
        with image:
            if image.format not in IMAGE_FORMATS:
                raise not_an_image
            width, height = image.size
            # Checked from the header, before any pixel is decoded.
            if width * height > MAX_IMAGE_PIXELS:
                raise too_many_pixels
            image_format = image.format
            image.load()
            pixels = ImageOps.exif_transpose(image)
            if pixels.mode not in {"RGB", "RGBA", "L", "LA"}:
                pixels = pixels.convert("RGBA" if "A" in pixels.getbands() else "RGB")
            if image_format == "JPEG" and pixels.mode != "RGB":
                pixels = pixels.convert("RGB")
            output = io.BytesIO()
            save_options = (
                {"quality": 90} if image_format in {"JPEG", "WEBP"} else {"optimize": True}
            )
            pixels.save(output, format=image_format, **save_options)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise not_an_image from None
    finally:
        upload.seek(0)
    extension, _ = IMAGE_FORMATS[image_format]
    return ContentFile(output.getvalue(), name=f"image.{extension}")


@dataclass(frozen=True)
class VideoInfo:
    duration: float
    mime: str
    extension: str


NOT_A_VIDEO = "Must be an MP4, WebM, Matroska or QuickTime video."
NO_VIDEO_TRACK = "The video has no readable video track (damaged or truncated file)."
NO_DURATION = "The video has no duration."


class UnreadableVideo(Exception):
    """Bytes that are not a video we accept; ``problem`` is one of ``NOT_A_VIDEO``,
    ``NO_VIDEO_TRACK`` and ``NO_DURATION`` (the 422 message of a publish)."""

    def __init__(self, problem):
        super().__init__(problem)
        self.problem = problem


def sniff_video_type(head):
    """``(mime, extension)`` of a video we accept, from its first bytes; None for anything else."""
    kind = filetype.guess(head)
    if kind is None or kind.mime not in VIDEO_TYPES:
        return None
    return kind.mime, VIDEO_TYPES[kind.mime]


def inspect_video(path):
    """The ``VideoInfo`` of the video file at ``path``; ``UnreadableVideo`` unless its bytes are
    MP4, WebM, Matroska or QuickTime with a complete, readable video track that has a duration.

    MediaInfo reads the container's headers (and the index at the end of an MP4), not the whole
    file: a few milliseconds whatever the size."""
    with open(path, "rb") as file:
        sniffed = sniff_video_type(file.read(_SNIFF_BYTES))
    if sniffed is None:
        raise UnreadableVideo(NOT_A_VIDEO)
    info = MediaInfo.parse(path)
    general = info.general_tracks[0] if info.general_tracks else None
    video_track = next((t for t in info.video_tracks if t.duration), None)
    if general is None or video_track is None or general.istruncated == "Yes":
        raise UnreadableVideo(NO_VIDEO_TRACK)
    duration = float(video_track.duration) / 1000
    # NaN or infinity would pass "<= 0" (and the column's CHECK) and encode as null.
    if not math.isfinite(duration) or duration <= 0:
        raise UnreadableVideo(NO_DURATION)
    mime, extension = sniffed
    return VideoInfo(duration=round(duration, 3), mime=mime, extension=extension)


def probe_video(upload, *, field="videoFile", max_mb=None):
    """Validate an uploaded video and return its duration and type (``inspect_video``).

    413 over ``max_mb`` (default ``SINGLE_UPLOAD_MAX_MB``, the cap of a video sent in one
    request); 422 naming ``field`` unless ``inspect_video`` accepts it.
    """
    _check_size(upload, field, max_mb or settings.SINGLE_UPLOAD_MAX_MB)
    # The type first, from the bytes in memory, before a copy to disk is made.
    if sniff_video_type(_head(upload)) is None:
        raise _field_error(field, NOT_A_VIDEO)
    with on_disk(upload) as path:
        try:
            return inspect_video(path)
        except UnreadableVideo as exc:
            raise _field_error(field, exc.problem) from None


@contextlib.contextmanager
def on_disk(upload):
    """The upload's path on disk: Django's temp file when it spooled one, else a short-lived copy."""
    if hasattr(upload, "temporary_file_path"):
        yield upload.temporary_file_path()
        return
    with tempfile.NamedTemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR, suffix=".probe") as copy:
        upload.seek(0)
        for chunk in upload.chunks():
            copy.write(chunk)
        copy.flush()
        upload.seek(0)
        yield copy.name
