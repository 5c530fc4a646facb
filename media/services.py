"""Storing and deleting media files: the one implementation every app uses; and resumable
upload sessions, whose bytes arrive in chunks over many requests (``media.uploads``).

Rules: a file is stored only after it passed validation, and before a database transaction
opens (a remote upload must never hold a transaction open); a failed store is a
``DependencyFailed`` (the request changed nothing). A file that a committed change made useless
is deleted after the commit by a task (``media_delete_after_commit``), which the worker retries
until the storage confirms. A file that must go before the request ends (the cleanup of a
failed write) is deleted inline (``media_delete``): a failure is retried once, then logged as an
error naming the file, and never raised. Either way the database change stands, and
``purge_orphan_media`` finds what could not be deleted.
"""

import contextlib
import logging
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError

from media import cloudinary_direct, tasks, uploads
from media.errors import STORAGE_ERRORS, MediaRefused, MediaStorageError
from media.models import DirectUpload, UploadSession
from media.selectors import UPLOAD_NOT_FOUND, upload_session_get_for_owner, upload_sessions_open
from media.storage import storage_alias, storage_for, video_storage, videos_on_cloudinary
from viztube import errors
from viztube.db import lock_rows

logger = logging.getLogger(__name__)

# A Cloudinary destroy that timed out often succeeds when asked again at once.
DELETE_ATTEMPTS = 2


def media_name(folder, extension):
    """A fresh storage name of ours (never the client's file name)."""
    return f"{folder}/{uuid.uuid4().hex}.{extension}"


def media_store(*, storage, name, content, max_length=None):
    """Save ``content`` under ``name``; returns the name the storage chose.

    ``content`` is passed through as a file object: the local storage moves Django's spooled
    temp file into place and the Cloudinary video storage streams it in chunks, so a video is
    never read into memory whole.
    """
    try:
        return storage.save(name, content, max_length=max_length)
    except STORAGE_ERRORS as exc:
        logger.warning("Storing %s failed: %s", name, exc)
        raise errors.DependencyFailed() from exc


@contextlib.contextmanager
def media_on_disk(*, storage, name):
    """The stored file ``name`` as a path on this machine's disk, for tools that read files
    (MediaInfo, FFmpeg). The local storage's own file; from any other storage (Cloudinary) a
    download into ``FILE_UPLOAD_TEMP_DIR`` (a ``*.probe`` file: ``sweep_upload_temp`` removes
    it should the process die), deleted on exit. While it is made the download is also spooled
    by the storage, so for a moment the disk holds the file twice.

    ``FileNotFoundError`` when the storage does not hold it; ``MediaStorageError`` when the
    storage could not be read."""
    try:
        local = storage.path(name)
    except NotImplementedError:
        local = None
    if local is not None:
        if not os.path.isfile(local):
            raise FileNotFoundError(name)
        yield Path(local)
        return
    with tempfile.NamedTemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR, suffix=".probe") as copy:
        with storage.open(name) as remote:
            shutil.copyfileobj(remote, copy, uploads.READ_BLOCK_BYTES)
        copy.flush()
        yield Path(copy.name)


def media_delete(*, storage, name):
    """Delete a stored file; returns whether it is gone. Never raises.

    Cloudinary storages answer ``False`` instead of raising, the local storage raises
    ``OSError``: both count as a failed attempt.
    """
    if not name:
        return True
    for attempt in range(1, DELETE_ATTEMPTS + 1):
        try:
            if storage.delete(name) is not False:
                return True
        except Exception as exc:
            logger.warning("Deleting media %s failed (attempt %d): %s", name, attempt, exc)
    logger.error(
        "Deleting media %s failed after %d attempts; it is now an orphan "
        "(purge_orphan_media removes it)",
        name,
        DELETE_ATTEMPTS,
    )
    return False


def media_delete_after_commit(*files):
    """Delete ``(storage, name)`` pairs once the current transaction has committed (at once
    outside a transaction).

    Each file becomes a ``media.tasks.delete_media`` task, enqueued after the commit (a change
    that rolls back deletes nothing) and retried until the storage confirms. When the broker
    cannot take a task (Redis down), the file is deleted inline instead and the fallback is
    logged: the request that committed does not fail.
    """
    pending = [(storage_alias(storage), name) for storage, name in files if name]
    if pending:
        transaction.on_commit(partial(_enqueue_deletions, pending))


