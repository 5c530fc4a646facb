"""Writes on videos and watch history.

Media rules (api.md §3, issue 3): every file is validated before anything is stored; files are
stored before the database transaction opens (a remote upload never holds a transaction open);
whatever was stored is deleted again if a later step fails; files that a committed change made
useless (a deleted video, a replaced thumbnail) are deleted only after the commit, and a failed
delete is logged, never raised (the database change stands).
"""

import functools
import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import BigIntegerField, Count, F, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from rest_framework.exceptions import NotFound, PermissionDenied

from social.services import lock_comments_of_videos
from videos import list_cache
from videos.models import Video, VideoCatalog, WatchHistory
from videos.selectors import video_detail_for_viewer, video_get_for_viewer, visible_videos_q
from viztube.api.exceptions import DependencyFailed, UnprocessableEntity
from viztube.media_errors import MediaStorageError
from viztube.storage import video_storage
from viztube.uploads import clean_image, probe_video

logger = logging.getLogger(__name__)

NOT_AUTHORIZED_TO_UPDATE = "You are not authorized to update this video"
NOT_AUTHORIZED_TO_DELETE = "You are not authorized to delete this video"
# The original's message for a toggle by someone else (original-api.md §2.3).
NOT_AUTHORIZED_TO_TOGGLE = "Unauthorized"
NOT_IN_WATCH_HISTORY = "Video not found in watch history"
VIEW_KEY_PREFIX = "video-view"

# What a storage raises when it could not store a file: our Cloudinary backends wrap every SDK
# or network failure in MediaStorageError; the local file system raises OSError (disk full,
# permissions). The one place that knows it.
STORAGE_ERRORS = (MediaStorageError, OSError)


# --- Media helpers ------------------------------------------------------------------------------


def _store(storage, name, content):
    """Save ``content`` under ``name`` and return the name the storage chose; 502 on failure.

    ``content`` is passed through as a file object: the local storage moves Django's spooled
    temp file into place, the Cloudinary video storage streams it in chunks, so a video is
    never read into memory whole.
    """
    try:
        return storage.save(name, content)
    except STORAGE_ERRORS as exc:
        logger.warning("Storing %s failed: %s", name, exc)
        raise DependencyFailed() from exc


def _delete_quietly(storage, name):
    """Delete a stored file; a failure is logged (an orphan to clean up), never raised."""
    if not name:
        return
    try:
        deleted = storage.delete(name)
    except Exception:
        logger.exception("Deleting media %s failed; it is now an orphan", name)
        return
    if deleted is False:  # Cloudinary storages answer False instead of raising
        logger.warning("Deleting media %s failed; it is now an orphan", name)


def _delete_after_commit(*files):
    """Delete ``(storage, name)`` pairs once the current transaction has committed."""

    def delete():
        for storage, name in files:
            _delete_quietly(storage, name)

    transaction.on_commit(delete)


def _media_name(folder, extension):
    return f"{folder}/{uuid.uuid4().hex}.{extension}"


def _thumbnail_extension(image):
    return image.name.rsplit(".", 1)[-1]


def _validate_media(*, video_file, thumbnail):
    """Probe the video and re-encode the thumbnail, reporting the field errors of both at once.

    413 (a file over its cap) wins over 422 and is raised at once.
    """
    errors, info, image = {}, None, None
    try:
        info = probe_video(video_file, field="videoFile")
    except UnprocessableEntity as exc:
        errors.update(exc.detail)
    try:
        image = clean_image(thumbnail, field="thumbnail")
    except UnprocessableEntity as exc:
        errors.update(exc.detail)
    if errors:
        raise UnprocessableEntity(errors)
    return info, image


# --- Videos -------------------------------------------------------------------------------------


