"""Operations work in the background (periodic: ``CELERY_BEAT_SCHEDULE``)."""

import io
import logging

from django.core.management import call_command

from ops.management.commands.purge_orphan_media import FindingsRemain
from viztube.celery import app

logger = logging.getLogger(__name__)


@app.task
def report_orphan_media():
    """``purge_orphan_media`` in report mode (it deletes nothing), its findings logged.

    A clean result is logged at INFO; orphans or missing files at WARNING with the whole
    report, for an operator to read before ``purge_orphan_media --delete``. A storage that
    cannot be listed fails the task (logged as an error). Returns whether the media are clean.
    """
    output = io.StringIO()
    try:
        call_command("purge_orphan_media", "--no-progress", "--fail-on-findings", stdout=output)
    except FindingsRemain as findings:
        logger.warning("Media reconciliation: %s\n%s", findings, output.getvalue().rstrip())
        return False
    logger.info("Media reconciliation: nothing to report.\n%s", output.getvalue().rstrip())
    return True