def _enqueue_deletions(files):
    for alias, name in files:
        try:
            tasks.delete_media.delay(alias, name)
        except OperationalError as exc:
            logger.warning(
                "Could not queue the deletion of media %s (%s); deleting it inline", name, exc
            )
            media_delete(storage=storage_for(alias), name=name)


# --- Resumable upload sessions ------------------------------------------------------------------
#
# One writer at a time, without holding a transaction (or a row lock) while a chunk travels: a
# PUT claims the session by a compare-and-set on its offset (``_claim``: the offset is where the
# chunk starts and no other claim is alive), writes, and commits the new offset only while its
# claim is still its own (``_checkpoint``). A second PUT meanwhile fails its compare-and-set: 409.
# A claim lapses WRITER_LEASE after its last renewal, so a worker killed mid-chunk frees the
# session; a live writer renews it at least every CHECKPOINT_SECONDS, before it writes anything
# more, so once its claim could have lapsed it writes nothing (the renewal fails first).
# The bytes are fsync'd before each commit: the offset never counts bytes that are not on disk.

MB = 1024 * 1024
WRITER_LEASE = timedelta(seconds=120)
CHECKPOINT_SECONDS = 20
# A long chunk also commits what it has every this many bytes (local media; with Cloudinary it
# commits at every part): a connection lost late in a 1 GB chunk keeps what came before.
CHECKPOINT_BYTES = 64 * MB
# Files under MEDIA_ROOT/uploads that no session names are removed once this old (a session
# whose row was deleted by a process that died before it could delete the bytes).
ORPHAN_BYTES_AGE = timedelta(hours=1)
EXPIRE_BATCH = 500

TOO_MANY_SESSIONS = (
    "You have {count} uploads open (at most {limit}): finish, cancel or let one expire first"
)
NOT_AT_OFFSET = "The upload stands at byte {offset}: send the chunk that starts there"
WRITER_BUSY = (
    "Another request is writing to this upload: ask for the offset (Content-Range: "
    "bytes */<size>) and resume from it"
)
ALREADY_COMPLETE = "The upload is complete: nothing more can be written to it"
NOT_COMPLETE = "The upload is not complete"
STATUS_QUERY_WITH_BODY = "A status query (Content-Range: bytes */<size>) has no body"
NOT_CONFIRMED = (
    "The media storage did not confirm the file; every byte is kept: ask for the offset "
    "(Content-Range: bytes */<size>) to finish"
)
CHUNK_NOT_STORED = (
    "The chunk could not be stored: ask for the offset (Content-Range: bytes */<size>) and "
    "resume from it"
)
LENGTH_REQUIRED = "Content-Length is required: it must equal the chunk's length"


def _is_remote_storage(storage):
    """Whether the video storage takes the parts of a chunked upload (Cloudinary)."""
    return callable(getattr(storage, "send_part", None))


def _refuse_over_open_limit(open_uploads, message, *, now):
    """429 (``TryLater``, retry when the first of them expires) when ``open_uploads`` (resumable
    sessions or signed direct uploads of one user) already number ``UPLOAD_SESSIONS_MAX``."""
    count = open_uploads.count()
    if count >= settings.UPLOAD_SESSIONS_MAX:
        first_to_expire = min(open_uploads.values_list("expires_at", flat=True))
        raise errors.TryLater(
            message.format(count=count, limit=settings.UPLOAD_SESSIONS_MAX),
            wait=max(1, (first_to_expire - now).total_seconds()),
        )


