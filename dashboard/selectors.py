"""Reads of the caller's own channel. Read-only; everything here is about ``user``'s videos.

The numbers come from the denormalised counters (``Video.likes_count``, ``Video.comments_count``,
``User.subscribers_count``), which social.services keeps exact with ``F()`` updates in the same
transaction as the like, comment or subscription (and ``recount_counters`` rebuilds). Counting
like rows per request instead is what made the original's stats take over a second on a big
channel: it scanned the likes table. Here it is one aggregate over the channel's own video rows,
read from the covering index (owner) INCLUDE (views, likes_count, comments_count,
visibility, status) without visiting the table: see bench/dashboard_plan.py for the plan and timings.
"""

from django.contrib.auth import get_user_model
from django.db.models import BigIntegerField, Count, Subquery, Sum, UUIDField, Value
from django.db.models.functions import Cast, Coalesce

from videos.models import Video
from videos.selectors import listed_videos_q, with_owner
from viztube.compiled import Converted, Parameter, Shape, compiled, lean


def _total(field):
    # SUM of an integer column is a numeric in PostgreSQL (a Decimal): cast to what the API shows.
    return Cast(Coalesce(Sum(field), 0), BigIntegerField())


def _stats_shape(owner_id):
    """The stats in the response's key order (``ChannelStatsSerializer``'s), over the video rows
    of the channel ``owner_id`` (an id, or a ``Parameter`` for it). The subscriber count is
    read from the channel's row in the same statement, not from the caller's ``user``: the
    authentication's copy may come from accounts.user_cache, whose counters can lag."""
    subscribers = get_user_model().objects.filter(pk=owner_id).order_by()
    return Shape(
        totalViews=_total("views"),
        # A COALESCE in SQL would be grouped on; 0 when the caller's row is gone meanwhile.
        totalSubscribers=Converted(
            Subquery(subscribers.values("subscribers_count")), lambda count: count or 0
        ),
        # COUNT(*), not COUNT(id): the sums are read from the covering index video_owner_sums
        # alone, which does not hold the id.
        totalVideos=Count("*"),
        # Django refuses a filtered COUNT(*) (500 found by the schemathesis fuzz); COUNT(visibility)
        # counts the same rows (never null) and the index holds it. Listed videos only (public and
        # ready): an unlisted video is not published to the channel's audience, nor is one that
        # is still processing or failed.
        publishedVideos=Count("visibility", filter=listed_videos_q()),
        totalLikes=_total("likes_count"),
        totalComments=_total("comments_count"),
    )


def _stats(shape, owner_id):
    """One aggregate over the channel's video rows. "Grouped" by a constant, which is not
    grouped on: no GROUP BY, so a channel without videos still gets its row, of zeros."""
    return shape.select(Video.objects.filter(owner_id=owner_id).order_by().values(channel=Value(1)))


_OWNER = Parameter("owner", UUIDField())
_STATS = _stats_shape(_OWNER)


@compiled
def _stats_statement():
    return _stats(_STATS, _OWNER)


def channel_stats(*, user):
    """``totalViews``, ``totalVideos``, ``publishedVideos``, ``totalLikes``, ``totalComments``
    (all of the channel's videos, unpublished, processing and failed included, as the
    channel's list shows them to its owner) and
    ``totalSubscribers``: the response's dict, from one statement compiled once per process on
    PostgreSQL (``viztube.compiled``), the same queryset through the ORM elsewhere.

    ``totalLikes`` counts likes of the channel's videos only: a like of a comment or a tweet
    never touches ``Video.likes_count``."""
    if lean():
        [row] = _stats_statement().rows(owner=user.pk)
        return _STATS.read(row)
    shape = _stats_shape(user.pk)
    return shape.read(_stats(shape, user.pk).get())


def channel_videos(*, user):
    """All of the channel's videos, newest first, unpublished included (the owner sees them)."""
    return with_owner(Video.objects.filter(owner=user)).order_by("-created_at", "-id")
