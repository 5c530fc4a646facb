"""Video work in the background: the processing of a published video's bytes, the request for
the HLS rendition of a video stored on Cloudinary (and the frame of one uploaded straight to
it), and the periodic jobs (``CELERY_BEAT_SCHEDULE``).

Every task here is idempotent, so a task delivered twice (acks_late: the task of a worker that
died mid-run is delivered again) does no harm.
"""

import logging

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from media.errors import STORAGE_ERRORS
from videos import processing, services, streaming
from viztube import errors
from viztube.celery import app

logger = logging.getLogger(__name__)

# A storage that cannot be read is tried again after 2 s, 4 s ... up to 5 minutes between
# attempts (full jitter); after the last one the video fails with a reason that says to
# reprocess it. 8 retries last about 10 minutes on average, well within the deadline.
MAX_RETRIES = 8
RETRY_BACKOFF_MAX_SECONDS = 300
# Inline (no broker) a retry runs at once, without its countdown: a few attempts only.
INLINE_ATTEMPTS = 3
# A request for the HLS rendition that Cloudinary could not take is tried again after 1 s, 2 s,
# 4 s ... up to 10 minutes apart (full jitter), 30 times: about two hours on average, past a
# short Cloudinary outage.
STREAMING_MAX_RETRIES = 30
STREAMING_RETRY_BACKOFF_MAX_SECONDS = 600


class ProcessingTask(Task):
    """``process_video``'s retry budget and its last word when that budget is spent."""

    @property
    def max_retries(self):
        return INLINE_ATTEMPTS - 1 if self.request.is_eager else MAX_RETRIES

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        (video_id,) = args
        logger.error(
            "Processing video %s failed after %d attempt(s): %r",
            video_id,
            self.request.retries + 1,
            exc,
        )
        processing.video_processing_gave_up(video_id, exc)


@app.task(
    base=ProcessingTask,
    autoretry_for=(*STORAGE_ERRORS, errors.DependencyFailed),
    retry_backoff=2,
    retry_backoff_max=RETRY_BACKOFF_MAX_SECONDS,
    retry_jitter=True,
    soft_time_limit=settings.VIDEO_PROCESSING_SOFT_TIME_LIMIT,
    time_limit=settings.VIDEO_PROCESSING_TIME_LIMIT,
)
def process_video(video_id, notification_url=""):
    """Check the bytes of the video ``video_id`` (a string) and mark it ready or failed
    (``videos.processing.video_process``); returns the outcome. With Cloudinary, a video made
    ready then gets its HLS rendition asked for, to be notified at ``notification_url``."""
    try:
        return processing.video_process(video_id, notification_url=notification_url)
    except SoftTimeLimitExceeded:
        services.video_mark_failed(video_id=video_id, reason=processing.TOOK_TOO_LONG)
        return "failed"


class StreamingRequestTask(Task):
    """``request_streaming``'s retry budget, and the video failed when it is spent (a video
    already ready stays ready, without a streaming URL)."""

    @property
    def max_retries(self):
        return INLINE_ATTEMPTS - 1 if self.request.is_eager else STREAMING_MAX_RETRIES

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        video_id = args[0]
        logger.error(
            "Asking Cloudinary for the HLS rendition of video %s failed after %d attempt(s): %r",
            video_id,
            self.request.retries + 1,
            exc,
        )
        streaming.video_streaming_not_requested(video_id=video_id)


@app.task(
    base=StreamingRequestTask,
    autoretry_for=STORAGE_ERRORS,
    retry_backoff=True,
    retry_backoff_max=STREAMING_RETRY_BACKOFF_MAX_SECONDS,
    retry_jitter=True,
)
def request_streaming(video_id, notification_url):
    """Ask Cloudinary for the HLS rendition of the video ``video_id``, to be notified at
    ``notification_url`` (``videos.streaming.video_request_streaming``). Asking twice is
    harmless (a task delivered again after a worker died)."""
    streaming.video_request_streaming(video_id=video_id, notification_url=notification_url)


class FrameTask(Task):
    """``take_frame``'s retry budget; when it is spent the video simply has no thumbnail (its
    owner may set one)."""

    @property
    def max_retries(self):
        return INLINE_ATTEMPTS - 1 if self.request.is_eager else MAX_RETRIES

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        logger.error(
            "Taking a frame of video %s from Cloudinary failed after %d attempt(s): %r",
            args[0],
            self.request.retries + 1,
            exc,
        )


@app.task(
    base=FrameTask,
    autoretry_for=(*STORAGE_ERRORS, errors.DependencyFailed),
    retry_backoff=2,
    retry_backoff_max=RETRY_BACKOFF_MAX_SECONDS,
    retry_jitter=True,
)
def take_frame(video_id):
    """Give the video ``video_id`` (published straight to Cloudinary without a thumbnail) a
    frame that Cloudinary makes as its thumbnail (``videos.streaming.video_take_frame``)."""
    streaming.video_take_frame(video_id=video_id)


@app.task
def fail_stuck_videos():
    """Mark failed the videos processing past ``VIDEO_PROCESSING_DEADLINE_MINUTES``; returns how
    many (``videos.processing.videos_fail_stuck``, safe to run from several places at once)."""
    failed = processing.videos_fail_stuck()
    if failed:
        logger.warning("Marked %d video(s) failed: processing past its deadline", failed)
    return failed


@app.task
def publish_due_videos():
    """Make public the scheduled videos whose time has come; returns how many
    (``videos.services.videos_publish_due``, safe to run from several places at once)."""
    return services.videos_publish_due()
