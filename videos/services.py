"""Writes on videos and watch history.

Media rules (``media.services``): every file is validated before anything is stored; files are
stored before the database transaction opens (a remote upload never holds a transaction open);
whatever was stored is deleted again if a later step fails; files that a committed change made
useless (a deleted video, a replaced thumbnail) are deleted only after the commit, and a failed
delete is logged, never raised (the database change stands).
"""

import functools
import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Case, F, UUIDField, Value, When
from django.utils import timezone

from media.frames import NoFrame, extract_frame
from media.services import (
    direct_upload_check,
    direct_upload_consume,
    media_delete,
    media_delete_after_commit,
    media_name,
    media_store,
    upload_session_completed,
    upload_session_consume,
)
from media.storage import video_storage, videos_on_cloudinary
from media.validation import clean_image, on_disk, probe_video, sniff_video_type
from videos.models import Video, VideoStatus, WatchHistory
from videos.selectors import (
    VIDEO_NOT_FOUND,
    reachable_videos_q,
    video_detail_for_viewer,
    video_get_for_viewer,
    visible_videos_q,
)
from videos.serializers import VIDEO_DETAIL_SHAPE
from videos.signals import video_published
from viztube import errors
from viztube.api import page_cache
from viztube.compiled import Parameter, Slot, Statement, compiled
from viztube.events import send_after_commit
from viztube.models import Visibility

logger = logging.getLogger(__name__)

NOT_AUTHORIZED_TO_UPDATE = "You are not authorized to update this video"
NOT_AUTHORIZED_TO_DELETE = "You are not authorized to delete this video"
# The original VizTube API's message for a toggle by someone else.
NOT_AUTHORIZED_TO_TOGGLE = "Unauthorized"
NOT_AUTHORIZED_TO_REPROCESS = "You are not authorized to reprocess this video"
ONLY_FAILED_IS_REPROCESSED = "Only a video whose processing failed can be reprocessed"
NO_FRAME = "No frame of the video could be decoded for its thumbnail: send a thumbnail"
UNKNOWN_UPLOAD = "No upload with this id: start one with POST /uploads"
NOT_IN_WATCH_HISTORY = "Video not found in watch history"
VIEW_KEY_PREFIX = "video-view"
PUBLISH_AT_MAX_AHEAD = timedelta(days=366)
PUBLISH_AT_NOT_FUTURE = "publishAt must be in the future"
PUBLISH_AT_TOO_FAR = "publishAt must be at most 366 days ahead"
SCHEDULED_IS_PRIVATE = (
    "A video with a publishAt stays private until then: omit visibility or send 'private'"
)


def _thumbnail_extension(image):
    return image.name.rsplit(".", 1)[-1]


def _validate_media(*, video_file, thumbnail):
    """Probe the video and re-encode the thumbnail, reporting the field errors of both at once;
    without a thumbnail, a frame of the video becomes one (``media.frames``).

    413 (a file over its cap) wins over 422 and is raised at once.
    """
    problems, info, image = {}, None, None
    try:
        info = probe_video(video_file, field="videoFile")
    except errors.InvalidInput as exc:
        problems.update(exc.fields)
    if thumbnail is not None:
        try:
            image = clean_image(thumbnail, field="thumbnail")
        except errors.InvalidInput as exc:
            problems.update(exc.fields)
    if problems:
        raise errors.InvalidInput(fields=problems)
    if image is None:
        with on_disk(video_file) as path:
            try:
                image = extract_frame(path, duration=info.duration)
            except NoFrame:
                raise errors.InvalidInput(fields={"videoFile": [NO_FRAME]}) from None
    return info, image


def video_get_for_owner(video_id, user, *, forbidden_message, queryset=None):
    """The video if ``user`` owns it: 404 when missing or invisible, 403 when visible but not
    theirs (another user's unpublished video stays a 404: no existence oracle)."""
    video = video_get_for_viewer(video_id, user, queryset=queryset)
    if video.owner_id != user.pk:
        raise errors.NotAllowed(forbidden_message)
    return video


def video_locked_for_owner(video_id, user, forbidden_message):
    """Inside a transaction: the owner's video re-read and locked (the owner row is joined,
    not locked); 404 / 403 as ``video_get_for_owner``."""
    queryset = Video.objects.select_for_update(of=("self",)).select_related("owner")
    return video_get_for_owner(
        video_id, user, forbidden_message=forbidden_message, queryset=queryset
    )


