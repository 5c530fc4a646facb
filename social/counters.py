"""Every denormalised counter, in one place: how it moves with a write, and how it is recounted.

The counters: ``likes_count`` of videos, comments and tweets; ``Video.comments_count`` (every
comment, replies included); ``Comment.replies_count`` (the replies in a thread, on its top-level
comment); ``User.subscribers_count`` and ``User.subscriptions_count``; and the published-video catalog
(``VideoCatalog.published_videos``, which database triggers keep; only its recount is here).

Rules:
- a counter moves with an ``F()`` update in the same transaction as the row it counts, so a
  rollback undoes both, and never below zero (a counter that drifted, through rows deleted
  behind the services' back, must not turn an unlike into a CHECK violation);
- a recount is set based (one ``UPDATE`` per counter, touching only the rows whose value is
  wrong) and exact while the site is live when the rows are locked first: a concurrent write
  either committed before (and is counted) or waits for the lock and lands on top.

Used by the services that write (toggles, comments), by the cross-app deletes, by
``recount_counters`` and by ``seed_demo``.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import BigIntegerField, Count, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Greatest

from social.models import Comment, Like, Subscription, Tweet
from videos.models import Video, VideoCatalog
from videos.selectors import listed_videos_q
from viztube.api import page_cache
from viztube.compiled import Statement

User = get_user_model()


# --- Moving with a write ------------------------------------------------------------------------


def _changed(field, delta):
    if delta > 0:
        return F(field) + delta
    return Greatest(F(field) + delta, Value(0))


def likes_changed(*, target, delta):
    """``target`` (a video, comment or tweet) gained (``delta`` > 0) or lost likes."""
    if delta:
        type(target).objects.filter(pk=target.pk).update(likes_count=_changed("likes_count", delta))


def likes_changed_statement(*, model, target, delta):
    """The ``UPDATE`` that ``likes_changed`` runs, as a ``viztube.compiled.Statement`` for a
    statement compiled once (``social.services``' like toggle): ``target`` (the row's primary
    key) and ``delta`` are expressions whose values only the statement knows. Always floored at
    zero, whatever the sign of ``delta``."""
    return Statement.update(
        model.objects.filter(pk=target),
        likes_count=Greatest(F("likes_count") + delta, Value(0)),
    )


def video_comments_changed(*, video_id, delta):
    """Returns whether the video row was there to count on (it may have been deleted since it
    was read)."""
    return bool(
        Video.objects.filter(pk=video_id).update(comments_count=_changed("comments_count", delta))
    )


def thread_replies_changed(*, thread_id, delta):
    """The thread whose top-level comment is ``thread_id`` gained or lost replies. Returns
    whether that comment was there to count on."""
    return bool(
        Comment.objects.filter(pk=thread_id).update(replies_count=_changed("replies_count", delta))
    )


def subscriptions_changed(*, subscriber_id, channel_id, delta):
    """A subscription of ``subscriber_id`` to ``channel_id`` was added (1) or removed (-1)."""
    User.objects.filter(pk=channel_id).update(
        subscribers_count=_changed("subscribers_count", delta)
    )
    User.objects.filter(pk=subscriber_id).update(
        subscriptions_count=_changed("subscriptions_count", delta)
    )


# --- Recounting ---------------------------------------------------------------------------------


def row_count(model, fk, outer="pk", **conditions):
    """How many rows of ``model`` point at the outer row through ``fk`` (and match
    ``conditions``): a subquery expression, 0 when there are none."""
    rows = (
        model.objects.filter(**{fk: OuterRef(outer)}, **conditions)
        .order_by()
        .values(fk)
        .annotate(total=Count("*"))
        .values("total")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


VIDEO_COUNTERS = {
    "likes_count": lambda: row_count(Like, "video"),
    "comments_count": lambda: row_count(Comment, "video"),
}
COMMENT_COUNTERS = {
    "likes_count": lambda: row_count(Like, "comment"),
    "replies_count": lambda: row_count(Comment, "parent"),
}
TWEET_COUNTERS = {"likes_count": lambda: row_count(Like, "tweet")}
USER_COUNTERS = {
    "subscribers_count": lambda: row_count(Subscription, "channel"),
    "subscriptions_count": lambda: row_count(Subscription, "subscriber"),
}
# Every model with denormalised counters, and how to recount them.
COUNTERS = {
    Video: VIDEO_COUNTERS,
    Comment: COMMENT_COUNTERS,
    Tweet: TWEET_COUNTERS,
    User: USER_COUNTERS,
}


def recount(queryset):
    """Recount the counters of the rows of ``queryset`` (a model of ``COUNTERS``).
    Returns ``{counter: rows changed}``. Call with the rows locked when writes may run
    concurrently."""
    changed = {}
    for field, real_value in COUNTERS[queryset.model].items():
        wrong = ~Q(**{field: real_value()})
        changed[field] = queryset.filter(wrong).update(**{field: real_value()})
    return changed


def recount_videos(*, video_ids):
    return recount(Video.objects.filter(pk__in=video_ids))


def recount_users(*, user_ids):
    return recount(User.objects.filter(pk__in=user_ids))


@transaction.atomic
def recount_batch(*, model, after_pk, batch_size):
    """Lock the next ``batch_size`` rows of ``model`` (a key of ``COUNTERS``) after ``after_pk``
    in primary-key order, and recount their counters.

    Returns ``(last_pk, rows_in_batch, {counter: rows changed})``; ``last_pk`` is None at the end.
    """
    queryset = model.objects.order_by("pk")
    if after_pk is not None:
        queryset = queryset.filter(pk__gt=after_pk)
    ids = list(queryset.select_for_update(no_key=True).values_list("pk", flat=True)[:batch_size])
    if not ids:
        return None, 0, {}
    return ids[-1], len(ids), recount(model.objects.filter(pk__in=ids))


def recount_catalog():
    """Recompute the public-video count that triggers keep (``VideoCatalog``) in one UPDATE;
    returns 1 if it had drifted (someone wrote behind the triggers), else 0."""
    published = Subquery(
        Video.objects.filter(listed_videos_q())
        .order_by()
        .values("visibility")
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
        page_cache.bump()  # cached pages carry the old total
    return repaired
