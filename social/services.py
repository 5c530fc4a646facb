"""Every write of comments, likes, subscriptions and tweets. Counters move through
``social.counters`` in the same transaction as the rows they count.

Toggles are race-safe by locking the target row first (``SELECT ... FOR NO KEY UPDATE``):
concurrent toggles of one target then run one after another, each sees the previous one's
result, and "delete if present, else create" can neither duplicate a row nor fail on the unique
constraint. ``NO KEY UPDATE`` (not ``UPDATE``) because inserting a like or comment takes a
``KEY SHARE`` lock on the same row through its foreign key; the weaker lock does not conflict
with that, so comment creation is not serialised behind toggles. A toggle locks its target
before it touches a like, the order that the deletes of ``ops.deletion`` follow too.
"""

import uuid
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from social import counters
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
from viztube import errors

User = get_user_model()

CANNOT_SUBSCRIBE_TO_SELF = "You cannot subscribe to your own channel"
NOT_ALLOWED_TO_EDIT_COMMENT = "You are not allowed to edit this comment"
NOT_ALLOWED_TO_DELETE_COMMENT = "You are not allowed to delete this comment"
NOT_ALLOWED_TO_EDIT_TWEET = "You are not allowed to edit this tweet"
NOT_ALLOWED_TO_DELETE_TWEET = "You are not allowed to delete this tweet"


# --- Comments ---------------------------------------------------------------------------------


@transaction.atomic
def comment_create(*, video_id, author, content):
    """Add a comment to a video ``author`` can see, and count it on the video."""
    video = video_get_for_viewer(video_id, author)
    # Count first. The UPDATE locks the video row until we commit, so it cannot be deleted under
    # the new comment; no row updated means it was deleted since the check. (A try/except around
    # the INSERT would not catch that: Django's PostgreSQL foreign keys are DEFERRABLE INITIALLY
    # DEFERRED, so the violation would only surface at COMMIT, as a 500.)
    if not counters.video_comments_changed(video_id=video.pk, delta=1):
        raise errors.NotFound(VIDEO_NOT_FOUND)
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
        raise errors.NotAllowed(NOT_ALLOWED_TO_EDIT_COMMENT)
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
        raise errors.NotAllowed(NOT_ALLOWED_TO_DELETE_COMMENT)
    video_id = comment.video_id
    comment.delete()
    counters.video_comments_changed(video_id=video_id, delta=-1)


# --- Tweets -----------------------------------------------------------------------------------


def tweet_create(*, author, content):
    tweet = Tweet.objects.create(author=author, content=content)
    # A new tweet has no likes yet; this is what the list annotates.
    tweet.is_liked = False
    return tweet


@transaction.atomic
def tweet_update(*, tweet_id, user, content):
    """Change a tweet's content: its author only (404 when missing, else 403)."""
    queryset = tweets_with_counts(user).select_for_update(no_key=True, of=("self",))
    tweet = tweet_get(tweet_id, queryset=queryset)
    if tweet.author_id != user.pk:
        raise errors.NotAllowed(NOT_ALLOWED_TO_EDIT_TWEET)
    tweet.content = content
    tweet.save(update_fields=["content", "updated_at"])
    return tweet


@transaction.atomic
def tweet_delete(*, tweet_id, user):
    """Delete a tweet: its author only (404 when missing, else 403). Its likes go with it."""
    tweet = tweet_get(tweet_id, queryset=Tweet.objects.select_for_update())
    if tweet.author_id != user.pk:
        raise errors.NotAllowed(NOT_ALLOWED_TO_DELETE_TWEET)
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
    counters.likes_changed(target=target, delta=delta)
    # The row was read under our lock, so its count plus our change is what it now holds (the
    # same floor at zero as the counter update): no read-back needed.
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
        raise errors.InvalidRequest(CANNOT_SUBSCRIBE_TO_SELF)
    locked = list(
        User.objects.filter(pk__in=[subscriber.pk, channel_id])
        .order_by("pk")
        .select_for_update(no_key=True)
        .values_list("pk", flat=True)
    )
    if channel_id not in locked:
        raise errors.NotFound(CHANNEL_NOT_FOUND)

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
        counters.subscriptions_changed(
            subscriber_id=subscriber.pk, channel_id=channel_id, delta=1 if subscribed else -1
        )
    count = User.objects.filter(pk=channel_id).values_list("subscribers_count", flat=True).get()
    return SubscriptionState(subscribed=subscribed, subscribers_count=count)