# --- Visibility and scheduling -------------------------------------------------------------------


def _check_publish_at(publish_at, now):
    if publish_at <= now:
        raise errors.InvalidInput(fields={"publishAt": PUBLISH_AT_NOT_FUTURE})
    if publish_at > now + PUBLISH_AT_MAX_AHEAD:
        raise errors.InvalidInput(fields={"publishAt": PUBLISH_AT_TOO_FAR})


def _show(video, visibility, *, now):
    """Set ``visibility`` in memory; the first time a video is public and ready is its
    ``published_at`` (a video still processing gets it when it becomes ready:
    ``video_mark_ready``). Returns the names of the fields that changed."""
    changed = []
    if video.visibility != visibility:
        video.visibility = visibility
        changed.append("visibility")
    if (
        visibility == Visibility.PUBLIC
        and video.status == VideoStatus.READY
        and video.published_at is None
    ):
        video.published_at = now
        changed.append("published_at")
    if visibility != Visibility.PRIVATE and video.publish_at is not None:
        video.publish_at = None  # a video shown now is no longer waiting for its time
        changed.append("publish_at")
    return changed


def _announce_if_published(video, changed):
    """After ``_show`` (or a change built on it) returned ``changed``: when it stamped
    ``published_at``, the video is listed for the first time, and ``videos.signals.video_published``
    goes out once the transaction commits."""
    if "published_at" in changed:
        send_after_commit(video_published, sender=Video, video_id=video.pk, owner_id=video.owner_id)


def _apply_publishing(video, fields, *, now):
    """Apply the ``visibility`` and ``publishAt`` of a create or update to ``video`` in memory.

    A ``publish_at`` schedules the video: it is private until then (sending another visibility
    with it is a 422); ``publish_at=None`` cancels a schedule and leaves the video private. A
    visibility other than private cancels a schedule. Returns the changed field names."""
    visibility = fields.get("visibility")
    if "publish_at" not in fields:
        return _show(video, visibility, now=now) if visibility else []
    publish_at = fields["publish_at"]
    if publish_at is None:
        changed = _show(video, visibility, now=now) if visibility else []
        if video.publish_at is not None:
            video.publish_at = None
            changed.append("publish_at")
        return changed
    if visibility not in (None, Visibility.PRIVATE):
        raise errors.InvalidInput(fields={"visibility": SCHEDULED_IS_PRIVATE})
    _check_publish_at(publish_at, now)
    changed = _show(video, Visibility.PRIVATE, now=now)
    if video.publish_at != publish_at:
        video.publish_at = publish_at
        changed.append("publish_at")
    return changed


def videos_publish_due(*, batch_size=500):
    """Make public every ready scheduled video whose ``publish_at`` has come; returns how many.
    (One still processing is made public when it becomes ready: ``video_mark_ready``.)

    Run every ``SCHEDULED_PUBLISHING_SECONDS`` by the periodic task
    ``videos.tasks.publish_due_videos`` (``CELERY_BEAT_SCHEDULE``). Each video goes through the
    same change as a manual publish (``_show``), so ``published_at``, the catalog count (its
    trigger) and the cached list pages follow. Rows are claimed with ``SKIP LOCKED``: several
    runners at once (a worker and a hand-run ``run_periodic_jobs``, or every web process when
    there is no broker) share the work and never publish a video twice; one an owner is editing right now
    is left for the next run. ``published_at`` is the time of the flip, not ``publish_at``: the
    feed orders by it, and a video must not appear behind a page a reader has already passed.
    """
    published = 0
    while True:
        with transaction.atomic():
            now = timezone.now()
            due = list(
                Video.objects.select_for_update(skip_locked=True)
                .filter(
                    visibility=Visibility.PRIVATE, status=VideoStatus.READY, publish_at__lte=now
                )
                .order_by("publish_at")
                .only("pk", "owner_id", "visibility", "status", "publish_at", "published_at")[
                    :batch_size
                ]
            )
            for video in due:
                changed = _show(video, Visibility.PUBLIC, now=now)
                video.save(update_fields=[*changed, "updated_at"])
                _announce_if_published(video, changed)
            if due:
                page_cache.bump()
        published += len(due)
        if len(due) < batch_size:
            return published


# --- Videos -------------------------------------------------------------------------------------


