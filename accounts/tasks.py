"""Account work in the background (periodic: ``CELERY_BEAT_SCHEDULE``)."""

import io
import logging

from django.core.management import call_command

from viztube.celery import app

logger = logging.getLogger(__name__)


@app.task
def flush_expired_tokens():
    """simplejwt's ``flushexpiredtokens``: delete the records (outstanding and blacklisted) of
    refresh tokens that have expired; a live token's records stay. Idempotent."""
    output = io.StringIO()
    call_command("flushexpiredtokens", stdout=output)
    logger.info("Expired refresh-token records flushed. %s", output.getvalue().strip())
