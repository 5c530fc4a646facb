"""Storing and deleting media files: the one implementation every app uses.

Rules: a file is stored only after it passed validation, and before a database transaction
opens (a remote upload must never hold a transaction open); a failed store is a
``DependencyFailed`` (the request changed nothing). A file that a committed change made useless
is deleted after the commit by a task (``media_delete_after_commit``), which the worker retries
until the storage confirms. A file that must go before the request ends (the cleanup of a
failed write) is deleted inline (``media_delete``): a failure is retried once, then logged as an
error naming the file, and never raised. Either way the database change stands, and
``purge_orphan_media`` finds what could not be deleted.
"""

import logging
import uuid
from functools import partial

from django.db import transaction
from kombu.exceptions import OperationalError

from media import tasks
from media.errors import STORAGE_ERRORS
from media.storage import storage_alias, storage_for
from viztube import errors

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
