"""Writes on videos stored on Cloudinary: publishing a video uploaded straight to Cloudinary,
asking for its HLS rendition, and what Cloudinary's notifications say of it.

The flow (docs/api.md, "Direct uploads to Cloudinary"): ``POST /uploads/cloudinary-signature``
issues a public id and signs its upload (``media.services.direct_upload_issue``); the client
uploads to Cloudinary; ``POST /videos`` with ``cloudinaryPublicId`` checks the asset and
inserts the video, ``processing`` (``videos.services.video_publish_from_cloudinary``); after the
commit a task asks Cloudinary for the HLS rendition (``video_request_streaming``); Cloudinary's eager
notification arrives at ``POST /webhooks/cloudinary`` and makes the video ready with its
``streaming_url``, or failed (``video_apply_cloudinary_notification``).
"""

import logging

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from media import cloudinary_direct
from media.errors import MediaRefused
from media.services import media_delete, media_delete_after_commit, media_store
from media.storage import videos_on_cloudinary
from media.validation import clean_image
from videos import services as video_services
from videos.models import Video, VideoStatus
from viztube import errors
from viztube.api import page_cache

logger = logging.getLogger(__name__)

STREAMING_REFUSED = (
    "Cloudinary no longer holds the uploaded video, so no streaming version can be made"
)
STREAMING_NOT_REQUESTED = (
    "The streaming version could not be requested from Cloudinary; reprocess the video to try again"
)
STREAMING_FAILED = "Cloudinary could not make the streaming version: {reason}"
NOTIFICATIONS_UNAVAILABLE = "Cloudinary notifications are not used on this server"


def enqueue_streaming(video_id, notification_url, *, frame=False):
    """Queue the request for the HLS rendition of ``video_id`` (``videos.tasks``) and, with
    ``frame``, the frame that becomes its thumbnail; run once the video is committed. A broker
    that cannot take them is logged, never raised: a direct upload then waits, ``processing``,
    until the deadline fails it and its owner reprocesses it; a ready video goes without."""
    from videos import tasks  # here: videos.tasks imports this module

    queued = [(tasks.request_streaming, (str(video_id), notification_url))]
    if frame:
        queued.insert(0, (tasks.take_frame, (str(video_id),)))
    for task, args in queued:
        try:
            task.delay(*args)
        except Exception as exc:
            logger.warning("Could not queue %s for video %s (%s)", task.name, video_id, exc)


def video_request_streaming(*, video_id, notification_url):
    """Ask Cloudinary for the HLS rendition of the video ``video_id``: one published by public
    id (``processing``), or one whose bytes were checked (``ready``) without a streaming URL
    yet; a video gone or failed is left alone. A video whose asset Cloudinary no longer holds
    is failed (a ready one stays ready). Raises ``MediaStorageError`` when Cloudinary could not
    be asked: the task tries again, which is harmless."""
    video = (
        Video.objects.filter(pk=video_id, streaming_url__isnull=True)
        .exclude(status=VideoStatus.FAILED)
        .only("pk", "video_file")
        .first()
    )
    if video is None:
        return None
    try:
        return cloudinary_direct.request_streaming(
            video.video_file.name, notification_url=notification_url
        )
    except MediaRefused:
        logger.warning("Cloudinary holds no asset %s of video %s", video.video_file.name, video_id)
        video_services.video_mark_failed(video_id=video_id, reason=STREAMING_REFUSED)
        return None


def video_take_frame(*, video_id):
    """Store a frame that Cloudinary makes of the video ``video_id`` (published by public id
    without a thumbnail) as its thumbnail, under the frame name of the video's own
    (``videos.processing.frame_name``, which a second run replaces); the video is never
    downloaded. A video gone, failed or with a thumbnail meanwhile is left alone, and one of
    which Cloudinary makes no frame keeps none. Raises ``MediaStorageError`` /
    ``DependencyFailed`` when Cloudinary or the image storage could not be reached: the task
    tries again. Returns the thumbnail's name, or None."""
    # Imported here: videos.processing asks this module for the rendition of what it made ready.
    from videos.processing import frame_name

    video = (
        Video.objects.filter(pk=video_id, thumbnail="")
        .exclude(status=VideoStatus.FAILED)
        .only("pk", "video_file")
        .first()
    )
    if video is None:
        return None
    data = cloudinary_direct.video_frame(video.video_file.name)
    if data is None:
        return None
    try:
        image = clean_image(ContentFile(data, name="frame.jpg"), field="thumbnail")
    except errors.InvalidInput as exc:
        logger.warning("Cloudinary's frame of video %s is no image: %s", video.pk, exc.fields)
        return None
    name = frame_name(video.pk)
    if default_storage.exists(name):  # left by a run that died before the end
        media_delete(storage=default_storage, name=name)
    stored = media_store(storage=default_storage, name=name, content=image)
    video_take_thumbnail(video_id=video.pk, thumbnail_name=stored)
    return stored


def video_take_thumbnail(*, video_id, thumbnail_name):
    """Give the video ``video_id`` the stored image ``thumbnail_name`` as its thumbnail, if it
    still has none (the owner's own wins); a thumbnail not taken (or a video gone) is deleted
    after the commit. Under the row lock, as every change of a video's files."""
    with transaction.atomic():
        video = Video.objects.select_for_update(of=("self",)).filter(pk=video_id).first()
        if video is None or video.thumbnail.name:
            if video is None or video.thumbnail.name != thumbnail_name:
                media_delete_after_commit((default_storage, thumbnail_name))
            return video
        video.thumbnail = thumbnail_name
        video.save(update_fields=["thumbnail", "updated_at"])
        if video.status == VideoStatus.READY:
            page_cache.bump()  # a listed video's row changed
    return video


def video_streaming_not_requested(*, video_id):
    """Every attempt to ask Cloudinary for the rendition failed: the owner may reprocess."""
    video_services.video_mark_failed(video_id=video_id, reason=STREAMING_NOT_REQUESTED)


def video_apply_cloudinary_notification(*, body, timestamp, signature):
    """Apply a notification from Cloudinary (``POST /webhooks/cloudinary``): ``body`` as it
    came (bytes), ``timestamp`` and ``signature`` from its ``X-Cld-Timestamp`` and
    ``X-Cld-Signature`` headers. Returns the video it changed or confirmed, or None when it
    concerns none (another kind of notification, an asset no video uses).

    404 without Cloudinary; 401 for a signature that does not match or a timestamp over two
    hours old (``media.cloudinary_direct.notification_payload``); 400 for a signed body that
    is not a JSON object. An eager notification of a video's HLS rendition makes it ready with
    its ``streaming_url``, or failed with Cloudinary's reason (never a ready one). Idempotent:
    the same notification again changes nothing (``video_mark_ready`` / ``video_mark_failed``).
    """
    if not videos_on_cloudinary():
        raise errors.NotFound(NOTIFICATIONS_UNAVAILABLE)
    payload = cloudinary_direct.notification_payload(body, timestamp=timestamp, signature=signature)
    outcome = cloudinary_direct.streaming_outcome(payload)
    if outcome is None:
        return None
    video_id = (
        Video.objects.filter(video_file=outcome.public_id).values_list("pk", flat=True).first()
    )
    if video_id is None:
        logger.info("Cloudinary notified about %s, which no video uses", outcome.public_id)
        return None
    if outcome.failure:
        return video_services.video_mark_failed(
            video_id=video_id, reason=STREAMING_FAILED.format(reason=outcome.failure)
        )
    return video_services.video_mark_ready(video_id=video_id, streaming_url=outcome.streaming_url)
