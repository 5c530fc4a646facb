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

from kombu.exceptions import OperationalError

from media import cloudinary_direct
from media.errors import MediaRefused
from media.storage import videos_on_cloudinary
from videos import services as video_services
from videos.models import Video, VideoStatus
from viztube import errors

logger = logging.getLogger(__name__)

STREAMING_REFUSED = (
    "Cloudinary no longer holds the uploaded video, so no streaming version can be made"
)
STREAMING_NOT_REQUESTED = (
    "The streaming version could not be requested from Cloudinary; reprocess the video to try again"
)
STREAMING_FAILED = "Cloudinary could not make the streaming version: {reason}"
NOTIFICATIONS_UNAVAILABLE = "Cloudinary notifications are not used on this server"


def enqueue_streaming(video_id, notification_url):
    """Queue the request for the HLS rendition of ``video_id`` (``videos.tasks``); run after
    the commit that inserted the video."""
    # Imported here: videos.tasks imports this module.
    from videos import tasks

    try:
        tasks.request_streaming.delay(str(video_id), notification_url)
    except OperationalError as exc:
        # The broker is down: ask at once, inline, rather than leave the video waiting for a
        # rendition nobody asked for.
        logger.warning(
            "Could not queue the HLS request of video %s (%s); asking now", video_id, exc
        )
        tasks.request_streaming.apply(args=(str(video_id), notification_url))


def video_request_streaming(*, video_id, notification_url):
    """Ask Cloudinary for the HLS rendition of the video ``video_id`` (a video gone, or no
    longer processing, is left alone). A video whose asset Cloudinary no longer holds is
    failed. Raises ``MediaStorageError`` when Cloudinary could not be asked: the task tries
    again."""
    video = (
        Video.objects.filter(pk=video_id, status=VideoStatus.PROCESSING)
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
