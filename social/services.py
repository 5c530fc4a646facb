"""Every write of comments, likes, subscriptions and tweets, and the only code that changes the
denormalised counters (``likes_count`` of videos, comments and tweets, ``Video.comments_count``,
``User.subscribers_count``, ``User.subscriptions_count``).

Counter rule: a counter changes with an ``F()`` update in the same transaction as the row it
counts, so a rollback undoes both. Toggles are race-safe by locking the target row first
(``SELECT ... FOR NO KEY UPDATE``): concurrent toggles of one target then run one after another,
each sees the previous one's result, and "delete if present, else create" can neither duplicate a
row nor fail on the unique constraint. ``NO KEY UPDATE`` (not ``UPDATE``) because inserting a like
or comment takes a ``KEY SHARE`` lock on the same row through its foreign key; the weaker lock
does not conflict with that, so comment creation is not serialised behind toggles.

Lock order, for everything that deletes: the rows being deleted and the rows whose counters
change are locked first, videos, then comments, then tweets (each in primary-key order), and
only then are rows deleted (a delete removes a comment's likes before the comment). A toggle
locks its target before it touches a like, so both orders agree and two writers never wait for
each other in a cycle.
"""

import uuid
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from rest_framework.exceptions import NotFound, PermissionDenied

from social.models import Comment, Like, Subscription, Tweet
from social.selectors import (
    CHANNEL_NOT_FOUND,
    comment_get_for_viewer,
    comments_with_counts,
    tweet_get,
    tweets_with_counts,
)
from videos.models import Video
from videos.selectors import VIDEO_NOT_FOUND, video_get_for_viewer
from viztube.api.exceptions import BadRequest

User = get_user_model()

CANNOT_SUBSCRIBE_TO_SELF = "You cannot subscribe to your own channel"
NOT_ALLOWED_TO_EDIT_COMMENT = "You are not allowed to edit this comment"
NOT_ALLOWED_TO_DELETE_COMMENT = "You are not allowed to delete this comment"
NOT_ALLOWED_TO_EDIT_TWEET = "You are not allowed to edit this tweet"
NOT_ALLOWED_TO_DELETE_TWEET = "You are not allowed to delete this tweet"


def _decrement(field, by=1):
    # Never below zero: a counter that drifted (rows deleted behind the services' back, e.g. raw
    # SQL or a shell) must not turn an unlike into a CHECK violation (a 500).
    # `recount_counters` repairs drift.
    return Greatest(F(field) - by, Value(0))


# --- Comments ---------------------------------------------------------------------------------


@transaction.atomic
def comment_create(*, video_id, author, content):
    """Add a comment to a video ``author`` can see, and count it on the video."""
    video = video_get_for_viewer(video_id, author)
    # Count first. The UPDATE locks the video row until we commit, so it cannot be deleted under
    # the new comment; no row updated means it was deleted since the check. (A try/except around
    # the INSERT would not catch that: Django's PostgreSQL foreign keys are DEFERRABLE INITIALLY
    # DEFERRED, so the violation would only surface at COMMIT, as a 500.)
    counted = Video.objects.filter(pk=video.pk).update(comments_count=F("comments_count") + 1)
    if not counted:
        raise NotFound(VIDEO_NOT_FOUND)
    comment = Comment.objects.create(video=video, author=author, content=content)
    # A new comment has no likes yet; this is what the list annotates.
    comment.is_liked = False
    return comment


@transaction.atomic
def comment_update(*, comment_id, user, content):
    """Change a comment's content: its author only (404 when not visible, else 403)."""
    queryset = comments_with_counts(user).select_for_update(no_key=True, of=("self",))
    comment = comment_get_for_viewer(comment_id, user, queryset=queryset)
    if comment.author_id != user.pk:
        raise PermissionDenied(NOT_ALLOWED_TO_EDIT_COMMENT)
    comment.content = content
    comment.save(update_fields=["content", "updated_at"])
    return comment


@transaction.atomic
def comment_delete(*, comment_id, user):
    """Delete a comment: its author, or the owner of the video it is on (moderation).

    404 when the comment (or its video) is not visible to ``user``, 403 for anyone else.
    Its likes go with it (cascade); the video's comment counter goes down in the same transaction.
    """
    queryset = Comment.objects.select_related("video").select_for_update(of=("self",))
    comment = comment_get_for_viewer(comment_id, user, queryset=queryset)
    if user.pk not in (comment.author_id, comment.video.owner_id):
        raise PermissionDenied(NOT_ALLOWED_TO_DELETE_COMMENT)
    video_id = comment.video_id
    comment.delete()
    Video.objects.filter(pk=video_id).update(comments_count=_decrement("comments_count"))


