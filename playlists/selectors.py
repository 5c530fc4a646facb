"""Reads of playlists.

Who may read a playlist is ``visible_playlists_q``, the one place of that rule: every read here
and every write (playlists.services) goes through it, so a private playlist of someone else
answers exactly like a missing one (404 ``Playlist not found``).

The videos inside a playlist follow their own rule:
every count, thumbnail and list here goes through ``videos.selectors.visible_videos_q``, so an
entry whose video the viewer cannot see (someone else's private video) is invisible here too.
``totalVideos`` therefore counts the *visible* entries only: counting hidden ones would tell the
caller that a private video exists (and would disagree with the lists of its videos).
"""

from django.contrib.auth import get_user_model
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from playlists.models import Playlist, PlaylistVideo
from videos.selectors import visible_videos, visible_videos_q, with_owner
from viztube import errors
from viztube.api.pagination import paginate
from viztube.models import Visibility

PLAYLIST_NOT_FOUND = "Playlist not found"
USER_NOT_FOUND = "User not found"
# The detail embeds this many videos, as an array (as the original VizTube API embedded its
# playlist's videos); the whole list is paginated at GET /playlist/:playlistId/videos.
PLAYLIST_DETAIL_VIDEOS = 100


def visible_playlists_q(viewer, *, listed_for=None):
    """A ``Q`` selecting the playlists ``viewer`` may read: public and unlisted ones (an unlisted
    playlist is open to anyone who has its id), and all of the viewer's own.

    ``listed_for`` is the owner whose list is being read (``GET /playlist/user/:userId``): a list
    shows their public playlists only, and all of them to the owner. Knowing the owner, the
    rule is settled here rather than left to SQL as an ``OR``: the query of the others then says
    ``visibility = 'public'``, which the partial index ``playlist_owner_public`` serves."""
    is_viewer = viewer is not None and viewer.is_authenticated
    if listed_for is not None:
        if is_viewer and viewer.pk == listed_for:
            return Q()
        return Q(visibility=Visibility.PUBLIC)
    condition = ~Q(visibility=Visibility.PRIVATE)
    if is_viewer:
        condition |= Q(owner_id=viewer.pk)
    return condition


def visible_playlists(viewer):
    return Playlist.objects.filter(visible_playlists_q(viewer))


def _visible_entries(viewer):
    """Entries of the playlist in the outer query whose video ``viewer`` may see."""
    return PlaylistVideo.objects.filter(playlist=OuterRef("pk")).filter(
        visible_videos_q(viewer, prefix="video__")
    )


def _per_playlist(entries, aggregate):
    """A scalar subquery: ``aggregate`` over ``entries`` of one playlist, 0 when there are none.

    Subqueries rather than JOIN + GROUP BY: the page query stays one row per playlist, and
    ``count()`` for pagination can drop them (Django strips unused annotations)."""
    value = entries.order_by().values("playlist").annotate(value=aggregate).values("value")
    return Coalesce(Subquery(value, output_field=IntegerField()), 0)


def with_summary(queryset, viewer):
    """Annotate playlists with what their list shape needs, as ``viewer`` sees them:
    ``total_videos`` (visible entries) and ``thumbnail_name`` (storage name of the thumbnail of
    the most recently added visible video, or None)."""
    latest_thumbnail = (
        _visible_entries(viewer).order_by("-added_at", "-id").values("video__thumbnail")[:1]
    )
    return queryset.annotate(
        total_videos=_per_playlist(_visible_entries(viewer), Count("pk")),
        thumbnail_name=Subquery(latest_thumbnail),
    )


def playlist_list_for_user(*, user_id, viewer, page_request):
    """One page of ``user_id``'s playlists, newest first: their public ones, and all of them
    when ``viewer`` is that user; 404 ``User not found``.

    Deactivated users are not filtered out: their videos stay readable too (videos.selectors
    does not look at ``is_active``), and their playlists follow the same rule."""
    # The owner's pk as the database has it (a UUID; ``user_id`` is the path's text).
    owner_id = get_user_model().objects.filter(pk=user_id).values_list("pk", flat=True).first()
    if owner_id is None:
        raise errors.NotFound(USER_NOT_FOUND)
    playlists = (
        Playlist.objects.filter(owner_id=owner_id)
        .filter(visible_playlists_q(viewer, listed_for=owner_id))
        .order_by("-created_at", "-id")
    )
    return paginate(with_summary(playlists, viewer), page_request)


def playlist_get_summary(*, playlist_id, viewer):
    """One playlist in its list shape (as written back by the write endpoints), or 404."""
    try:
        return with_summary(visible_playlists(viewer), viewer).get(pk=playlist_id)
    except Playlist.DoesNotExist:
        raise errors.NotFound(PLAYLIST_NOT_FOUND) from None


def _videos_of(playlist_id, viewer):
    """The videos of the playlist that ``viewer`` may see, in the order they were added, each
    with ``added_at`` and its owner joined.

    One row per video: (playlist, video) is unique. The F() reuses the join of the filter, so
    ``added_at`` is this playlist's entry; the entry id breaks ties (UUIDv7 is time-ordered)."""
    return (
        with_owner(visible_videos(viewer))
        .filter(playlist_entries__playlist_id=playlist_id)
        .annotate(added_at=F("playlist_entries__added_at"))
        .order_by("added_at", "playlist_entries__id")
    )


def playlist_detail_get(*, playlist_id, viewer):
    """The playlist (with owner, ``total_videos``, ``total_views`` and ``thumbnail_name``) and, in
    ``first_videos``, its first ``PLAYLIST_DETAIL_VIDEOS`` visible videos in the order they were
    added, each with ``added_at``; 404 ``Playlist not found``. Two queries (one when the playlist
    shows no video).

    The whole list, paginated, is ``playlist_videos_list``."""
    playlists = with_summary(visible_playlists(viewer).select_related("owner"), viewer).annotate(
        total_views=_per_playlist(_visible_entries(viewer), Sum("video__views"))
    )
    try:
        playlist = playlists.get(pk=playlist_id)
    except Playlist.DoesNotExist:
        raise errors.NotFound(PLAYLIST_NOT_FOUND) from None
    playlist.first_videos = (
        list(_videos_of(playlist.pk, viewer)[:PLAYLIST_DETAIL_VIDEOS])
        if playlist.total_videos
        else []
    )
    return playlist


def playlist_videos_list(*, playlist_id, viewer, page_request):
    """One page of the playlist's visible videos, in the order they were added (each with
    ``added_at``), and their number; 404 ``Playlist not found`` as the detail.

    The number is counted with the playlist's existence check, by the same rule as its
    ``totalVideos``: one query for both, then one for the page (two on deep pages, none past
    the end)."""
    counts = list(
        visible_playlists(viewer)
        .filter(pk=playlist_id)
        .annotate(total_videos=_per_playlist(_visible_entries(viewer), Count("pk")))
        .values_list("total_videos", flat=True)
    )
    if not counts:
        raise errors.NotFound(PLAYLIST_NOT_FOUND)
    return paginate(_videos_of(playlist_id, viewer), page_request, count=counts[0])
