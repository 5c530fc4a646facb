"""Cloudinary storages for images and videos (selected in ``settings.STORAGES`` when
``CLOUDINARY_URL`` is set).

They subclass django-cloudinary-storage 0.3.0 and change what it gets wrong for us
(measured):

- its save calls ``cloudinary.uploader.upload``, whose file handling reads the whole file into
  memory; here every upload is sent in fixed-size parts (the requests of the SDK's
  ``upload_large``, one ``upload_large_part`` each), so a 500 MB video costs one part of memory,
  not 500 MB;
- it lets Cloudinary choose the public id (file name plus a random suffix), so an upload whose
  answer never came cannot be found again; here the public id is the storage name, which the
  callers already make unique and unguessable, sent with ``overwrite=False`` so that an asset
  already stored under that id is never replaced, and an unanswered upload is destroyed again;
- its uploads, HEAD checks and downloads have no timeout, so a hanging Cloudinary would hold a
  worker until gunicorn kills it; here every call has ``CLOUDINARY_TIMEOUT_SECONDS``, and a
  whole upload, all its parts together, ``CLOUDINARY_UPLOAD_DEADLINE_SECONDS``;
- its errors surface as assorted SDK/requests exceptions (or as a ``False`` from ``delete``); here
  a failed upload or read raises ``MediaStorageError`` and a failed delete logs a warning.

Importing this module imports ``cloudinary_storage``, whose settings module refuses to load without
credentials in the environment; code that only needs the error class imports
``media.errors`` instead.
"""

import logging
import os
import posixpath
import tempfile
import time

import cloudinary
import cloudinary.uploader
import cloudinary.utils
import requests
import urllib3
from cloudinary.exceptions import BadRequest as CloudinaryBadRequest
from cloudinary.exceptions import Error as CloudinaryError
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files import File

from media.errors import MediaRefused, MediaStorageError

try:
    from cloudinary_storage.storage import MediaCloudinaryStorage, VideoMediaCloudinaryStorage
except ImproperlyConfigured as exc:  # raised by cloudinary_storage.app_settings at import
    raise ImproperlyConfigured(
        "The Cloudinary storages need credentials in the environment: set "
        "CLOUDINARY_URL=cloudinary://key:secret@cloud (settings only select them when it is set)."
    ) from exc

logger = logging.getLogger(__name__)

_DOWNLOAD_BLOCK_BYTES = 64 * 1024


def cloudinary_timeout():
    """Seconds any single Cloudinary call may take (``settings.CLOUDINARY_TIMEOUT_SECONDS``)."""
    return settings.CLOUDINARY_TIMEOUT_SECONDS


def upload_deadline_seconds():
    """Seconds one whole upload may take, all parts together
    (``settings.CLOUDINARY_UPLOAD_DEADLINE_SECONDS``)."""
    return settings.CLOUDINARY_UPLOAD_DEADLINE_SECONDS


def upload_chunk_bytes():
    """Size of one upload part (``settings.CLOUDINARY_UPLOAD_CHUNK_BYTES``).

    While a part is sent about four copies of it are alive (the bytes read, urllib3's multipart
    buffer, its getvalue() copy), so this sets what an upload costs in memory. Measured with
    bench/upload_memory.py for a 500 MB video: 6 MiB parts -> 24 MB of RSS growth; the SDK's
    default 20 MB parts -> 80 MB.
    """
    return settings.CLOUDINARY_UPLOAD_CHUNK_BYTES


def _secure_urls():
    # https unless CLOUDINARY_STORAGE = {"SECURE": False} (tests that fetch from the fake server).
    # Read on every call: the package sets the SDK's global ``secure`` only when it is imported.
    return getattr(settings, "CLOUDINARY_STORAGE", {}).get("SECURE", True)