def video_get_for_owner(video_id, user, *, forbidden_message, queryset=None):
    """The video if ``user`` owns it: 404 when missing or invisible, 403 when visible but not
    theirs (another user's unpublished video stays a 404: no existence oracle)."""
    video = video_get_for_viewer(video_id, user, queryset=queryset)
    if video.owner_id != user.pk:
        raise PermissionDenied(forbidden_message)
    return video


def _locked(video_id, user, forbidden_message):
    """Re-read and lock the row inside a transaction (the owner row is joined, not locked)."""
    queryset = Video.objects.select_for_update(of=("self",)).select_related("owner")
    return video_get_for_owner(
        video_id, user, forbidden_message=forbidden_message, queryset=queryset
    )


def video_publish(*, owner, title, description, video_file, thumbnail):
    """Validate both files, store them, then insert the video row.

    Nothing is stored unless both files pass (413 / 422). If storing the thumbnail or the
    insert fails, the files already stored are deleted again before the error goes up.
    Storage failures are a 502.
    """
    info, image = _validate_media(video_file=video_file, thumbnail=thumbnail)
    stored = []
    try:
        video_name = _store(video_storage, _media_name("videos", info.extension), video_file)
        stored.append((video_storage, video_name))
        thumbnail_name = _store(
            default_storage, _media_name("thumbnails", _thumbnail_extension(image)), image
        )
        stored.append((default_storage, thumbnail_name))
        with transaction.atomic():
            video = Video.objects.create(
                owner=owner,
                title=title,
                description=description,
                video_file=video_name,
                thumbnail=thumbnail_name,
                duration=info.duration,
            )
    except BaseException:
        for storage, name in stored:
            _delete_quietly(storage, name)
        raise
    return video


def video_update(*, video_id, actor, fields):
    """Apply a partial update (``title``, ``description``, ``thumbnail``) by the owner.

    A new thumbnail is validated and stored before the transaction, then replaces the old one,
    which is deleted after the commit; if the update fails, the new file is deleted instead.
    Only changed columns are written (the search trigger fires on title/description only).
    """
    video_get_for_owner(video_id, actor, forbidden_message=NOT_AUTHORIZED_TO_UPDATE)
    new_thumbnail = None
    if fields.get("thumbnail") is not None:
        image = clean_image(fields["thumbnail"], field="thumbnail")
        new_thumbnail = _store(
            default_storage, _media_name("thumbnails", _thumbnail_extension(image)), image
        )
    try:
        with transaction.atomic():
            video = _locked(video_id, actor, NOT_AUTHORIZED_TO_UPDATE)
            changed = [
                name
                for name in ("title", "description")
                if name in fields and fields[name] != getattr(video, name)
            ]
            for name in changed:
                setattr(video, name, fields[name])
            if new_thumbnail:
                old_thumbnail = video.thumbnail.name
                video.thumbnail = new_thumbnail
                changed.append("thumbnail")
                _delete_after_commit((default_storage, old_thumbnail))
            if changed:
                video.save(update_fields=[*changed, "updated_at"])
    except BaseException:
        if new_thumbnail:
            _delete_quietly(default_storage, new_thumbnail)
        raise
    return video


def video_delete(*, video_id, actor):
    """Delete the owner's video (comments, likes, playlist entries and history cascade), then
    its two files once the deletion has committed."""
    with transaction.atomic():
        video = _locked(video_id, actor, NOT_AUTHORIZED_TO_DELETE)
        lock_comments_of_videos([video.pk])
        _delete_after_commit(
            (video_storage, video.video_file.name), (default_storage, video.thumbnail.name)
        )
        video.delete()
        list_cache.bump()


@transaction.atomic
def video_delete_many(*, videos):
    """Delete a queryset of videos (admin moderation) and their files after the commit."""
    # Re-selected by primary key: the admin's queryset may carry joins or ordering that
    # FOR UPDATE does not accept.
    ids = list(videos.values_list("pk", flat=True))
    rows = list(
        Video.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "video_file", "thumbnail")
    )
    files = []
    for _, video_name, thumbnail_name in rows:
        files += [(video_storage, video_name), (default_storage, thumbnail_name)]
    locked_ids = [pk for pk, _, _ in rows]
    lock_comments_of_videos(locked_ids)
    Video.objects.filter(pk__in=locked_ids).delete()
    _delete_after_commit(*files)
    if rows:
        list_cache.bump()
    return len(rows)