def upload_session_create(*, owner, filename, size, content_type):
    """Open a resumable upload of ``size`` bytes for ``owner``.

    413 over ``VIDEO_MAX_UPLOAD_MB``; 429 when the owner already has ``UPLOAD_SESSIONS_MAX``
    open (``Retry-After``: until the first of them expires). The owner's row is locked while
    the sessions are counted, so two requests at once cannot both take the last place.
    """
    if size > settings.VIDEO_MAX_UPLOAD_MB * MB:
        raise errors.TooLarge(f"size is larger than {settings.VIDEO_MAX_UPLOAD_MB} MB")
    now = timezone.now()
    remote = _is_remote_storage(video_storage)
    with transaction.atomic():
        lock_rows(type(owner), [owner.pk])
        _refuse_over_open_limit(
            upload_sessions_open(owner=owner, now=now), TOO_MANY_SESSIONS, now=now
        )
        session = UploadSession(
            owner=owner,
            filename=filename,
            content_type=content_type,
            size=size,
            expires_at=now + _session_lifetime(),
        )
        if remote:
            # Its own folder: purge_orphan_media, which looks at the media fields' folders,
            # must not take a finished upload that waits to be used for an orphan.
            session.stored_name = video_storage.name_for(
                f"{uploads.SESSIONS_FOLDER}/{session.pk.hex}"
            )
            session.remote_upload_id = uuid.uuid4().hex
            session.part_bytes = settings.CLOUDINARY_UPLOAD_CHUNK_BYTES
        session.save(force_insert=True)
    return session


def _session_lifetime():
    return timedelta(hours=settings.UPLOAD_SESSION_HOURS)


def _not_at_offset(session):
    if session.is_complete:
        return errors.Conflict(ALREADY_COMPLETE, data={"offset": session.received})
    return errors.Conflict(
        NOT_AT_OFFSET.format(offset=session.received), data={"offset": session.received}
    )


def upload_session_write(*, upload_id, owner, content_range, length, stream):
    """Store one chunk of an upload (``content_range``: a ``media.uploads.ContentRange``) read
    from ``stream``, ``length`` bytes (the request's Content-Length), or answer a status query
    (``bytes */<size>``, no body). Returns the session as it now stands.

    The chunk must start at the session's offset, else 409 with ``data.offset``: also a chunk
    that was already stored (sent again because its answer was lost), which is never read.
    A body that ends early (the connection dropped) keeps what arrived: the offset moves past
    the bytes fully received and written, not one byte further. Nothing is written for a
    request refused with a 4xx. A status query finishes an upload whose bytes are all in but
    whose last part Cloudinary has not confirmed (a 502 at the last chunk).
    """
    session = upload_session_get_for_owner(upload_id, owner)
    if content_range.size != session.size:
        raise errors.InvalidRequest(
            f"Content-Range gives the file {content_range.size} bytes; this upload is "
            f"{session.size} bytes"
        )
    if content_range.is_status_query:
        if length:
            raise errors.InvalidRequest(STATUS_QUERY_WITH_BODY)
        if session.received == session.size and not session.is_complete:
            return _finish(session)
        return session
    if content_range.last >= session.size:
        raise errors.InvalidRequest(
            f"Content-Range ends at byte {content_range.last}, past the last byte of the file "
            f"({session.size - 1})"
        )
    if length is None:
        raise errors.InvalidRequest(LENGTH_REQUIRED)
    if length != content_range.length:
        raise errors.InvalidRequest(
            f"The body is {length} bytes; Content-Range announces {content_range.length}"
        )
    if content_range.first != session.received or session.is_complete:
        raise _not_at_offset(session)
    token = _claim(session, at=content_range.first)
    try:
        try:
            _receive(session, token, content_range.first, length, stream)
        except OSError as exc:
            # The disk, not the connection (read_stream ends quietly on a lost connection):
            # what was committed before stays, the rest of the chunk is not counted.
            logger.error("Storing a chunk of upload %s failed: %s", session.pk, exc)
            raise errors.DependencyFailed(CHUNK_NOT_STORED) from exc
        if session.received == session.size:
            _complete(session, token)
    finally:
        _release(session, token)
    return session


def _claim(session, *, at):
    """Make this request the session's one writer, if the session still stands at ``at``; 409
    (with the offset) when it does not or another writer holds it, 404 when it is gone."""
    now, asked = timezone.now(), time.monotonic()
    token = uuid.uuid4()
    claimed = (
        UploadSession.objects.filter(
            pk=session.pk, received=at, completed_at__isnull=True, expires_at__gt=now
        )
        .filter(Q(writer__isnull=True) | Q(writer_until__lt=now))
        .update(writer=token, writer_until=now + WRITER_LEASE)
    )
    if not claimed:
        current = UploadSession.objects.filter(pk=session.pk, expires_at__gt=now).first()
        if current is None:
            raise errors.NotFound(UPLOAD_NOT_FOUND)
        if current.received != at or current.is_complete:
            raise _not_at_offset(current)
        raise errors.Conflict(WRITER_BUSY, data={"offset": current.received})
    # When the claim was last made sure of: it holds until WRITER_LEASE after that.
    session.renewed_at = asked
    return token