@transaction.atomic
def comments_delete(*, comments):
    """Delete many comments at once (admin moderation) and keep the counters exact.

    The affected videos are locked first, in a fixed order (no deadlock with another bulk
    delete), then their ``comments_count`` is recomputed from the rows that remain: exact even
    if a comment is being added concurrently (its counter update waits for our lock and lands on
    top of the recount, while its uncommitted row is not counted by it).
    """
    comment_ids = list(comments.values_list("pk", flat=True))
    video_ids = list(
        Comment.objects.filter(pk__in=comment_ids)
        .order_by()
        .values_list("video_id", flat=True)
        .distinct()
    )
    _lock_rows(Video, video_ids)
    _lock_rows(Comment, comment_ids)
    deleted, _ = Comment.objects.filter(pk__in=comment_ids).delete()
    counters_recount_videos(video_ids=video_ids)
    return deleted


def lock_comments_of_videos(video_ids):
    """Lock the comments of videos about to be deleted (with the videos already locked): the
    delete removes their likes first, and a like toggle holds a comment before its like."""
    _lock_rows(Comment, Comment.objects.filter(video_id__in=video_ids).values("pk"))


def _lock_rows(model, ids):
    """``FOR NO KEY UPDATE`` on these rows, in primary-key order (no deadlock between two
    callers locking overlapping sets)."""
    list(
        model.objects.filter(pk__in=ids)
        .order_by("pk")
        .select_for_update(no_key=True)
        .values_list("pk", flat=True)
    )


# --- Tweets -----------------------------------------------------------------------------------


def tweet_create(*, author, content):
    tweet = Tweet.objects.create(author=author, content=content)
    # A new tweet has no likes yet; this is what the list annotates.
    tweet.is_liked = False
    return tweet


@transaction.atomic
def tweets_delete(*, tweets):
    """Delete many tweets at once (admin moderation); their likes go with them. The tweets are
    locked first (see the lock order above). Returns how many rows were deleted."""
    tweet_ids = list(tweets.values_list("pk", flat=True))
    _lock_rows(Tweet, tweet_ids)
    deleted, _ = Tweet.objects.filter(pk__in=tweet_ids).delete()
    return deleted


@transaction.atomic
def tweet_update(*, tweet_id, user, content):
    """Change a tweet's content: its author only (404 when missing, else 403)."""
    queryset = tweets_with_counts(user).select_for_update(no_key=True, of=("self",))
    tweet = tweet_get(tweet_id, queryset=queryset)
    if tweet.author_id != user.pk:
        raise PermissionDenied(NOT_ALLOWED_TO_EDIT_TWEET)
    tweet.content = content
    tweet.save(update_fields=["content", "updated_at"])
    return tweet


@transaction.atomic
def tweet_delete(*, tweet_id, user):
    """Delete a tweet: its author only (404 when missing, else 403). Its likes go with it."""
    tweet = tweet_get(tweet_id, queryset=Tweet.objects.select_for_update())
    if tweet.author_id != user.pk:
        raise PermissionDenied(NOT_ALLOWED_TO_DELETE_TWEET)
    tweet.delete()


# --- Likes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LikeState:
    liked: bool
    likes_count: int


def _toggle_like(*, user, target):
    """Delete the caller's like of ``target`` if present, else create it; the caller holds the
    lock on the target row. Returns ``(liked, delta)``: the new state and the change in rows."""
    deleted, _ = Like.objects.filter(user=user, **target).delete()
    if deleted:
        return False, -1
    try:
        with transaction.atomic():
            Like.objects.create(user=user, **target)
    except IntegrityError:
        # Only reachable if a like was inserted without taking the target lock (a data fix by
        # hand): the like exists, which is the state the caller asked for; no row was added.
        return True, 0
    return True, 1


def _toggle_counted_like(*, target, user):
    """Toggle ``user``'s like of ``target`` (a video, comment or tweet read under its row lock,
    with at least ``likes_count``) and move its counter with it."""
    liked, delta = _toggle_like(user=user, target={target._meta.model_name: target})
    if delta:
        change = F("likes_count") + 1 if delta > 0 else _decrement("likes_count")
        type(target).objects.filter(pk=target.pk).update(likes_count=change)
    # The row was read under our lock, so its count plus our change is what it now holds (the
    # same floor at zero as _decrement): no read-back needed.
    return LikeState(liked=liked, likes_count=max(target.likes_count + delta, 0))