def public_id_for(name, resource_type):
    """The Cloudinary public id under which the storage name ``name`` is uploaded.

    The package stores the public id as the file's name and builds URLs from it. Public ids of
    image and video assets carry no extension (Cloudinary keeps the format apart, and a URL
    ending in ``.mp4`` asks for that format); raw assets keep theirs. The full path goes into the
    public id, not into ``folder``: that reads the same in fixed and in dynamic folder mode.
    """
    if resource_type == "raw":
        return name
    return posixpath.splitext(name)[0]


def _may_have_been_stored(exc):
    """Whether a failed Upload API call may still have stored the file on Cloudinary.

    The SDK raises its ``Error`` from inside the ``except`` that caught the transport failure,
    so that failure is the ``__context__``. No context: Cloudinary answered with an error and
    stored nothing. A connection that was never made (refused, unresolvable, connect timeout;
    urllib3's ``NewConnectionError`` is a ``ConnectTimeoutError``) sent nothing. Anything else
    (a read timeout, a connection dropped after the request went out, an answer that was not
    JSON) leaves it open.
    """
    cause = exc.__context__
    if isinstance(cause, urllib3.exceptions.MaxRetryError):
        cause = cause.reason
    if cause is None:
        return False
    return not isinstance(cause, urllib3.exceptions.ConnectTimeoutError)


def _post_part(filename, part, first, total, upload_id, options, timeout):
    """One part of a chunked upload, as the SDK's ``upload_large`` sends it."""
    headers = {
        "Content-Range": f"bytes {first}-{first + len(part) - 1}/{total}",
        "X-Unique-Upload-Id": upload_id,
    }
    return cloudinary.uploader.upload_large_part(
        (filename, part), http_headers=headers, timeout=timeout, **options
    )


class _Deadline:
    """The end of one upload's time, and the timeout its next call gets.

    The per-call timeout alone would let a Cloudinary that answers every part slowly, but each in
    time, hold the worker for parts x timeout: each call gets at most what is left.
    """

    def __init__(self, seconds):
        self.seconds = seconds
        self._ends = time.monotonic() + seconds

    def passed(self):
        return time.monotonic() >= self._ends

    def next_timeout(self):
        """The per-call timeout, or the time left if that is shorter; None once it has passed."""
        left = self._ends - time.monotonic()
        return min(cloudinary_timeout(), left) if left > 0 else None