def _new_video(*, owner, title, description, publishing, status=VideoStatus.READY):
    """The video about to be published, with its ``visibility`` / ``publish_at`` asked for
    (public, now, by default) applied: 422 before anything is stored."""
    publishing = dict(publishing or {})
    if publishing.get("publish_at") is None:
        publishing.setdefault("visibility", Visibility.PUBLIC)
    video = Video(owner=owner, title=title, description=description, status=status)
    _apply_publishing(video, publishing, now=timezone.now())
    return video


def video_publish(
    *, owner, title, description, video_file, thumbnail=None, publishing=None, notification_url=""
):
    """Validate both files, store them, then insert the video row, ready at once.

    ``publishing``: the ``visibility`` / ``publish_at`` asked for (public, now, by default).
    Without a ``thumbnail`` a frame of the video becomes it, taken here (the file is at most
    ``SINGLE_UPLOAD_MAX_MB``: tens of milliseconds). With Cloudinary, its HLS rendition is asked
    for after the commit, to be notified at ``notification_url``.

    Nothing is stored unless both files pass (413 / 422). If storing the thumbnail or the
    insert fails, the files already stored are deleted again before the error goes up.
    Storage failures are a 502.
    """
    video = _new_video(owner=owner, title=title, description=description, publishing=publishing)
    info, image = _validate_media(video_file=video_file, thumbnail=thumbnail)
    stored = []
    try:
        video_name = media_store(
            storage=video_storage, name=media_name("videos", info.extension), content=video_file
        )
        stored.append((video_storage, video_name))
        thumbnail_name = media_store(
            storage=default_storage,
            name=media_name("thumbnails", _thumbnail_extension(image)),
            content=image,
        )
        stored.append((default_storage, thumbnail_name))
        video.video_file, video.thumbnail, video.duration = (
            video_name,
            thumbnail_name,
            info.duration,
        )
        with transaction.atomic():
            video.save(force_insert=True)
            if video.visibility == Visibility.PUBLIC and video.status == VideoStatus.READY:
                page_cache.bump()
            if video.published_at is not None:
                _announce_if_published(video, ["published_at"])
            if videos_on_cloudinary():
                transaction.on_commit(
                    functools.partial(_enqueue_streaming, video.pk, notification_url),
                    robust=True,
                )
    except BaseException:
        for storage, name in stored:
            media_delete(storage=storage, name=name)
        raise
    return video


def _enqueue_streaming(video_id, notification_url, *, frame=False):
    """Ask for the HLS rendition of a video stored on Cloudinary, and with ``frame`` for a frame
    as its thumbnail (``videos.streaming``)."""
    from videos import streaming  # here: videos.streaming builds on this module

    streaming.enqueue_streaming(video_id, notification_url, frame=frame)


def _completed_upload(upload_id, owner, problems):
    """The complete upload session ``upload_id`` of ``owner``, or None with the problem added
    to ``problems`` (a 422 on ``uploadId``: a missing upload is a bad reference in the body);
    409 with ``data.offset`` while bytes are missing."""
    try:
        return upload_session_completed(upload_id=upload_id, owner=owner)
    except errors.NotFound:
        problems["uploadId"] = [UNKNOWN_UPLOAD]
        return None


def _upload_extension(completed):
    """The stored video's extension: its type sniffed from the first bytes of a local upload
    (a read of 8 KB; the processing checks the rest), ``bin`` for bytes that are no video we
    accept (the processing then fails it). A Cloudinary upload keeps its own name."""
    if completed.path is None:
        return "bin"
    with completed.open() as file:
        sniffed = sniff_video_type(file.read(8192))
    return sniffed[1] if sniffed else "bin"