def _checkpoint(session, token, **fields):
    """Commit ``fields`` (the bytes stored, sent, the completion) and renew the claim, only if
    the claim is still this writer's; otherwise stop: 404 when the session was cancelled or
    expired meanwhile (its bytes are removed), else 409 (a claim that lapsed)."""
    now, asked = timezone.now(), time.monotonic()
    updated = UploadSession.objects.filter(pk=session.pk, writer=token).update(
        **fields, writer_until=now + WRITER_LEASE, expires_at=now + _session_lifetime()
    )
    if not updated:
        current = UploadSession.objects.filter(pk=session.pk).first()
        if current is None:
            # Cancelled while this chunk was written: what it wrote since is not anyone's.
            uploads.remove_local_bytes(session.pk)
            raise errors.NotFound(UPLOAD_NOT_FOUND)
        raise errors.Conflict(WRITER_BUSY, data={"offset": current.received})
    for name, value in fields.items():
        setattr(session, name, value)
    session.expires_at = now + _session_lifetime()
    session.renewed_at = asked


def _release(session, token):
    UploadSession.objects.filter(pk=session.pk, writer=token).update(writer=None, writer_until=None)


def _receive(session, token, first, length, stream):
    """Write the body into storage as it arrives, committing as it goes (see above)."""
    sink = uploads.open_sink(session, first)
    sending = True
    try:
        for block in uploads.read_stream(stream, length):
            if time.monotonic() - session.renewed_at >= CHECKPOINT_SECONDS:
                # Before writing more (also after a slow Cloudinary call): a writer whose claim
                # may have lapsed writes nothing until it has renewed it.
                sink.sync()
                _checkpoint(session, token, received=sink.position)
            sink.write(block)
            if sink.filled_a_part() or sink.position - session.received >= CHECKPOINT_BYTES:
                sink.sync()
                _checkpoint(session, token, received=sink.position)
                if sending and session.is_remote:
                    # A part Cloudinary could not take now stays staged for the next chunk.
                    sending = _send_parts(session, token, must_finish=False)
        sink.sync()
    finally:
        sink.close()
    if sink.position != session.received:
        _checkpoint(session, token, received=sink.position)


def _send_parts(session, token, *, must_finish):
    """Pass every staged part that is due on to Cloudinary (the last one once every byte is
    in); returns whether all went. A failure is logged, or raised when ``must_finish``."""
    while (due := uploads.next_part_to_send(session)) is not None:
        index, first, length, final = due
        if final and not must_finish:
            # The last part completes the asset: only _complete sends it, which knows what
            # to do when Cloudinary refuses the file.
            return True
        try:
            uploads.send_part(session, video_storage, index, first, length)
        except MediaStorageError:
            if must_finish:
                raise
            return False
        # The part is with Cloudinary: counting it sent before it is unlinked means a crash in
        # between leaves a stray file (removed with the session), never a missing part.
        done = {"completed_at": timezone.now()} if final else {}
        _checkpoint(session, token, forwarded=first + length, **done)
        uploads.drop_sent_part(session, index)
    return True


def _complete(session, token):
    """Every byte is in: a local upload is complete; a Cloudinary one once its last part is
    confirmed (502 otherwise, the bytes kept; 422 and the session deleted when Cloudinary
    refuses the file)."""
    if not session.is_remote:
        _checkpoint(session, token, completed_at=timezone.now())
        return
    try:
        _send_parts(session, token, must_finish=True)
    except MediaRefused:
        UploadSession.objects.filter(pk=session.pk).delete()
        _discard_bytes_after_commit(session)
        raise
    except MediaStorageError as exc:
        raise errors.DependencyFailed(NOT_CONFIRMED) from exc
    uploads.remove_local_bytes(session.pk)


def _finish(session):
    """Complete an upload whose bytes are all in (a status query after a failed completion)."""
    token = _claim(session, at=session.size)
    try:
        _complete(session, token)
    finally:
        _release(session, token)
    return session


