"""Media work done in the background: deleting files a committed change made useless, and
sweeping the upload temp folder and the expired upload sessions (periodic,
``CELERY_BEAT_SCHEDULE``).

Every task here is idempotent: deleting a file that is already gone succeeds, and a sweep only
removes what is still there. So a task delivered twice (acks_late re-delivers the task of a
worker that died mid-run) does no harm.
"""

import logging

from celery import Task

from media import upload_temp
from media.errors import STORAGE_ERRORS
from media.storage import storage_for
from viztube.celery import app

logger = logging.getLogger(__name__)

# With a worker, a failed delete is tried again after 1 s, 2 s, 4 s ... up to 10 minutes between
# attempts, each wait drawn at random up to that bound (full jitter: after an outage the retries
# of many files spread out instead of arriving together). 1,000 retries then last about 3.5 days
# on average: a storage outage of a few days still ends with the file deleted.
RETRY_BACKOFF_MAX_SECONDS = 600
MAX_RETRIES = 1000
# Without a broker the task runs inline, in the request whose commit made the file useless, and
# Celery runs an inline task's retry at once, without its countdown: a few attempts, not days'
# worth. What they cannot delete is an orphan for purge_orphan_media.
INLINE_ATTEMPTS = 3


class DeleteNotConfirmed(Exception):
    """The storage answered that it did not delete the file (the Cloudinary storages answer
    False instead of raising)."""


class MediaDeletionTask(Task):
    """``delete_media``'s retry budget and its last word when that budget is spent."""

    @property
    def max_retries(self):
        return INLINE_ATTEMPTS - 1 if self.request.is_eager else MAX_RETRIES

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        storage_alias, name = args
        logger.error(
            "Deleting media %s failed after %d attempt(s) (%s storage: %s); it is now an orphan "
            "(purge_orphan_media removes it)",
            name,
            self.request.retries + 1,
            storage_alias,
            exc,
        )


@app.task(
    base=MediaDeletionTask,
    autoretry_for=(*STORAGE_ERRORS, DeleteNotConfirmed),
    retry_backoff=True,
    retry_backoff_max=RETRY_BACKOFF_MAX_SECONDS,
    retry_jitter=True,
)
def delete_media(storage_alias, name):
    """Delete the file ``name`` from the media storage ``storage_alias`` ("default" or "videos").

    A storage error, or a storage that answers it did not delete (the Cloudinary storages answer
    False), raises, and the task is retried. A file that is already gone counts as deleted.
    """
    if storage_for(storage_alias).delete(name) is False:
        raise DeleteNotConfirmed("the storage answered that it did not delete the file")


@app.task
def sweep_upload_temp():
    """``manage.py sweep_upload_temp`` with its default age guard, reported in the log."""
    result = upload_temp.sweep()
    for swept in result.removed:
        logger.info(result.describe(swept))
    for path, error in result.failed:
        logger.warning("Could not remove the upload temp file %s: %s", path, error)
    logger.info(result.summary())
    return {"removed": len(result.removed), "failed": len(result.failed), "kept": result.kept}


@app.task
def expire_upload_sessions():
    """Delete the upload sessions whose time is up, and their bytes
    (``media.services.upload_sessions_expire``), and the direct uploads to Cloudinary whose
    time is up, and their assets (``direct_uploads_expire``); rows are claimed with SKIP
    LOCKED, so runs may overlap. Returns how many of both."""
    # Imported here: media.services enqueues this module's deletion task.
    from media.services import direct_uploads_expire, upload_sessions_expire

    expired = upload_sessions_expire()
    if expired:
        logger.info("Deleted %d expired upload session(s) and their bytes", expired)
    direct = direct_uploads_expire()
    if direct:
        logger.info("Deleted %d expired direct upload(s) and their assets", direct)
    return expired + direct