def video_publish_from_upload(
    *, owner, title, description, upload_id, thumbnail=None, publishing=None, notification_url=""
):
    """Publish the bytes of the complete upload session ``upload_id``: the video is inserted
    ``processing`` and a task checks it afterwards (``videos.processing``); nothing here reads
    more than the first 8 KB of a file that may be 2 GB.

    422 for bad fields, a bad thumbnail or an unknown upload (all at once), 409 with the offset
    for an upload still missing bytes; nothing is stored or consumed then. The thumbnail, when
    given, is stored first; then the session is consumed and the row inserted in one
    transaction (``upload_session_consume(then=...)``): if the insert fails, the upload is as
    it was, and the thumbnail is deleted again. The processing task is enqueued once the row
    is committed; should the broker be unreachable the video waits, ``processing``, until the
    deadline marks it failed (``videos.processing.videos_fail_stuck``). With Cloudinary, the
    video's HLS rendition is asked for once it is ready, to be notified at ``notification_url``.
    """
    video = _new_video(
        owner=owner,
        title=title,
        description=description,
        publishing=publishing,
        status=VideoStatus.PROCESSING,
    )
    video.duration = 0
    problems, image = {}, None
    if thumbnail is not None:
        try:
            image = clean_image(thumbnail, field="thumbnail")
        except errors.InvalidInput as exc:
            problems.update(exc.fields)
    completed = _completed_upload(upload_id, owner, problems)
    if problems:
        raise errors.InvalidInput(fields=problems)
    extension = _upload_extension(completed)
    thumbnail_name = ""
    if image is not None:
        thumbnail_name = media_store(
            storage=default_storage,
            name=media_name("thumbnails", _thumbnail_extension(image)),
            content=image,
        )

    def insert(video_name):
        video.video_file, video.thumbnail = video_name, thumbnail_name
        video.processing_started_at = timezone.now()
        video.save(force_insert=True)
        transaction.on_commit(
            functools.partial(enqueue_processing, video.pk, notification_url), robust=True
        )

    try:
        upload_session_consume(
            upload_id=completed.upload_id,
            owner=owner,
            name=media_name("videos", extension),
            then=insert,
        )
    except errors.NotFound:
        # Consumed by a concurrent publish of the same upload meanwhile.
        media_delete(storage=default_storage, name=thumbnail_name)
        raise errors.InvalidInput(fields={"uploadId": [UNKNOWN_UPLOAD]}) from None
    except BaseException:
        media_delete(storage=default_storage, name=thumbnail_name)
        raise
    return video


def enqueue_processing(video_id, notification_url=""):
    """Send the video's processing task to the workers (run inline without a broker). A broker
    that cannot take it is logged, never raised: the video waits, ``processing``, and the
    deadline marks it failed, so its owner can reprocess it. ``notification_url``: where
    Cloudinary reports the HLS rendition asked for once the video is ready."""
    from videos import tasks  # here: videos.tasks imports this module

    try:
        tasks.process_video.delay(str(video_id), notification_url=notification_url)
    except Exception as exc:
        logger.warning(
            "Could not queue the processing of video %s (%s); it stays processing until "
            "VIDEO_PROCESSING_DEADLINE_MINUTES marks it failed",
            video_id,
            exc,
        )


def video_reprocess(*, video_id, actor, notification_url=""):
    """Run a failed video's processing again (its owner only: 404 when invisible, 403 when
    visible but another's); 409 unless it failed. Under the row lock, so two requests at once
    enqueue one run. ``notification_url``: as for ``video_publish_from_upload``."""
    with transaction.atomic():
        video = video_locked_for_owner(video_id, actor, NOT_AUTHORIZED_TO_REPROCESS)
        if video.status != VideoStatus.FAILED:
            raise errors.Conflict(ONLY_FAILED_IS_REPROCESSED)
        video.status = VideoStatus.PROCESSING
        video.failure_reason = None
        video.processing_started_at = timezone.now()
        video.save(
            update_fields=["status", "failure_reason", "processing_started_at", "updated_at"]
        )
        transaction.on_commit(
            functools.partial(enqueue_processing, video.pk, notification_url), robust=True
        )
    return video


def video_update(*, video_id, actor, fields):
    """Apply a partial update (``title``, ``description``, ``thumbnail``, ``visibility``,
    ``publish_at``: see ``_apply_publishing``) by the owner.

    A new thumbnail is validated and stored before the transaction, then replaces the old one,
    which is deleted after the commit; if the update fails, the new file is deleted instead.
    Only changed columns are written (the search trigger fires on title/description only).
    """
    video_get_for_owner(video_id, actor, forbidden_message=NOT_AUTHORIZED_TO_UPDATE)
    new_thumbnail = None
    if fields.get("thumbnail") is not None:
        image = clean_image(fields["thumbnail"], field="thumbnail")
        new_thumbnail = media_store(
            storage=default_storage,
            name=media_name("thumbnails", _thumbnail_extension(image)),
            content=image,
        )
    try:
        with transaction.atomic():
            video = video_locked_for_owner(video_id, actor, NOT_AUTHORIZED_TO_UPDATE)
            changed = [
                name
                for name in ("title", "description")
                if name in fields and fields[name] != getattr(video, name)
            ]
            for name in changed:
                setattr(video, name, fields[name])
            changed += _apply_publishing(video, fields, now=timezone.now())
            if new_thumbnail:
                old_thumbnail = video.thumbnail.name
                video.thumbnail = new_thumbnail
                changed.append("thumbnail")
                media_delete_after_commit((default_storage, old_thumbnail))
            if changed:
                video.save(update_fields=[*changed, "updated_at"])
                page_cache.bump()
                _announce_if_published(video, changed)
    except BaseException:
        if new_thumbnail:
            media_delete(storage=default_storage, name=new_thumbnail)
        raise
    return video