def upload_session_cancel(*, upload_id, owner):
    """Cancel an upload: the session is gone and its bytes are deleted (a chunk being written
    meanwhile stops, 404)."""
    session = upload_session_get_for_owner(upload_id, owner)
    with transaction.atomic():
        deleted, _ = UploadSession.objects.filter(pk=session.pk).delete()
        if not deleted:
            raise errors.NotFound(UPLOAD_NOT_FOUND)
        _discard_bytes_after_commit(session)


def _discard_bytes_after_commit(*sessions):
    """Delete the bytes of sessions whose rows the current transaction deletes, once it
    commits: local files, and the Cloudinary asset of one whose last part was sent."""
    doomed = [
        (session.pk, session.stored_name if session.received == session.size else "")
        for session in sessions
    ]

    def discard():
        for session_id, _ in doomed:
            uploads.remove_local_bytes(session_id)

    transaction.on_commit(discard)
    # A Cloudinary asset goes as every deleted file does: a task, retried until it is gone.
    media_delete_after_commit(*[(video_storage, name) for _, name in doomed if name])


def upload_sessions_discard(*, sessions):
    """Inside the transaction that deletes ``sessions`` (a queryset; a user's deletion cascades
    to theirs): delete their bytes after the commit."""
    _discard_bytes_after_commit(*sessions.only("pk", "size", "received", "stored_name"))


def upload_sessions_expire(*, now=None):
    """Delete the sessions whose time is up, and their bytes (the periodic task). Returns how
    many were deleted.

    A session that a live writer holds is left for the next run (its chunk will push the
    expiry back). Rows are claimed with ``SKIP LOCKED``: several processes may run this at once.
    Also removes bytes under ``MEDIA_ROOT/uploads`` that no session names, once they are
    ``ORPHAN_BYTES_AGE`` old.
    """
    now = now or timezone.now()
    with transaction.atomic():
        expired = list(
            UploadSession.objects.select_for_update(skip_locked=True)
            .filter(Q(writer__isnull=True) | Q(writer_until__lt=now), expires_at__lte=now)
            .only("pk", "size", "received", "stored_name")
            .order_by("expires_at")[:EXPIRE_BATCH]
        )
        UploadSession.objects.filter(pk__in=[session.pk for session in expired]).delete()
        _discard_bytes_after_commit(*expired)
    _remove_orphan_bytes(now)
    return len(expired)


def _remove_orphan_bytes(now):
    root = uploads.sessions_root()
    if not root.is_dir():
        return
    cutoff = (now - ORPHAN_BYTES_AGE).timestamp()
    candidates = {}
    for entry in os.scandir(root):
        session_id = entry.name.removesuffix(".part")
        try:
            uuid.UUID(session_id)
            old = entry.stat(follow_symlinks=False).st_mtime < cutoff
        except (ValueError, OSError):
            continue
        if old:
            candidates[session_id] = entry.path
    if not candidates:
        return
    alive = {
        str(pk)
        for pk in UploadSession.objects.filter(pk__in=list(candidates)).values_list("pk", flat=True)
    }
    for session_id in candidates.keys() - alive:
        logger.info("Removing the bytes of upload %s, which no session names", session_id)
        uploads.remove_local_bytes(session_id)


@dataclass(frozen=True)
class CompletedUpload:
    """The bytes of a complete upload session: ``path`` of the local file, or ``stored_name``
    of the Cloudinary asset (in the video storage)."""

    upload_id: uuid.UUID
    filename: str
    content_type: str
    size: int
    path: Path | None
    stored_name: str

    def open(self):
        """The bytes as a binary file object (a Cloudinary asset is downloaded to a spooled
        temporary file); the caller closes it."""
        if self.path is not None:
            return self.path.open("rb")
        return video_storage.open(self.stored_name)


def upload_session_completed(*, upload_id, owner):
    """The complete upload ``upload_id`` of ``owner``: 404 as for every read, 409 with the
    offset while bytes are missing."""
    session = upload_session_get_for_owner(upload_id, owner)
    if not session.is_complete:
        raise errors.Conflict(NOT_COMPLETE, data={"offset": session.received})
    return CompletedUpload(
        upload_id=session.pk,
        filename=session.filename,
        content_type=session.content_type,
        size=session.size,
        path=None if session.is_remote else uploads.part_file(session.pk),
        stored_name=session.stored_name,
    )