@transaction.atomic
def video_like_toggle(*, video_id, user):
    """Like or unlike a video ``user`` can see (404 otherwise); keeps ``likes_count`` exact."""
    # Only what the toggle reads: the row lock is the point, not the description or the files.
    locked = Video.objects.select_for_update(no_key=True).only("owner_id", "likes_count")
    video = video_get_for_viewer(video_id, user, queryset=locked)
    return _toggle_counted_like(target=video, user=user)


@transaction.atomic
def comment_like_toggle(*, comment_id, user):
    """Like or unlike a comment whose video ``user`` can see (404 ``Comment not found``)."""
    locked = Comment.objects.select_for_update(no_key=True, of=("self",)).only("likes_count")
    comment = comment_get_for_viewer(comment_id, user, queryset=locked)
    return _toggle_counted_like(target=comment, user=user)


@transaction.atomic
def tweet_like_toggle(*, tweet_id, user):
    """Like or unlike a tweet (404 ``Tweet not found``)."""
    locked = Tweet.objects.select_for_update(no_key=True).only("likes_count")
    tweet = tweet_get(tweet_id, queryset=locked)
    return _toggle_counted_like(target=tweet, user=user)


# --- Subscriptions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionState:
    subscribed: bool
    subscribers_count: int


@transaction.atomic
def subscription_toggle(*, subscriber, channel_id):
    """Subscribe to a channel, or unsubscribe when already subscribed.

    400 for one's own channel (checked first, as the original did), 404 ``Channel not found``.
    Both user rows are locked in primary-key order before anything else: the toggle updates a
    counter on each, and two users subscribing to each other at the same moment would otherwise
    lock them in opposite orders and deadlock.
    """
    channel_id = uuid.UUID(str(channel_id))
    if channel_id == subscriber.pk:
        raise BadRequest(CANNOT_SUBSCRIBE_TO_SELF)
    locked = list(
        User.objects.filter(pk__in=[subscriber.pk, channel_id])
        .order_by("pk")
        .select_for_update(no_key=True)
        .values_list("pk", flat=True)
    )
    if channel_id not in locked:
        raise NotFound(CHANNEL_NOT_FOUND)

    deleted, _ = Subscription.objects.filter(subscriber=subscriber, channel_id=channel_id).delete()
    subscribed = not deleted
    counted = True
    if subscribed:
        try:
            with transaction.atomic():
                Subscription.objects.create(subscriber=subscriber, channel_id=channel_id)
        except IntegrityError:
            # Only reachable if a row was inserted without taking the locks: it exists already.
            counted = False
    if counted:
        if subscribed:
            channel_change = F("subscribers_count") + 1
            subscriber_change = F("subscriptions_count") + 1
        else:
            channel_change = _decrement("subscribers_count")
            subscriber_change = _decrement("subscriptions_count")
        User.objects.filter(pk=channel_id).update(subscribers_count=channel_change)
        User.objects.filter(pk=subscriber.pk).update(subscriptions_count=subscriber_change)
    count = User.objects.filter(pk=channel_id).values_list("subscribers_count", flat=True).get()
    return SubscriptionState(subscribed=subscribed, subscribers_count=count)


# --- Deleting users ---------------------------------------------------------------------------