def video_toggle_publish(*, video_id, actor):
    """The original API's publish toggle (owner only): private becomes public, public or unlisted
    becomes private, and a schedule is cancelled. Under a row lock so two toggles flip twice."""
    with transaction.atomic():
        video = video_locked_for_owner(video_id, actor, NOT_AUTHORIZED_TO_TOGGLE)
        target = Visibility.PUBLIC if video.visibility == Visibility.PRIVATE else Visibility.PRIVATE
        changed = _apply_publishing(
            video, {"visibility": target, "publish_at": None}, now=timezone.now()
        )
        video.save(update_fields=[*changed, "updated_at"])
        page_cache.bump()
        _announce_if_published(video, changed)
    return video


def video_save_by_staff(*, video):
    """A staff edit in the admin (title, description, owner, visibility, schedule). The admin
    form has validated the model's constraints (a schedule only on a private video)."""
    with transaction.atomic():
        changed = _show(video, video.visibility, now=timezone.now())
        video.save()
        _announce_if_published(video, changed)
    page_cache.bump()
    return video


def video_set_visibility(*, videos, visibility):
    """Give a queryset of videos ``visibility`` (admin actions), each as the owner's toggle would
    (``published_at`` stamped, schedules cancelled unless private); returns how many changed."""
    now, changed = timezone.now(), 0
    with transaction.atomic():
        for video in videos.exclude(visibility=visibility).select_for_update(of=("self",)):
            shown = _show(video, visibility, now=now)
            video.save(update_fields=[*shown, "updated_at"])
            _announce_if_published(video, shown)
            changed += 1
    page_cache.bump()
    return changed


# --- Direct uploads to Cloudinary ----------------------------------------------------------------


def video_publish_from_cloudinary(
    *, owner, title, description, public_id, thumbnail=None, publishing=None, notification_url=""
):
    """Publish the video that ``owner`` uploaded straight to Cloudinary under ``public_id``
    (issued to them by ``POST /uploads/cloudinary-signature``): a video whose file is that
    asset, ``processing`` until Cloudinary's notification says its HLS rendition is made.

    The asset is checked first, through the Admin API (``media.services.direct_upload_check``:
    404 not issued to ``owner`` or already published, 409 nothing uploaded, 413, 422, 502), and
    ``thumbnail`` (optional) is validated and stored, all before the transaction; the public id
    is taken (so it is published once) in the transaction that inserts the video. Nothing is
    written when any step fails, and a thumbnail already stored is deleted again. After the
    commit, ``videos.tasks.request_streaming`` asks Cloudinary for the rendition, to be
    notified at ``notification_url``, and without a thumbnail ``videos.tasks.take_frame`` gives
    the video a frame that Cloudinary makes.
    """
    video = _new_video(
        owner=owner,
        title=title,
        description=description,
        publishing=publishing,
        status=VideoStatus.PROCESSING,
    )
    image = clean_image(thumbnail, field="thumbnail") if thumbnail is not None else None
    asset = direct_upload_check(owner=owner, public_id=public_id)
    thumbnail_name = ""
    if image is not None:
        thumbnail_name = media_store(
            storage=default_storage,
            name=media_name("thumbnails", _thumbnail_extension(image)),
            content=image,
        )
    try:
        with transaction.atomic():
            direct_upload_consume(owner=owner, public_id=public_id)
            video.video_file, video.thumbnail, video.duration = (
                public_id,
                thumbnail_name,
                asset.duration,
            )
            video.processing_started_at = timezone.now()
            video.save(force_insert=True)
            # A processing video is listed nowhere: no cached page changes until it is ready.
            transaction.on_commit(
                functools.partial(
                    _enqueue_streaming, video.pk, notification_url, frame=not thumbnail_name
                ),
                robust=True,
            )
    except BaseException:
        if thumbnail_name:
            media_delete(storage=default_storage, name=thumbnail_name)
        raise
    return video


# --- Processing outcome ---------------------------------------------------------------------------


