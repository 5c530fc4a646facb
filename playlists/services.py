"""Writes to playlists. Only the owner may change a playlist; staff have no special power here.

Missing, or someone else's private playlist → 404 ``Playlist not found`` (its existence stays
hidden, as on the reads); someone else's public or unlisted playlist → 403 (anyone may read it,
so saying it exists reveals nothing). Each write locks the playlist row first
(``SELECT ... FOR UPDATE``): the ownership check then holds until commit, concurrent edits of
one playlist take turns, and a concurrent delete of the playlist cannot slip between the check
and the write.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from playlists.models import Playlist, PlaylistVideo
from playlists.selectors import PLAYLIST_NOT_FOUND, visible_playlists
from videos.models import Video
from videos.selectors import video_get_for_viewer
from viztube import errors
from viztube.db import violated_unique_constraint
from viztube.models import Visibility

VIDEO_ALREADY_IN_PLAYLIST = "Video already in playlist"
VIDEO_NOT_IN_PLAYLIST = "Video not in playlist"
ENTRY_UNIQUE_CONSTRAINT = "playlist_video_unique"


def _playlist_for_write(*, playlist_id, user, verb):
    """The playlist, locked for the rest of the transaction, if ``user`` owns it."""
    try:
        playlist = visible_playlists(user).select_for_update(of=("self",)).get(pk=playlist_id)
    except Playlist.DoesNotExist:
        raise errors.NotFound(PLAYLIST_NOT_FOUND) from None
    if playlist.owner_id != user.pk:
        raise errors.NotAllowed(f"You are not authorized to {verb} this playlist")
    return playlist


def _touch(playlist):
    """Adding or removing a video changes the playlist: move its ``updated_at`` forward."""
    playlist.updated_at = timezone.now()
    Playlist.objects.filter(pk=playlist.pk).update(updated_at=playlist.updated_at)


def playlist_create(
    *, owner, name: str, description: str = "", visibility: str = Visibility.PUBLIC
) -> Playlist:
    return Playlist.objects.create(
        owner=owner, name=name, description=description, visibility=visibility
    )


@transaction.atomic
def playlist_update(
    *,
    playlist_id,
    user,
    name: str | None = None,
    description: str | None = None,
    visibility: str | None = None,
):
    """A partial update: ``None`` means "not given, keep it" (the input serializer never passes
    None for a given field). Nothing given → nothing written, ``updated_at`` unchanged."""
    playlist = _playlist_for_write(playlist_id=playlist_id, user=user, verb="update")
    changes = {"name": name, "description": description, "visibility": visibility}
    fields = [field for field, value in changes.items() if value is not None]
    if fields:
        for field in fields:
            setattr(playlist, field, changes[field])
        playlist.save(update_fields=[*fields, "updated_at"])
    return playlist


@transaction.atomic
def playlist_delete(*, playlist_id, user) -> None:
    """Delete the playlist; its entries go with it (ON DELETE CASCADE), the videos stay."""
    playlist = _playlist_for_write(playlist_id=playlist_id, user=user, verb="delete")
    playlist.delete()


@transaction.atomic
def playlist_video_add(*, playlist_id, video_id, user) -> Playlist:
    """Append a video the caller can see (404 ``Video not found`` otherwise); 409 when it is
    already in the playlist.

    The video row is locked (FOR NO KEY UPDATE, which a DELETE of the video waits for): Django's
    foreign keys are checked at COMMIT, so a video deleted between our check and our commit would
    otherwise fail the commit with an IntegrityError, a 500.
    The duplicate check is the unique constraint itself, caught inside a savepoint: of two
    simultaneous adds (a double click) one inserts and the other gets 409, never a 500.
    """
    playlist = _playlist_for_write(playlist_id=playlist_id, user=user, verb="edit")
    video = video_get_for_viewer(
        video_id, user, queryset=Video.objects.select_for_update(no_key=True, of=("self",))
    )
    try:
        with transaction.atomic():
            PlaylistVideo.objects.create(playlist=playlist, video=video)
    except IntegrityError as exc:
        if violated_unique_constraint(exc, PlaylistVideo) != ENTRY_UNIQUE_CONSTRAINT:
            raise
        raise errors.Conflict(VIDEO_ALREADY_IN_PLAYLIST) from None
    _touch(playlist)
    return playlist


@transaction.atomic
def playlist_video_remove(*, playlist_id, video_id, user) -> None:
    """Remove a video from the playlist; 404 ``Video not in playlist`` when it is not there.

    The video need not be visible to the caller any more: an owner must be able to take out a
    video that was unpublished after it was added (it no longer shows in their playlist). This
    reveals nothing: only the playlist's owner gets this far, and they added the entry."""
    playlist = _playlist_for_write(playlist_id=playlist_id, user=user, verb="edit")
    removed, _ = PlaylistVideo.objects.filter(playlist=playlist, video_id=video_id).delete()
    if not removed:
        raise errors.NotFound(VIDEO_NOT_IN_PLAYLIST)
    _touch(playlist)