def video_toggle_publish(*, video_id, actor):
    """Flip ``is_published`` (owner only), under a row lock so two toggles flip twice."""
    with transaction.atomic():
        video = _locked(video_id, actor, NOT_AUTHORIZED_TO_TOGGLE)
        video.is_published = not video.is_published
        video.save(update_fields=["is_published", "updated_at"])
    return video


def video_set_published(*, videos, published):
    """Publish or unpublish a queryset of videos (admin action); returns how many changed."""
    changed = videos.exclude(is_published=published).update(
        is_published=published, updated_at=timezone.now()
    )
    list_cache.bump()
    return changed


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


def _first_view_in_window(video, viewer, client_ip):
    """True once per (video, viewer) per ``VIEW_DEDUP_MINUTES``: ``cache.add`` is atomic, so
    of simultaneous requests by one viewer exactly one wins."""
    key = f"{VIEW_KEY_PREFIX}:{video.pk}:{_viewer_key(viewer, client_ip)}"
    try:
        return cache.add(key, 1, timeout=settings.VIEW_DEDUP_MINUTES * 60)
    except Exception:
        # A cache outage must not break watching; the view is simply not counted.
        logger.exception("View de-duplication cache unavailable; view not counted")
        return False


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
    if not is_owner and _first_view_in_window(video, viewer, client_ip):
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
    entry = WatchHistory(user=viewer, video=video, watched_at=timezone.now())
    sql, fields = _watch_upsert()
    params = [field.get_db_prep_save(field.pre_save(entry, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@functools.cache
def _watch_upsert():
    """``(statement, fields)`` of ``_record_watch``, from the model's own table, fields and
    columns (the values are parameters); PostgreSQL and SQLite both speak it. Every column gets
    a value from Python: a field the database computes (generated, or with only a
    ``db_default``) would need to be left out here, as ``bulk_create`` does."""
    meta, quote = WatchHistory._meta, connection.ops.quote_name
    fields = meta.concrete_fields
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    unique_columns = ", ".join(quote(meta.get_field(name).column) for name in ("user", "video"))
    watched_at = quote(meta.get_field("watched_at").column)
    statement = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders}) "  # noqa: S608
        f"ON CONFLICT ({unique_columns}) DO UPDATE SET {watched_at} = EXCLUDED.{watched_at}"
    )
    return statement, fields


def video_watch(*, video_id, viewer, client_ip):
    """``GET /videos/:id``: the detail (404 when missing or invisible), with the view counted."""
    video = video_detail_for_viewer(video_id=video_id, viewer=viewer)
    video_record_view(video=video, viewer=viewer, client_ip=client_ip)
    return video


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
        raise NotFound(NOT_IN_WATCH_HISTORY)


# --- Catalog ------------------------------------------------------------------------------------


def video_catalog_recount():
    """Recompute the published-video count that triggers keep (``VideoCatalog``) in one UPDATE;
    returns 1 if it had drifted (someone wrote behind the triggers), else 0."""
    published = Subquery(
        Video.objects.filter(is_published=True)
        .order_by()
        .values("is_published")
        .annotate(total=Count("*"))
        .values("total")[:1]
    )
    current = Coalesce(published, Value(0), output_field=BigIntegerField())
    # The row comes from a migration; a flushed database has lost it.
    VideoCatalog.objects.get_or_create(pk=1, defaults={"published_videos": -1})
    repaired = (
        VideoCatalog.objects.filter(pk=1)
        .exclude(published_videos=current)
        .update(published_videos=current)
    )
    if repaired:
        list_cache.bump()  # cached pages carry the old total
    return repaired
