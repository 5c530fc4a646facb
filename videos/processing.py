"""The processing of a published video's bytes, run by ``videos.tasks.process_video`` after a
publish from an upload session (and after a reprocess): the checks a single-request publish
makes inside its request, for a file that may be 2 GB.

1. The file is read where it is stored (the local file, or a download from Cloudinary into a
   temporary file: ``media.services.media_on_disk``).
2. Its type and a readable video track with a duration (``media.validation.inspect_video``).
3. Without a thumbnail, a frame becomes one (``media.frames``), stored as JPEG.
4. ``video_mark_ready`` (with the duration and the thumbnail) or ``video_mark_failed`` with a
   reason for a person.
5. With Cloudinary, the HLS rendition of a ready video is asked for (``videos.streaming``);
   Cloudinary's notification sets its ``streaming_url`` later.

Idempotent, as every task here must be (a task whose worker died is delivered again): only a
video still ``processing`` is looked at, and the frame is stored under a name of its video's own
(``frame_name``), which a second run replaces, so a run killed between storing the frame and
marking the video leaves nothing behind. The bytes themselves stay the video's file whatever the
outcome: a failed video can be reprocessed, or deleted by its owner with its files.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import Q
from django.utils import timezone

from media.errors import STORAGE_ERRORS
from media.frames import NoFrame, extract_frame
from media.services import media_delete, media_on_disk, media_store
from media.storage import video_storage, videos_on_cloudinary
from media.validation import (
    NO_DURATION,
    NO_VIDEO_TRACK,
    NOT_A_VIDEO,
    UnreadableVideo,
    inspect_video,
)
from videos import services, streaming
from videos.models import Video, VideoStatus
from viztube import errors

logger = logging.getLogger(__name__)

# What the owner reads in ``failureReason``.
REASONS = {
    NOT_A_VIDEO: "The file is not a video we can read: upload an MP4, WebM, Matroska or "
    "QuickTime video",
    NO_VIDEO_TRACK: "The file has no readable video track: it may be damaged, cut short or "
    "sound only",
    NO_DURATION: "The video has no readable duration",
}
NO_FRAME = "No frame of the video could be decoded for its thumbnail: it may be damaged"
FILE_MISSING = "The video's file is missing from storage: publish it again"
STORAGE_UNREACHABLE = (
    "The video's file could not be read from storage: reprocess the video to try again"
)
UNEXPECTED = "Processing failed unexpectedly: reprocess the video to try again"
TOO_SLOW = "Processing did not finish within {minutes} minutes: reprocess the video to try again"
TOOK_TOO_LONG = "Processing took too long: reprocess the video to try again"


def frame_name(video_id):
    """Where the frame of ``video_id`` is stored: one name per video, so that a second run
    (a task delivered again) replaces the first one's file instead of leaving it behind."""
    return f"thumbnails/frame-{video_id.hex}.jpg"


def video_process(video_id, *, notification_url=""):
    """Check the bytes of the video ``video_id`` and mark it ready or failed; returns
    ``"ready"``, ``"failed"`` or ``"skipped"`` (gone, or no longer processing). With Cloudinary,
    a video made ready without a streaming URL then gets its HLS rendition asked for (a task of
    its own, ``videos.streaming``), to be notified at ``notification_url``.

    A storage that cannot be read (``MediaStorageError``, ``DependencyFailed`` when storing the
    frame) raises: the task retries it (``videos.tasks``)."""
    video = (
        Video.objects.filter(pk=video_id, status=VideoStatus.PROCESSING)
        .only("pk", "video_file", "thumbnail")
        .first()
    )
    if video is None:
        return "skipped"
    try:
        with media_on_disk(storage=video_storage, name=video.video_file.name) as path:
            info = inspect_video(path)
            frame = None
            if not video.thumbnail.name:
                frame = extract_frame(path, duration=info.duration)
    except UnreadableVideo as exc:
        return _failed(video.pk, REASONS[exc.problem])
    except NoFrame as exc:
        logger.info("Video %s: no frame decoded (%s)", video.pk, exc)
        return _failed(video.pk, NO_FRAME)
    except FileNotFoundError:
        logger.error("Video %s: its file %s is not in the storage", video.pk, video.video_file)
        return _failed(video.pk, FILE_MISSING)
    thumbnail_name = None
    if frame is not None:
        thumbnail_name = frame_name(video.pk)
        if default_storage.exists(thumbnail_name):  # left by a run that died before the end
            media_delete(storage=default_storage, name=thumbnail_name)
        thumbnail_name = media_store(storage=default_storage, name=thumbnail_name, content=frame)
    marked = services.video_mark_ready(
        video_id=video.pk, duration=info.duration, thumbnail_name=thumbnail_name
    )
    if marked is None:
        return "skipped"
    if videos_on_cloudinary() and not marked.streaming_url:
        # Its own task with its own retries: the video is ready whatever becomes of it.
        streaming.enqueue_streaming(marked.pk, notification_url)
    return "ready"


def _failed(video_id, reason):
    services.video_mark_failed(video_id=video_id, reason=reason)
    return "failed"


def video_processing_gave_up(video_id, exc):
    """The task failed for good: its retries are spent (the storage stayed unreachable), or
    something unexpected broke (logged by the task). The video fails with a reason that says
    to try again."""
    storage = isinstance(exc, (*STORAGE_ERRORS, errors.DependencyFailed))
    services.video_mark_failed(
        video_id=video_id, reason=STORAGE_UNREACHABLE if storage else UNEXPECTED
    )


def videos_fail_stuck(*, now=None):
    """Mark failed every video processing for longer than ``VIDEO_PROCESSING_DEADLINE_MINUTES``
    (since its publish or reprocess); returns how many. The periodic task
    ``videos.tasks.fail_stuck_videos`` runs it.

    What gets a video stuck: its task could not be enqueued (the broker was down), or it was
    lost. One conditional UPDATE, read from the partial index of processing videos: a video
    that became ready or was reprocessed meanwhile is not touched, and several runs at once
    are harmless. Never listed, so no cached page changes."""
    now = now or timezone.now()
    minutes = settings.VIDEO_PROCESSING_DEADLINE_MINUTES
    cutoff = now - timedelta(minutes=minutes)
    # A row without a start time (written by hand) counts from its creation.
    started_too_long_ago = Q(processing_started_at__lt=cutoff) | Q(
        processing_started_at__isnull=True, created_at__lt=cutoff
    )
    return Video.objects.filter(started_too_long_ago, status=VideoStatus.PROCESSING).update(
        status=VideoStatus.FAILED,
        failure_reason=TOO_SLOW.format(minutes=minutes),
        processing_started_at=None,
        updated_at=now,
    )