@transaction.atomic
def users_delete(*, users):
    """Delete users (staff moderation) and keep everyone else's counters exact.

    Deleting a user cascades to their likes, comments and subscriptions, which are counted on
    *other* people's videos, comments, tweets and channels. Those rows are locked first (fixed
    order), the users are deleted, then the survivors' counters are recomputed from the rows. The
    admin of ``accounts`` must route user deletion here (``delete_model`` / ``delete_queryset``).
    """
    # Locked first: FOR UPDATE conflicts with the key-share lock a new like, comment or
    # subscription of theirs takes on their row, so none can slip in after the rows below are
    # read and escape the recount.
    user_ids = list(
        User.objects.filter(pk__in=users.values("pk"))
        .order_by("pk")
        .select_for_update()
        .values_list("pk", flat=True)
    )
    # Their own videos, comments and tweets go too (with their likes and comments), so they are
    # locked as well: every row this delete removes or recounts, in the module's lock order.
    video_ids = (
        set(
            Like.objects.filter(user_id__in=user_ids, video__isnull=False).values_list(
                "video_id", flat=True
            )
        )
        | set(Comment.objects.filter(author_id__in=user_ids).values_list("video_id", flat=True))
        | set(Video.objects.filter(owner_id__in=user_ids).values_list("pk", flat=True))
    )
    related_user_ids = set(
        Subscription.objects.filter(subscriber_id__in=user_ids).values_list("channel_id", flat=True)
    ) | set(
        Subscription.objects.filter(channel_id__in=user_ids).values_list("subscriber_id", flat=True)
    )
    liked = Like.objects.filter(user_id__in=user_ids)
    comment_ids = set(
        liked.filter(comment__isnull=False).values_list("comment_id", flat=True)
    ) | set(
        Comment.objects.filter(
            Q(author_id__in=user_ids) | Q(video__owner_id__in=user_ids)
        ).values_list("pk", flat=True)
    )
    tweet_ids = set(liked.filter(tweet__isnull=False).values_list("tweet_id", flat=True)) | set(
        Tweet.objects.filter(author_id__in=user_ids).values_list("pk", flat=True)
    )
    _lock_rows(Video, video_ids)
    _lock_rows(Comment, comment_ids)
    _lock_rows(Tweet, tweet_ids)
    _lock_rows(User, related_user_ids)
    deleted, _ = User.objects.filter(pk__in=user_ids).delete()
    counters_recount_videos(video_ids=video_ids)
    _recount(Comment.objects.filter(pk__in=comment_ids), COMMENT_COUNTERS)
    _recount(Tweet.objects.filter(pk__in=tweet_ids), TWEET_COUNTERS)
    counters_recount_users(user_ids=related_user_ids - set(user_ids))
    return deleted


# --- Counter repair ---------------------------------------------------------------------------


def _row_count(model, fk, outer="pk", **conditions):
    rows = (
        model.objects.filter(**{fk: OuterRef(outer)}, **conditions)
        .order_by()
        .values(fk)
        .annotate(total=Count("*"))
        .values("total")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


VIDEO_COUNTERS = {
    "likes_count": lambda: _row_count(Like, "video"),
    "comments_count": lambda: _row_count(Comment, "video"),
}
COMMENT_COUNTERS = {"likes_count": lambda: _row_count(Like, "comment")}
TWEET_COUNTERS = {"likes_count": lambda: _row_count(Like, "tweet")}
USER_COUNTERS = {
    "subscribers_count": lambda: _row_count(Subscription, "channel"),
    "subscriptions_count": lambda: _row_count(Subscription, "subscriber"),
}


def _recount(queryset, counters):
    """One set-based ``UPDATE`` per counter, touching only the rows whose value is wrong.
    Returns ``{counter: rows changed}``."""
    changed = {}
    for field, real_value in counters.items():
        wrong = ~Q(**{field: real_value()})
        changed[field] = queryset.filter(wrong).update(**{field: real_value()})
    return changed


def counters_recount_videos(*, video_ids):
    """Recompute ``likes_count`` and ``comments_count`` of these videos from the rows.
    Call with the videos locked (see ``comments_delete``) when writes may run concurrently."""
    return _recount(Video.objects.filter(pk__in=video_ids), VIDEO_COUNTERS)


def counters_recount_users(*, user_ids):
    """Recompute ``subscribers_count`` and ``subscriptions_count`` of these users from the rows.
    Call with the users locked when writes may run concurrently."""
    return _recount(User.objects.filter(pk__in=user_ids), USER_COUNTERS)


# Every model with denormalised counters, and how to recount them (recount_counters walks these).
COUNTERS = {
    Video: VIDEO_COUNTERS,
    Comment: COMMENT_COUNTERS,
    Tweet: TWEET_COUNTERS,
    User: USER_COUNTERS,
}


@transaction.atomic
def counters_recount_batch(*, model, after_pk, batch_size):
    """Lock the next ``batch_size`` rows of ``model`` (a key of ``COUNTERS``) after ``after_pk``
    in primary-key order, and recount their counters. Locking first makes the recount exact
    while the site is live: a concurrent toggle either committed before (and is counted) or
    waits for the lock and applies its ``F()`` change on top of the recount.

    Returns ``(last_pk, rows_in_batch, {counter: rows changed})``; ``last_pk`` is None at the end.
    """
    queryset = model.objects.order_by("pk")
    if after_pk is not None:
        queryset = queryset.filter(pk__gt=after_pk)
    ids = list(queryset.select_for_update(no_key=True).values_list("pk", flat=True)[:batch_size])
    if not ids:
        return None, 0, {}
    return ids[-1], len(ids), _recount(model.objects.filter(pk__in=ids), COUNTERS[model])
