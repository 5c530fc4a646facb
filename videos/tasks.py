"""Video work in the background (periodic: ``CELERY_BEAT_SCHEDULE``)."""

from videos import services
from viztube.celery import app


@app.task
def publish_due_videos():
    """Make public the scheduled videos whose time has come; returns how many
    (``videos.services.videos_publish_due``, safe to run from several places at once)."""
    return services.videos_publish_due()
