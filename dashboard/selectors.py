"""Reads of the caller's own channel. Read-only; everything here is about ``user``'s videos.

The numbers come from the denormalised counters (``Video.likes_count``, ``Video.comments_count``,
``User.subscribers_count``), which social.services keeps exact with ``F()`` updates in the same
transaction as the like, comment or subscription (and ``recount_counters`` rebuilds). Counting
like rows per request instead is what made the original's stats take over a second on a big
channel: it scanned the likes table. Here it is one aggregate over the channel's own video rows,
read from the covering index (owner) INCLUDE (views, likes_count, comments_count,
visibility) without visiting the table: see bench/dashboard_plan.py for the plan and timings.
"""

from django.contrib.auth import get_user_model
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce

from videos.models import Video
from videos.selectors import listed_videos_q, with_owner


def channel_stats(*, user):
    """``totalViews``, ``totalVideos``, ``publishedVideos``, ``totalLikes``, ``totalComments``
    (all of the channel's videos, unpublished included, as in the original) and
    ``totalSubscribers``. Two queries; the subscriber count is read here, not from ``user``: the
    authentication's copy of the row may come from accounts.user_cache, whose counters can lag.

    ``totalLikes`` counts likes of the channel's videos only: a like of a comment or a tweet
    never touches ``Video.likes_count``."""
    totals = Video.objects.filter(owner=user).aggregate(
        totalViews=Coalesce(Sum("views"), 0),
        # COUNT(*), not COUNT(id): the sums are read from the covering index video_owner_totals
        # alone, which does not hold the id.
        totalVideos=Count("*"),
        # Django refuses a filtered COUNT(*) (500 found by the schemathesis fuzz);
        # COUNT(visibility) counts the same rows (never null) and the index holds it. Public
        # videos only: an unlisted video is not published to the channel's audience.
        publishedVideos=Count("visibility", filter=listed_videos_q()),
        totalLikes=Coalesce(Sum("likes_count"), 0),
        totalComments=Coalesce(Sum("comments_count"), 0),
    )
    subscribers = (
        get_user_model().objects.filter(pk=user.pk).values_list("subscribers_count", flat=True)
    )
    return {**totals, "totalSubscribers": subscribers.first() or 0}


def channel_videos(*, user):
    """All of the channel's videos, newest first, unpublished included (the owner sees them)."""
    return with_owner(Video.objects.filter(owner=user)).order_by("-created_at", "-id")