def _publish_when_ready(video, *, now):
    """What becoming ready does to a video's publishing, in memory: a public video gets its
    ``published_at``; a scheduled one whose time came while it was processing is made public
    now (as the periodic job would have). Returns the changed field names."""
    if (
        video.visibility == Visibility.PRIVATE
        and video.publish_at is not None
        and video.publish_at <= now
    ):
        return _show(video, Visibility.PUBLIC, now=now)
    return _show(video, video.visibility, now=now)


def video_mark_ready(*, video_id, duration=None, thumbnail_name=None, streaming_url=None):
    """The video ``video_id`` is ready (its bytes were checked): listed and counted from now on
    as its visibility says. Returns the video, or None when it is gone.

    ``duration`` (seconds), ``thumbnail_name`` (a file already stored in the default storage)
    and ``streaming_url`` (an HLS URL) are set when given. A thumbnail is taken only by a video
    that has none: the owner's own thumbnail wins over an extracted frame, and a thumbnail that
    is not taken (or arrives for a deleted video) is deleted after the commit, so it is never
    left behind. A failed video becomes ready too (a late success after the deadline marked it
    failed). Idempotent: a repeat changes nothing, and a late call for a deleted video is a
    no-op. Under the row lock, so a concurrent edit or a second call waits its turn.
    """
    with transaction.atomic():
        video = Video.objects.select_for_update(of=("self",)).filter(pk=video_id).first()
        if video is None:
            if thumbnail_name:
                media_delete_after_commit((default_storage, thumbnail_name))
            return None
        changed = []
        if video.status != VideoStatus.READY:
            video.status = VideoStatus.READY
            changed.append("status")
        if video.failure_reason is not None:
            video.failure_reason = None
            changed.append("failure_reason")
        if video.processing_started_at is not None:
            video.processing_started_at = None
            changed.append("processing_started_at")
        if duration is not None and video.duration != duration:
            video.duration = duration
            changed.append("duration")
        if thumbnail_name and thumbnail_name != video.thumbnail.name:
            if video.thumbnail.name:
                media_delete_after_commit((default_storage, thumbnail_name))
            else:
                video.thumbnail = thumbnail_name
                changed.append("thumbnail")
        if streaming_url is not None and video.streaming_url != streaming_url:
            video.streaming_url = streaming_url
            changed.append("streaming_url")
        changed += _publish_when_ready(video, now=timezone.now())
        if changed:
            video.save(update_fields=[*dict.fromkeys(changed), "updated_at"])
            page_cache.bump()
            _announce_if_published(video, changed)
    return video


def video_mark_failed(*, video_id, reason):
    """Processing of ``video_id`` failed: the owner sees ``reason`` (words for a person, not an
    exception) and may reprocess it. Returns the video, or None when it is gone.

    Never overrides ``ready`` (a late failure of a run that was superseded, or a repeat after
    success); a repeat with the same reason changes nothing. A video that was never listed stays
    unlisted, so no cached page changes.
    """
    with transaction.atomic():
        video = Video.objects.select_for_update(of=("self",)).filter(pk=video_id).first()
        if video is None or video.status == VideoStatus.READY:
            return video
        changed = []
        if video.status != VideoStatus.FAILED:
            video.status = VideoStatus.FAILED
            changed.append("status")
        if video.failure_reason != reason:
            video.failure_reason = reason
            changed.append("failure_reason")
        if video.processing_started_at is not None:
            video.processing_started_at = None
            changed.append("processing_started_at")
        if changed:
            video.save(update_fields=[*changed, "updated_at"])
    return video


# --- Viewing ------------------------------------------------------------------------------------


def _viewer_key(viewer, client_ip):
    """Who is watching: the user when signed in, else the client address.

    ``client_ip`` is ``viztube.api.client.client_ip``: ``REMOTE_ADDR`` unless the deployment
    declares trusted proxies. ``X-Forwarded-For`` is written by the client otherwise, so
    trusting it would let anyone count unlimited views.
    """
    if viewer is not None and viewer.is_authenticated:
        return f"user:{viewer.pk}"
    return f"ip:{client_ip or 'unknown'}"


def _view_key(video_id, viewer, client_ip):
    return f"{VIEW_KEY_PREFIX}:{video_id}:{_viewer_key(viewer, client_ip)}"


def _first_view_in_window(video_id, viewer, client_ip):
    """True once per (video, viewer) per ``VIEW_DEDUP_MINUTES``: ``cache.add`` is atomic, so
    of simultaneous requests by one viewer exactly one wins."""
    return _take_view_key(_view_key(video_id, viewer, client_ip))