def upload_session_consume(*, upload_id, owner, name, then=None):
    """Take the bytes of a complete upload for good and end the session; returns their name in
    the video storage.

    Local media: the part file is moved to ``name`` (e.g. ``media_name("videos", "mp4")``, or
    the next free name like it). Cloudinary: the asset already exists and keeps its name,
    ``upload_session_completed(...).stored_name``; ``name`` is not used. 404 / 409 as
    ``upload_session_completed``; of two requests consuming one session, the second waits for
    the first and gets a 404. The caller owns the file from here: if what it does next fails,
    it deletes it (``media_delete``).

    ``then(stored_name)``, when given, runs inside the transaction that ends the session (e.g.
    the insert of the row that takes the bytes): if it raises, nothing happened, the session
    and its bytes stay as they were, and the upload can be used again.
    """
    completed = upload_session_completed(upload_id=upload_id, owner=owner)
    if completed.path is not None and _is_remote_storage(video_storage):
        raise MediaStorageError(
            "The upload was stored on the local disk, and videos are now stored elsewhere",
            name=str(upload_id),
        )
    moved = None
    try:
        with transaction.atomic():
            locked = (
                UploadSession.objects.select_for_update()
                .filter(pk=upload_id, owner_id=owner.pk, completed_at__isnull=False)
                .first()
            )
            if locked is None:
                raise errors.NotFound(UPLOAD_NOT_FOUND)
            locked.delete()
            if completed.path is None:
                stored = completed.stored_name
            else:
                stored = video_storage.get_available_name(name)
                target = Path(video_storage.path(stored))
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(completed.path, target)
                moved = (target, completed.path)
            if then is not None:
                then(stored)
    except BaseException:
        if moved is not None:  # ``then`` or the commit failed: the session and its bytes stay
            os.replace(*moved)
        raise
    return stored


# --- Direct uploads to Cloudinary ---------------------------------------------------------------
#
# A client uploads a video straight to Cloudinary with parameters we sign for one public id of
# ours (``direct_upload_issue``), then publishes it by that public id. The ``DirectUpload`` row
# is the proof that the id was issued to that user; publishing checks the asset through the
# Admin API (``direct_upload_check``, before any transaction) and deletes the row in the
# transaction that inserts the video (``direct_upload_consume``), so an asset becomes at most
# one video. A row unused for UPLOAD_SESSION_HOURS is deleted, and its asset destroyed.

DIRECT_UPLOADS_UNAVAILABLE = "Direct uploads to Cloudinary are not available on this server"
DIRECT_UPLOAD_NOT_FOUND = "Cloudinary upload not found"
TOO_MANY_DIRECT_UPLOADS = (
    "You have {count} direct uploads open (at most {limit}): publish one or let one expire first"
)
NOTHING_UPLOADED = "No video has been uploaded to Cloudinary under this public id"
NO_VIDEO_TRACK = "The uploaded file has no video track"
DIRECT_UPLOAD_TOO_LARGE = "The uploaded video is larger than {limit} MB"


def _require_cloudinary():
    if not videos_on_cloudinary():
        raise errors.NotFound(DIRECT_UPLOADS_UNAVAILABLE)


@dataclass(frozen=True)
class DirectUploadGrant:
    """An issued public id (its row, for ``expires_at``) and the signed upload parameters."""

    upload: DirectUpload
    signed: cloudinary_direct.SignedUpload


def direct_upload_issue(*, owner, notification_url, public_id=None):
    """Sign the upload of one video straight to Cloudinary: under a new public id of ours in
    the videos folder, or (``public_id``) again under one issued to ``owner`` and still open,
    for an upload that outlives the hour a signature is good for. Returns a
    ``DirectUploadGrant``.

    404 without Cloudinary, and for a ``public_id`` not issued to ``owner`` (or used, or
    expired); 429 when ``owner`` already has ``UPLOAD_SESSIONS_MAX`` public ids open. Either
    way the public id is theirs for ``UPLOAD_SESSION_HOURS`` from now.
    """
    _require_cloudinary()
    now = timezone.now()
    with transaction.atomic():
        # The owner's row serialises their requests: two at once cannot both take the last place.
        lock_rows(type(owner), [owner.pk])
        open_uploads = DirectUpload.objects.filter(owner_id=owner.pk, expires_at__gt=now)
        if public_id is not None:
            upload = open_uploads.filter(public_id=public_id).first()
            if upload is None:
                raise errors.NotFound(DIRECT_UPLOAD_NOT_FOUND)
            upload.expires_at = now + _session_lifetime()
            upload.save(update_fields=["expires_at"])
        else:
            _refuse_over_open_limit(open_uploads, TOO_MANY_DIRECT_UPLOADS, now=now)
            upload = DirectUpload.objects.create(
                owner=owner,
                # The name the video storage gives a file of the videos folder: the asset is
                # stored exactly where a video published in one request would be.
                public_id=video_storage.name_for(f"videos/{uuid.uuid4().hex}"),
                expires_at=now + _session_lifetime(),
            )
    signed = cloudinary_direct.sign_upload(
        upload.public_id,
        notification_url=notification_url,
        tags=getattr(video_storage, "TAG", ""),
    )
    return DirectUploadGrant(upload=upload, signed=signed)


