"""Video work in the background: the HLS rendition of a video stored on Cloudinary, and the
periodic publishing of scheduled videos (``CELERY_BEAT_SCHEDULE``)."""

import logging

from celery import Task

from media.errors import STORAGE_ERRORS
from videos import services, streaming
from viztube.celery import app

logger = logging.getLogger(__name__)

# With a worker, a request Cloudinary could not take is tried again after 1 s, 2 s, 4 s ... up
# to 10 minutes apart, each wait drawn at random up to that bound (full jitter), 30 times: about
# two hours on average, past a short Cloudinary outage. Inline (no broker) Celery retries at
# once, so a few attempts.
RETRY_BACKOFF_MAX_SECONDS = 600
MAX_RETRIES = 30
INLINE_ATTEMPTS = 3


class StreamingRequestTask(Task):
    """``request_streaming``'s retry budget, and the video failed when it is spent."""

    @property
    def max_retries(self):
        return INLINE_ATTEMPTS - 1 if self.request.is_eager else MAX_RETRIES

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        video_id = args[0]
        logger.error(
            "Asking Cloudinary for the HLS rendition of video %s failed after %d attempt(s): %s",
            video_id,
            self.request.retries + 1,
            exc,
        )
        streaming.video_streaming_not_requested(video_id=video_id)


@app.task(
    base=StreamingRequestTask,
    autoretry_for=STORAGE_ERRORS,
    retry_backoff=True,
    retry_backoff_max=RETRY_BACKOFF_MAX_SECONDS,
    retry_jitter=True,
)
def request_streaming(video_id, notification_url):
    """Ask Cloudinary for the HLS rendition of the video ``video_id``, to be notified at
    ``notification_url`` (``videos.streaming.video_request_streaming``). Asking twice is
    harmless (a task delivered again after a worker died)."""
    streaming.video_request_streaming(video_id=video_id, notification_url=notification_url)


@app.task
def publish_due_videos():
    """Make public the scheduled videos whose time has come; returns how many
    (``videos.services.videos_publish_due``, safe to run from several places at once)."""
    return services.videos_publish_due()