def _take_view_key(key):
    try:
        return cache.add(key, 1, timeout=settings.VIEW_DEDUP_MINUTES * 60)
    except Exception:
        # A cache outage must not break watching; the view is simply not counted.
        logger.exception("View de-duplication cache unavailable; view not counted")
        return False


def _give_back_view_key(key):
    try:
        cache.delete(key)
    except Exception:
        # The key expires by itself; until then this viewer's views of the video are not
        # counted, as during an outage.
        logger.exception("View de-duplication cache unavailable; key left to expire")


def video_record_view(*, video, viewer, client_ip):
    """Count a view and record the signed-in viewer's watch history.

    Not counted: the owner's own views and repeats by one viewer inside the de-dup window.
    Two statements, each atomic on its own, and no transaction around them (it would cost two
    more round trips on the busiest write): a view counted without its history entry, should
    the second statement fail, is still a view that happened.
    The count is an ``F()`` update (no lost updates under concurrency) through
    ``QuerySet.update``, which leaves ``updated_at`` alone: a view is not an edit. ``video``
    is updated in memory so the response shows the count including this view.
    """
    signed_in = viewer is not None and viewer.is_authenticated
    is_owner = signed_in and video.owner_id == viewer.pk
    if not is_owner and _first_view_in_window(video.pk, viewer, client_ip):
        Video.objects.filter(pk=video.pk).update(views=F("views") + 1)
        video.views += 1
    if signed_in:
        _record_watch(viewer=viewer, video=video)


def _record_watch(*, viewer, video):
    """Insert the viewer's history entry for ``video``, or move the existing one to now: one
    statement, in autocommit.

    ``bulk_create(update_conflicts=True)`` writes the same ``INSERT ... ON CONFLICT`` but wraps
    it in ``BEGIN``/``COMMIT``: two more round trips on every signed-in view.
    """
    with connection.cursor() as cursor:
        cursor.execute(_watch_upsert(), _watch_values(viewer.pk, video.pk))


def _watch_values(viewer_id, video_id):
    """The parameters of ``_watch_upsert``: a new entry of ``viewer_id`` for ``video_id``,
    watched now."""
    entry = WatchHistory(user_id=viewer_id, video_id=video_id, watched_at=timezone.now())
    return [
        field.get_db_prep_save(field.pre_save(entry, True), connection)
        for field in WatchHistory._meta.concrete_fields
    ]


@functools.cache
def _watch_upsert(source=None):
    """The statement of ``_record_watch``, from the model's own table, fields and columns (the
    values are parameters, ``_watch_values``); PostgreSQL and SQLite both speak it. Every column gets
    a value from Python: a field the database computes (generated, or with only a
    ``db_default``) would need to be left out here, as ``bulk_create`` does.

    With ``source`` (the name of a CTE), the row is inserted once per row of ``source``: none
    when the lean detail's read found no video it may show."""
    meta, quote = WatchHistory._meta, connection.ops.quote_name
    fields = meta.concrete_fields
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    rows = f"SELECT {placeholders} FROM {quote(source)}" if source else f"VALUES ({placeholders})"  # noqa: S608
    unique_columns = ", ".join(quote(meta.get_field(name).column) for name in ("user", "video"))
    watched_at = quote(meta.get_field("watched_at").column)
    statement = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) {rows} "
        f"ON CONFLICT ({unique_columns}) DO UPDATE SET {watched_at} = EXCLUDED.{watched_at}"
    )
    return statement


def video_watch(*, video_id, viewer, client_ip, viewer_state=None):
    """``GET /videos/:id``: the detail (404 when missing or invisible), with the view counted.
    ``viewer_state``: see ``videos.selectors.video_detail_for_viewer``."""
    video = video_detail_for_viewer(video_id=video_id, viewer=viewer, viewer_state=viewer_state)
    video_record_view(video=video, viewer=viewer, client_ip=client_ip)
    return video


# --- Viewing on the lean path (PostgreSQL) -------------------------------------------------------

_VIEWER = Parameter("viewer", UUIDField())
_VIDEO = Parameter("video", UUIDField())
_NO_FLAGS = {"viewer_liked": Value(False), "viewer_subscribed": Value(False)}
_WATCH_SLOTS = tuple(
    Slot(f"watch.{field.attname}", field.target_field if field.is_relation else field)
    for field in WatchHistory._meta.concrete_fields
)
_WATCH_SLOTS_NAMES = tuple(slot.name for slot in _WATCH_SLOTS)


