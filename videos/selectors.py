"""Reads of videos. Who sees a video is decided here and only here, in two rules:

- *listed* (``listed_videos_q``): public videos that are ready, for everyone, owner included.
  The catalog (``GET /videos``, search, a channel's list), the subscription feed and every count
  shown to others.
- *reachable* (``visible_videos_q``): what a caller may open by id or meet inside a playlist,
  their liked videos or their history: ready public and unlisted videos, a ready scheduled video
  from its ``publish_at`` on (before the periodic job has flipped it), and the caller's own
  videos always, whatever their status.

A video that is still processing, or whose processing failed, is its owner's alone until it is
ready: neither rule shows it to anyone else.

Hidden and missing are the same 404 (never reveal that a private video exists)."""

import re
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import F, Q, Value
from django.db.models.fields import BooleanField
from django.db.models.functions import Now

from accounts.selectors import person_defer
from videos.models import Video, VideoCatalog, VideoStatus
from viztube import errors
from viztube.models import Visibility

VIDEO_NOT_FOUND = "Video not found"
QUERY_MAX_LENGTH = 200
# Public sort keys -> model fields. Anything else is a 400.
SORT_FIELDS = {
    "createdAt": "created_at",
    "views": "views",
    "duration": "duration",
    "title": "title",
}
_WORD = re.compile(r"\w+")


def listed_videos_q(prefix=""):
    """A ``Q`` selecting the videos listed to everyone: the public ones that are ready (the
    predicate of the lists' partial indexes, ``videos.models.LISTED``). ``prefix`` reaches them
    through a relation (``prefix="video__"``)."""
    return Q(**{f"{prefix}visibility": Visibility.PUBLIC, f"{prefix}status": VideoStatus.READY})


def visible_videos_q(viewer, prefix=""):
    """A ``Q`` selecting the videos ``viewer`` may reach (see the module docstring); ``prefix``
    reaches them through a relation (``prefix="video__"`` on likes, playlist entries, watch
    history)."""
    signed_in = viewer is not None and viewer.is_authenticated
    return reachable_videos_q(viewer.pk if signed_in else None, prefix)


def reachable_videos_q(viewer_id, prefix=""):
    """``visible_videos_q`` by the caller's id: ``None`` for an anonymous caller, else the id
    or an expression standing for it (a ``viztube.compiled.Parameter`` in a statement compiled
    once for every caller)."""
    shown = Q(**{f"{prefix}visibility__in": (Visibility.PUBLIC, Visibility.UNLISTED)}) | Q(
        **{f"{prefix}publish_at__lte": Now()}
    )
    condition = Q(**{f"{prefix}status": VideoStatus.READY}) & shown
    if viewer_id is not None:
        condition |= Q(**{f"{prefix}owner_id": viewer_id})
    return condition


def visible_videos(viewer):
    return Video.objects.filter(visible_videos_q(viewer))


def with_owner(queryset):
    """Videos with their owner joined, as every response shows them, minus the search vector
    (a tsvector of title and description per row, read and thrown away otherwise) and the
    owner's columns that no video shape shows."""
    return queryset.select_related("owner").defer("search_vector", *person_defer("owner"))


def video_get_for_viewer(video_id, viewer, queryset=None):
    """The video ``video_id`` if ``viewer`` may see it, else 404 ``Video not found``."""
    queryset = (queryset if queryset is not None else Video.objects).filter(
        visible_videos_q(viewer)
    )
    try:
        return queryset.get(pk=video_id)
    except (Video.DoesNotExist, ValueError):
        raise errors.NotFound(VIDEO_NOT_FOUND) from None


# --- Listing and search -------------------------------------------------------------------------


@dataclass(frozen=True)
class VideoListFilters:
    """What ``GET /videos`` lists (pagination aside).

    ``sort_by`` orders by that column (``created_at`` when None), descending unless
    ``descending`` is false; with a ``query`` and no ``sort_by`` the order is relevance, best
    first, and ``descending`` is ignored."""

    query: str = ""
    owner_id: uuid.UUID | None = None
    sort_by: str | None = None  # a model field name from SORT_FIELDS, or None
    descending: bool = True