class _StreamingCloudinaryMixin:
    """Chunked uploads, timeouts and explicit failures for django-cloudinary-storage's storages."""

    def _upload_options(self, name):
        resource_type = self._get_resource_type(name)
        return {
            "public_id": public_id_for(name, resource_type),
            # The name is already unique: Cloudinary must neither add a suffix of its own nor
            # replace an asset that is already stored under it.
            "unique_filename": False,
            "overwrite": False,
            "resource_type": resource_type,
            "tags": self.TAG,
        }

    def _upload(self, name, content):
        options = self._upload_options(name)
        public_id, resource_type = options["public_id"], options["resource_type"]
        deadline = _Deadline(upload_deadline_seconds())
        try:
            result = self._send_in_parts(name, content, options, deadline)
        except (CloudinaryError, OSError) as exc:
            # The SDK wraps HTTP errors, socket errors and timeouts in its own Error.
            late = " (upload deadline passed)" if deadline.passed() else ""
            logger.warning("Cloudinary upload of %s failed%s: %s", name, late, exc)
            raise MediaStorageError(f"Cloudinary upload failed{late}: {exc}", name=name) from exc
        if result.get("existing"):
            # overwrite=False: Cloudinary kept the asset it had and ignored ours. That asset is
            # someone else's file: not ours to adopt, nor to destroy.
            logger.warning(
                "Cloudinary already holds %s; the upload of %s stored nothing", public_id, name
            )
            raise MediaStorageError("Cloudinary already holds an asset of that name", name=name)
        if result.get("resource_type") != resource_type:
            logger.warning(
                "Cloudinary stored %s as %s, expected %s",
                name,
                result.get("resource_type"),
                resource_type,
            )
            raise MediaStorageError("Cloudinary stored the file as another type", name=name)
        return result

    def _send_in_parts(self, name, content, options, deadline):
        """Send ``content`` as the SDK's ``upload_large`` does (the same ``Content-Range`` and
        ``X-Unique-Upload-Id`` requests), each part with the timeout ``deadline`` leaves it.

        Returns the answer to the last part sent. Never closes ``content``: the caller owns it
        (closing a ``TemporaryUploadedFile`` deletes it, and the view may still need it).
        """
        # Validation may have read the file already: measure it, then send it from the start.
        content.seek(0, os.SEEK_END)
        size = content.tell()
        content.seek(0)
        if size == 0:
            raise MediaStorageError("Cloudinary stored nothing (empty file)", name=name)
        filename = os.path.basename(name)
        upload_id = cloudinary.utils.random_public_id()
        sent = 0
        while sent < size:
            timeout = deadline.next_timeout()
            if timeout is None:
                # Cloudinary assembles the asset when the last part arrives, and that part was
                # not sent: nothing was stored.
                logger.warning(
                    "Cloudinary upload of %s stopped after %d of %d bytes: it took longer than "
                    "CLOUDINARY_UPLOAD_DEADLINE_SECONDS (%s s)",
                    name,
                    sent,
                    size,
                    deadline.seconds,
                )
                raise MediaStorageError(
                    f"Cloudinary upload took longer than {deadline.seconds} s", name=name
                )
            part = content.read(upload_chunk_bytes())
            if not part:
                raise OSError(f"{name} ended after {sent} of {size} bytes")
            last = sent + len(part) >= size
            try:
                answer = _post_part(filename, part, sent, size, upload_id, options, timeout)
            except CloudinaryError as exc:
                # Only the last part's request can have completed an asset.
                if last and _may_have_been_stored(exc):
                    self._destroy_unanswered(name, options["public_id"])
                raise
            if answer.get("existing"):
                return answer
            sent += len(part)
        return answer

    def name_for(self, name):
        """The storage name (the public id) under which ``save(name)`` would store a file: the
        name that ``send_part`` uploads must be given to end up where ``save`` puts files."""
        name = self._prepend_prefix(self._normalise_name(name))
        return public_id_for(name, self._get_resource_type(name))

    def send_part(self, name, part, *, first, total, upload_id):
        """One request of a chunked upload that spans several client requests (a resumable
        upload session, ``media.uploads``): ``part`` (bytes) at ``first`` of a file of ``total``
        bytes, in the chunked upload ``upload_id`` (``X-Unique-Upload-Id``), to become the asset
        of the storage name ``name`` (from ``name_for``). Parts may come from different
        processes, hours apart.

        Returns Cloudinary's answer: the asset's description once the last byte is in. Raises
        ``MediaStorageError`` when the part may not have arrived (network, error answer,
        timeout): sending it again is safe, and once the asset exists (an answer that was lost)
        Cloudinary answers with it (``existing``), which is adopted: the public id is the
        session's own. Raises ``MediaRefused`` when Cloudinary refused the finished file.
        """
        options = self._upload_options(name)
        last = first + len(part) >= total
        try:
            answer = _post_part(
                os.path.basename(name), part, first, total, upload_id, options, cloudinary_timeout()
            )
        except CloudinaryBadRequest as exc:
            if last:
                # Cloudinary read the assembled file and found it is not what was announced.
                logger.warning("Cloudinary refused the upload of %s: %s", name, exc)
                raise MediaRefused(str(exc), name=name) from exc
            raise MediaStorageError(f"Cloudinary refused a part: {exc}", name=name) from exc
        except (CloudinaryError, OSError) as exc:
            logger.warning("Cloudinary upload of a part of %s failed: %s", name, exc)
            raise MediaStorageError(f"Cloudinary upload failed: {exc}", name=name) from exc
        if last and (
            answer.get("public_id") != options["public_id"]
            or answer.get("resource_type") != options["resource_type"]
        ):
            logger.warning("Cloudinary stored %s as %r", name, answer)
            raise MediaStorageError("Cloudinary stored the file under another name or type")
        return answer

    def _destroy_unanswered(self, name, public_id):
        """Destroy what an upload without an answer may have stored (best effort, logged).

        Cloudinary stores the file before it answers, so a timed-out upload may well have
        succeeded; with our own public id we can destroy it. An upload that Cloudinary completes
        only after this destroy stays an orphan, for ``purge_orphan_media``.
        """
        logger.warning(
            "Cloudinary did not answer the upload of %s: destroying %s in case it was stored",
            name,
            public_id,
        )
        self.delete(public_id)

    def delete(self, name):
        """Destroy the asset. Idempotent: True when it is gone, also if it already was.

        A failure (network, timeout, error answer) is logged as a warning naming the asset and
        returns False instead of raising: deletes run after the database commit, where raising
        would turn a done request into a 500; the orphan is left for reconciliation.
        """
        if not name:
            raise ValueError("The name must be given to delete().")
        resource_type = self._get_resource_type(name)
        try:
            response = cloudinary.uploader.destroy(
                name, invalidate=True, resource_type=resource_type, timeout=cloudinary_timeout()
            )
        except (CloudinaryError, OSError) as exc:
            logger.warning("Cloudinary delete of %s (%s) failed: %s", name, resource_type, exc)
            return False
        result = response.get("result")
        if result == "ok":
            return True
        if result == "not found":
            logger.info("Cloudinary delete of %s (%s): already gone", name, resource_type)
            return True
        logger.warning(
            "Cloudinary delete of %s (%s) failed: answered %r", name, resource_type, result
        )
        return False

    def _get_url(self, name):
        resource = cloudinary.CloudinaryResource(
            self._prepend_prefix(name), default_resource_type=self._get_resource_type(name)
        )
        return resource.build_url(secure=_secure_urls())

    def _head(self, name):
        try:
            return requests.head(self._get_url(name), timeout=cloudinary_timeout())
        except requests.RequestException as exc:
            raise MediaStorageError(f"Cloudinary did not answer: {exc}", name=name) from exc

    def exists(self, name):
        """Whether the asset is delivered (HEAD of its URL); MediaStorageError if unknowable."""
        response = self._head(name)
        if response.status_code == 404:
            return False
        if response.ok:
            return True
        raise MediaStorageError(f"Cloudinary answered {response.status_code}", name=name)

    def size(self, name):
        """Size in bytes from a HEAD of the delivery URL."""
        response = self._head(name)
        if not response.ok or "Content-Length" not in response.headers:
            raise MediaStorageError(f"Cloudinary answered {response.status_code}", name=name)
        return int(response.headers["Content-Length"])

    def _open(self, name, mode="rb"):
        # The package reads the whole asset into memory; spool it to disk past the upload limit.
        url = self._get_url(name)
        spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - returned; the caller closes it
            max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE, dir=settings.FILE_UPLOAD_TEMP_DIR
        )
        try:
            with requests.get(url, stream=True, timeout=cloudinary_timeout()) as response:
                if response.status_code == 404:
                    raise FileNotFoundError(name)
                response.raise_for_status()
                for block in response.iter_content(_DOWNLOAD_BLOCK_BYTES):
                    spool.write(block)
        except requests.RequestException as exc:
            spool.close()
            raise MediaStorageError(f"Cloudinary download failed: {exc}", name=name) from exc
        except FileNotFoundError:
            spool.close()
            raise
        spool.seek(0)
        return File(spool, name=name)


class CloudinaryImageStorage(_StreamingCloudinaryMixin, MediaCloudinaryStorage):
    """Images (avatars, covers, thumbnails) as Cloudinary ``image`` assets."""


class CloudinaryVideoStorage(_StreamingCloudinaryMixin, VideoMediaCloudinaryStorage):
    """Videos as Cloudinary ``video`` assets, uploaded in chunks."""