@compiled
def _detail_statement(viewer_state, record_watch, count_view):
    """The detail's read: ``video_detail_for_viewer``'s rule and flags, selecting
    ``VIDEO_DETAIL_SHAPE`` then how many views this statement counted (0 or 1); for an
    anonymous caller when ``viewer_state`` is None.

    The writes ride on the read as data-modifying CTEs, so a view costs one statement:
    ``record_watch`` upserts the caller's watch history for the video read (none when it is
    not shown), ``count_view`` adds the view to a video the caller may see and does not own
    (``video_record_view``'s rules, the visibility rule compiled from the same ``Q``)."""
    if viewer_state is None:
        viewer_id, flags = None, _NO_FLAGS
    else:
        viewer_id, flags = _VIEWER, viewer_state(_VIEWER)
        # False on one's own channel (as video_detail_for_viewer says it).
        flags["viewer_subscribed"] = Case(
            When(owner_id=_VIEWER, then=Value(False)), default=flags["viewer_subscribed"]
        )
    shown = Video.objects.filter(reachable_videos_q(viewer_id), pk=_VIDEO)
    read = Statement.of(VIDEO_DETAIL_SHAPE.select(shown.annotate(**flags).order_by()))
    parts, params = [f"detail AS ({read.sql})"], [*read.params]
    if record_watch:
        upsert = _watch_upsert(source="detail")
        parts.append(f"watched AS ({upsert})")
        params += _WATCH_SLOTS
    counted = "0"
    if count_view:
        if viewer_id is not None:
            shown = shown.exclude(owner_id=viewer_id)
        update = Statement.update(shown, views=F("views") + 1)
        parts.append(f"counted AS ({update.sql} RETURNING 1)")
        params += update.params
        counted = "(SELECT count(*) FROM counted)"
    return Statement(
        f"WITH {', '.join(parts)} SELECT detail.*, {counted} FROM detail",  # noqa: S608
        params,
    )


def video_watch_data(*, video_id, viewer, client_ip, viewer_state, record=True):
    """``video_watch`` (``record``) or the bare read (the detail's ``HEAD``) on the lean path:
    the response's data (``VideoDetailSerializer``'s shape), 404 as there.

    ``viewer_state``: a function of the caller's id giving the flag expressions
    (``social.selectors.video_viewer_state_of``). One statement, in autocommit as there, reads
    the video, records a signed-in caller's watch history and counts the view
    (``_detail_statement``). ``video_record_view``'s de-dup key is taken before it, as the
    count needs the answer: it is given back when the statement counted nothing (the video
    not shown, or the caller's own), so that the key stands only for a counted view, as there.
    """
    signed_in = viewer is not None and viewer.is_authenticated
    values = {"video": video_id}
    if signed_in:
        values["viewer"] = viewer.pk
        if record:
            values.update(zip(_WATCH_SLOTS_NAMES, _watch_values(viewer.pk, video_id), strict=True))
    view_key = _view_key(video_id, viewer, client_ip) if record else None
    count_view = view_key is not None and _take_view_key(view_key)
    statement = _detail_statement(
        viewer_state if signed_in else None, signed_in and record, count_view
    )
    rows = statement.rows(**values)
    counted = rows[0][VIDEO_DETAIL_SHAPE.width] if rows else 0
    if count_view and not counted:
        _give_back_view_key(view_key)
    if not rows:
        raise errors.NotFound(VIDEO_NOT_FOUND)
    data = VIDEO_DETAIL_SHAPE.read(rows[0])
    data["views"] += counted
    return data


# --- Watch history ------------------------------------------------------------------------------


def watch_history_clear(*, user):
    """Remove every entry of ``user``'s history (hidden ones too); returns how many."""
    deleted, _ = WatchHistory.objects.filter(user=user).delete()
    return deleted


def watch_history_remove(*, user, video_id):
    """Remove one entry; 404 when the video is not in the (visible) history.

    One message for "never watched" and "no longer visible", so the answer says nothing
    about a video the caller cannot see.
    """
    deleted, _ = (
        WatchHistory.objects.filter(user=user, video_id=video_id)
        .filter(visible_videos_q(user, prefix="video__"))
        .delete()
    )
    if not deleted:
        raise errors.NotFound(NOT_IN_WATCH_HISTORY)