def _open_direct_upload(owner, public_id):
    return DirectUpload.objects.filter(
        owner_id=owner.pk, public_id=public_id, expires_at__gt=timezone.now()
    )


def direct_upload_check(*, owner, public_id, field="cloudinaryPublicId"):
    """The video asset uploaded under ``public_id``, checked for publishing by ``owner``;
    returns its ``cloudinary_direct.VideoAsset``. No transaction may be open (one Admin API
    call).

    404 without Cloudinary and for a public id not issued to ``owner`` (another user's, made
    up, already published, expired), before Cloudinary is asked; 409 when Cloudinary holds no
    video under it (nothing uploaded yet, or an image or raw file); 422 for an asset without a
    video track; 413 over ``VIDEO_MAX_UPLOAD_MB`` (the asset, which can never be published, is
    destroyed; the public id stays open for another upload); 502 when Cloudinary cannot say.
    """
    _require_cloudinary()
    if not _open_direct_upload(owner, public_id).exists():
        raise errors.NotFound(DIRECT_UPLOAD_NOT_FOUND)
    try:
        asset = cloudinary_direct.video_asset(public_id)
    except MediaRefused as exc:
        raise errors.InvalidInput(fields={field: str(exc)}) from exc
    if asset is None:
        raise errors.Conflict(NOTHING_UPLOADED)
    if asset.bytes > settings.VIDEO_MAX_UPLOAD_MB * MB:
        media_delete_after_commit((video_storage, public_id))
        raise errors.TooLarge(DIRECT_UPLOAD_TOO_LARGE.format(limit=settings.VIDEO_MAX_UPLOAD_MB))
    if not asset.has_video_track:
        raise errors.InvalidInput(fields={field: NO_VIDEO_TRACK})
    return asset


def direct_upload_consume(*, owner, public_id):
    """Inside the transaction that publishes the video: take ``public_id`` from ``owner``'s
    open direct uploads for good. 404 when it is no longer there (published meanwhile by a
    request that committed first, or expired): the caller's transaction rolls back."""
    # The DELETE locks the row: of two publishes of one public id, the second waits for the
    # first, then deletes nothing (and the expiry, SKIP LOCKED, leaves a row being published).
    deleted, _ = _open_direct_upload(owner, public_id).delete()
    if not deleted:
        raise errors.NotFound(DIRECT_UPLOAD_NOT_FOUND)


def direct_uploads_expire(*, now=None):
    """Delete the direct uploads whose time is up and destroy what was uploaded under them
    (the periodic upload expiry); returns how many. Rows are claimed with ``SKIP LOCKED``: a
    publish that holds one wins, and several runners share the work."""
    now = now or timezone.now()
    with transaction.atomic():
        expired = list(
            DirectUpload.objects.select_for_update(skip_locked=True)
            .filter(expires_at__lte=now)
            .order_by("expires_at")
            .values_list("pk", "public_id")[:EXPIRE_BATCH]
        )
        DirectUpload.objects.filter(pk__in=[pk for pk, _ in expired]).delete()
        direct_uploads_discard(public_ids=[public_id for _, public_id in expired])
    return len(expired)


def direct_uploads_discard(*, public_ids):
    """Inside the transaction that deletes direct uploads (a user's deletion cascades to
    theirs): destroy the assets uploaded under their public ids after the commit. A public
    id under which nothing was uploaded costs one destroy answered "not found"."""
    media_delete_after_commit(*[(video_storage, public_id) for public_id in public_ids])