def prefix_tsquery(text):
    """A safe ``to_tsquery`` text: the words of ``text`` joined by ``&``, the last one a prefix.

    Only ``\\w+`` runs survive, so no tsquery operator or quote from the user ever reaches
    PostgreSQL; "" when ``text`` has no word at all.
    """
    words = _WORD.findall(text.lower())
    if not words:
        return ""
    return " & ".join([*words[:-1], f"{words[-1]}:*"])


def _search(queryset, text):
    """Filter ``queryset`` to videos matching ``text`` and annotate ``rank`` (higher is better).

    The one place that knows the database: PostgreSQL full-text search over the trigger-kept
    ``search_vector`` (title weighted A above description B, GIN index) with a prefix match on
    the last word; on SQLite (local runs) a case-insensitive substring match on title or
    description, every match ranked equal.
    """
    if not settings.IS_POSTGRES:
        matches = Q(title__icontains=text) | Q(description__icontains=text)
        return queryset.filter(matches).annotate(rank=Value(1.0))
    tsquery = prefix_tsquery(text)
    if not tsquery:
        # Only punctuation: nothing can match a query with no word in it.
        return queryset.annotate(rank=Value(0.0)).none()
    search = SearchQuery(tsquery, search_type="raw", config="english")
    return queryset.filter(search_vector=search).annotate(
        rank=SearchRank(F("search_vector"), search)
    )


def video_list_published(*, filters):
    """Listed videos (public and ready) matching ``filters``, in their list order, owners joined.

    Listed only, for the owner too (as the original listed published videos only): the owner
    sees the others elsewhere (the detail route, the dashboard). Ties are broken by id so pages
    never overlap.
    """
    queryset = with_owner(Video.objects.filter(listed_videos_q()))
    if filters.owner_id is not None:
        queryset = queryset.filter(owner_id=filters.owner_id)
    if filters.query:
        queryset = _search(queryset, filters.query)
        if filters.sort_by is None:
            return queryset.order_by("-rank", "-created_at", "-id")
    direction = "-" if filters.descending else ""
    sort_by = filters.sort_by or "created_at"
    return queryset.order_by(f"{direction}{sort_by}", f"{direction}id")


def video_list_total(*, filters, queryset):
    """``totalDocs`` of the list: the trigger-kept catalog row when nothing filters the list
    (counting every published row costs tens of milliseconds), else a COUNT of ``queryset``.
    Without the catalog row (a database emptied by ``flush``) it counts, until
    ``recount_counters`` puts the row back."""
    if settings.IS_POSTGRES and filters.owner_id is None and not filters.query:
        total = VideoCatalog.objects.filter(pk=1).values_list("published_videos", flat=True)
        total = total.first()
        if total is not None:
            return total
    return queryset.count()


# --- Detail -------------------------------------------------------------------------------------


def video_detail_for_viewer(*, video_id, viewer, viewer_state=None):
    """The video with what its detail shows, in one query, or 404 for missing/invisible.

    ``viewer_state`` holds the caller's own flags as expressions, ``viewer_liked`` and
    ``viewer_subscribed``: likes and subscriptions belong to a higher layer, which passes them
    in (``social.selectors.video_viewer_state``); without them both are false. The latter is
    copied onto ``owner`` as ``is_subscribed`` (false for the owner looking at their own
    channel), where the detail serializer reads it.
    """
    if viewer_state is None:
        viewer_state = {
            "viewer_liked": Value(False, output_field=BooleanField()),
            "viewer_subscribed": Value(False, output_field=BooleanField()),
        }
    queryset = with_owner(Video.objects.all()).annotate(**viewer_state)
    video = video_get_for_viewer(video_id, viewer, queryset=queryset)
    video.owner.is_subscribed = video.viewer_subscribed and video.owner_id != viewer.pk
    return video


# --- Watch history ------------------------------------------------------------------------------


def watch_history_for_user(*, user):
    """The videos ``user`` watched, most recent first, each annotated with ``watched_at``.

    Videos the user can no longer reach (made private by their owner since) are left out; their
    rows stay, so they reappear if the video is shown again.
    """
    return (
        with_owner(visible_videos(user))
        .filter(watch_entries__user=user)
        .annotate(watched_at=F("watch_entries__watched_at"))
        .order_by("-watched_at", "-id")
    )
