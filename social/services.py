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
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, DateTimeField, Q, UUIDField
from django.db.models.constants import OnConflict
from django.db.models.expressions import RawSQL
from django.db.models.sql.subqueries import DeleteQuery, InsertQuery
from django.utils import timezone
from uuid6 import uuid7

from social import counters
from social.models import Comment, Like, Subscription, Tweet
from social.selectors import (
    CHANNEL_NOT_FOUND,
    COMMENT_NOT_FOUND,
    TWEET_NOT_FOUND,
    comment_get_for_viewer,
    comments_with_counts,
    tweet_get,
    tweets_with_counts,
)
from social.signals import channel_subscribed, comment_hearted, comment_posted, tweet_posted
from videos.models import Video
from videos.selectors import VIDEO_NOT_FOUND, reachable_videos_q, video_get_for_viewer
from viztube import errors
from viztube.compiled import Parameter, Statement, compiled, lean
from viztube.db import lock_rows
from viztube.events import send_after_commit

User = get_user_model()

CANNOT_SUBSCRIBE_TO_SELF = "You cannot subscribe to your own channel"
NOT_ALLOWED_TO_EDIT_COMMENT = "You are not allowed to edit this comment"
NOT_ALLOWED_TO_DELETE_COMMENT = "You are not allowed to delete this comment"
NOT_ALLOWED_TO_PIN_COMMENT = "You are not allowed to pin this comment"
NOT_ALLOWED_TO_HEART_COMMENT = "You are not allowed to heart this comment"
REPLY_CANNOT_BE_PINNED = "A reply cannot be pinned; pin the comment that starts its thread"
PARENT_NOT_FOUND = "No comment with this id on this video"
NOT_ALLOWED_TO_EDIT_TWEET = "You are not allowed to edit this tweet"
NOT_ALLOWED_TO_DELETE_TWEET = "You are not allowed to delete this tweet"


# --- Comments ---------------------------------------------------------------------------------


def _thread_of(parent_id, video_id):
    """The thread a reply to ``parent_id`` joins: the top-level comment of ``parent_id``'s
    thread (threads are one level deep). 422 on ``parentId`` unless ``parent_id`` is a comment
    of the video ``video_id``."""
    parent = Comment.objects.filter(pk=parent_id, video_id=video_id).values("pk", "parent_id")
    parent = parent.first()
    if parent is None:
        raise errors.InvalidInput(fields={"parentId": [PARENT_NOT_FOUND]})
    return parent["parent_id"] or parent["pk"]


@transaction.atomic
def comment_create(*, video_id, author, content, parent_id=None):
    """Add a comment to a video ``author`` can see, and count it on the video; with
    ``parent_id``, as a reply in that comment's thread, counted on the thread too.

    404 when the video is not visible; then 422 (``parentId``) when ``parent_id`` is not a
    comment of that video. A reply to a reply joins the thread of the comment replied to: its
    ``parent`` is the thread's top-level comment."""
    video = video_get_for_viewer(video_id, author)
    # Count first. The UPDATE locks the video row until we commit, so it cannot be deleted under
    # the new comment; no row updated means it was deleted since the check. (A try/except around
    # the INSERT would not catch that: Django's PostgreSQL foreign keys are DEFERRABLE INITIALLY
    # DEFERRED, so the violation would only surface at COMMIT, as a 500.) Every delete of a
    # comment locks its video first (``comments_delete``), so the thread found below stays until
    # we commit, and its count moves in step with the rows.
    if not counters.video_comments_changed(video_id=video.pk, delta=1):
        raise errors.NotFound(VIDEO_NOT_FOUND)
    thread_id = None
    if parent_id is not None:
        thread_id = _thread_of(parent_id, video.pk)
        counters.thread_replies_changed(thread_id=thread_id, delta=1)
    comment = Comment.objects.create(
        video=video, author=author, content=content, parent_id=thread_id
    )
    send_after_commit(
        comment_posted,
        sender=Comment,
        comment_id=comment.pk,
        video_id=video.pk,
        author_id=author.pk,
        thread_id=thread_id,
    )
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

    404 when the comment (or its video) is not visible to ``user``, or was deleted meanwhile;
    403 for anyone else. Its likes go with it, and so does its thread when it is a top-level
    comment (``comments_delete``, which keeps the counters exact).
    """
    queryset = Comment.objects.select_related("video").only("author_id", "video__owner_id")
    comment = comment_get_for_viewer(comment_id, user, queryset=queryset)
    if user.pk not in (comment.author_id, comment.video.owner_id):
        raise errors.NotAllowed(NOT_ALLOWED_TO_DELETE_COMMENT)
    if not comments_delete(comment_ids=[comment.pk]):
        raise errors.NotFound(COMMENT_NOT_FOUND)


@transaction.atomic
def comments_delete(*, comment_ids):
    """Delete these comments, the replies of those that start a thread, and the likes of all
    of them; move the counters by what went. Returns how many comments were deleted, replies
    included. No permission check: the caller decided (an author, a video's owner, staff).

    Lock order (``ops.deletion``'s): the comments' videos, then the comments (the doomed ones
    and the threads that lose a reply), each in primary-key order. A comment is only ever
    inserted under its video's row lock (``comment_create``), and every delete of comments
    locks the videos first, so once the videos are locked the rows read below are final. The
    counters then move by exact deltas (``Video.comments_count`` by the comments deleted from
    the video, a surviving thread's ``replies_count`` by its replies deleted), with no COUNT of
    a busy video's comments.
    """
    video_ids = (
        Comment.objects.filter(pk__in=comment_ids)
        .order_by()
        .values_list("video_id", flat=True)
        .distinct()
    )
    lock_rows(Video, list(video_ids))
    doomed = {
        pk: (video_id, parent_id)
        for pk, video_id, parent_id in Comment.objects.filter(
            Q(pk__in=comment_ids) | Q(parent_id__in=comment_ids)
        ).values_list("pk", "video_id", "parent_id")
    }
    threads = {parent for _, parent in doomed.values() if parent is not None}
    surviving_threads = threads - doomed.keys()
    lock_rows(Comment, [*doomed, *surviving_threads])
    Comment.objects.filter(pk__in=list(doomed)).delete()
    for video_id, deleted in Counter(video for video, _ in doomed.values()).items():
        counters.video_comments_changed(video_id=video_id, delta=-deleted)
    replies_lost = Counter(parent for _, parent in doomed.values() if parent in surviving_threads)
    for thread_id, deleted in replies_lost.items():
        counters.thread_replies_changed(thread_id=thread_id, delta=-deleted)
    return len(doomed)


@dataclass(frozen=True)
class PinState:
    is_pinned: bool


@dataclass(frozen=True)
class HeartState:
    is_hearted: bool


def _comment_for_video_owner(comment_id, user, *, queryset, forbidden_message):
    """A comment visible to ``user`` on a video of theirs, read with ``queryset``: 404 when
    not visible, else 403 unless ``user`` owns the video."""
    queryset = queryset.select_related("video").only(
        "parent_id", "is_pinned", "is_hearted", "video__owner_id"
    )
    comment = comment_get_for_viewer(comment_id, user, queryset=queryset)
    if comment.video.owner_id != user.pk:
        raise errors.NotAllowed(forbidden_message)
    return comment


@transaction.atomic
def comment_pin_toggle(*, comment_id, user):
    """Pin a top-level comment of the caller's video, or unpin it when it is pinned; pinning
    unpins the video's pinned comment, if any. 404 when the comment is not visible, 403 unless
    the caller owns the video, 422 for a reply.

    Two pins of one video at once: the video row is locked first (the lock order of
    ``comments_delete``), so they run one after another and the second moves the pin; the
    unique constraint (one pinned comment per video) would otherwise fail the second one.
    """
    comment = _comment_for_video_owner(
        comment_id, user, queryset=Comment.objects, forbidden_message=NOT_ALLOWED_TO_PIN_COMMENT
    )
    if comment.parent_id is not None:
        raise errors.InvalidInput(REPLY_CANNOT_BE_PINNED)
    lock_rows(Video, [comment.video_id])
    # Read again under the video's lock: what another pin of this video did is now committed.
    pinned = Comment.objects.filter(pk=comment.pk).values_list("is_pinned", flat=True).first()
    if pinned is None:  # deleted since it was read
        raise errors.NotFound(COMMENT_NOT_FOUND)
    if not pinned:
        Comment.objects.filter(video_id=comment.video_id, is_pinned=True).update(is_pinned=False)
    Comment.objects.filter(pk=comment.pk).update(is_pinned=not pinned)
    return PinState(is_pinned=not pinned)


@transaction.atomic
def comment_heart_toggle(*, comment_id, user):
    """Heart a comment (top-level or reply) on the caller's video, or take the heart back. 404
    when the comment is not visible, 403 unless the caller owns the video.

    The comment is read under its row lock, so two toggles at once run one after the other
    (each flips what the previous one left). Only the comment is locked: a heart moves no
    counter, and taking no video lock keeps it out of the deletes' lock order."""
    comment = _comment_for_video_owner(
        comment_id,
        user,
        queryset=Comment.objects.select_for_update(no_key=True, of=("self",)),
        forbidden_message=NOT_ALLOWED_TO_HEART_COMMENT,
    )
    Comment.objects.filter(pk=comment.pk).update(is_hearted=not comment.is_hearted)
    if not comment.is_hearted:
        send_after_commit(comment_hearted, sender=Comment, comment_id=comment.pk, actor_id=user.pk)
    return HeartState(is_hearted=not comment.is_hearted)


# --- Tweets -----------------------------------------------------------------------------------


def tweet_create(*, author, content):
    tweet = Tweet.objects.create(author=author, content=content)
    send_after_commit(tweet_posted, sender=Tweet, tweet_id=tweet.pk, author_id=author.pk)
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


@dataclass(frozen=True)
class _LikeTarget:
    """What can be liked: ``model``'s rows that ``visible(viewer_id)`` keeps (the caller's id,
    or a ``Parameter`` for it), 404 ``not_found`` otherwise; a like names its target through
    the foreign key ``model_name``."""

    model: type
    visible: Callable
    not_found: str

    @property
    def like_field(self):
        return self.model._meta.model_name


_VIDEO_LIKES = _LikeTarget(
    Video, lambda viewer_id: Video.objects.filter(reachable_videos_q(viewer_id)), VIDEO_NOT_FOUND
)
# A comment is visible exactly when its video is.
_COMMENT_LIKES = _LikeTarget(
    Comment,
    lambda viewer_id: Comment.objects.filter(reachable_videos_q(viewer_id, prefix="video__")),
    COMMENT_NOT_FOUND,
)
_TWEET_LIKES = _LikeTarget(Tweet, lambda viewer_id: Tweet.objects.all(), TWEET_NOT_FOUND)


_VIEWER = Parameter("viewer", UUIDField())
_TARGET = Parameter("target", UUIDField())


@compiled
def _lock_statement(target):
    """Lock the target row, if the viewer may like it, and read its ``likes_count``. Compiled
    by the first toggle, inside its transaction (Django compiles ``FOR NO KEY UPDATE`` inside
    one only)."""
    return (
        target.visible(_VIEWER)
        .filter(pk=_TARGET)
        .order_by()
        .select_for_update(no_key=True, of=("self",))
        .values_list("likes_count")
    )


@compiled
def _toggle_statement(target):
    """Insert the like unless it exists (``ON CONFLICT DO NOTHING``), delete it if it did, and
    move the target's counter by the difference; answer how many rows were added and removed.
    Inserting first and deleting on conflict ends where "delete if present, else create" ends.

    Run after ``_lock_statement``, not folded into it: in READ COMMITTED every statement reads
    the snapshot taken when it starts, and a statement that waited for the row lock would not
    see the like that the previous holder of the lock committed meanwhile (two quick toggles
    would both like). This one starts once the lock is ours, so it sees all they committed.
    A like inserted behind the lock's back (a data fix by hand) meets the insert's conflict
    but not the delete's snapshot: liked, no change in rows, as ``_toggle_like`` answers then.
    """
    like = Like(
        id=Parameter("like", UUIDField()),
        user_id=_VIEWER,
        created_at=Parameter("now", DateTimeField()),
        **{f"{target.like_field}_id": _TARGET},
    )
    insert = InsertQuery(Like, on_conflict=OnConflict.IGNORE)
    insert.insert_values(Like._meta.concrete_fields, [like], raw=True)
    [(insert_sql, insert_params)] = insert.get_compiler(connection.alias).as_sql()
    not_added = RawSQL("NOT EXISTS (SELECT FROM added)", (), output_field=BooleanField())
    delete = (
        Like.objects.filter(user_id=_VIEWER, **{f"{target.like_field}_id": _TARGET})
        .filter(not_added)
        .query.chain(DeleteQuery)
    )
    delete_sql, delete_params = delete.get_compiler(connection.alias).as_sql()
    delta = RawSQL("(SELECT count(*) FROM added) - (SELECT count(*) FROM removed)", ())
    count = counters.likes_changed_statement(model=target.model, target=_TARGET, delta=delta)
    sql = (
        f"WITH added AS ({insert_sql} RETURNING 1), "  # noqa: S608 (compiled parts, no input)
        f"removed AS ({delete_sql} RETURNING 1), "
        f"counted AS ({count.sql}) "
        "SELECT (SELECT count(*) FROM added), (SELECT count(*) FROM removed)"
    )
    return Statement(sql, [*insert_params, *delete_params, *count.params])


def _toggle_postgres(target, target_id, user):
    values = {"viewer": user.pk, "target": target_id, "like": uuid7(), "now": timezone.now()}
    try:
        lock = _lock_statement(target).text(values)
    except ValueError:  # not an id
        raise errors.NotFound(target.not_found) from None
    with connection.cursor() as cursor:
        cursor.execute(lock)
        row = cursor.fetchone()
        if row is None:
            raise errors.NotFound(target.not_found)
        cursor.execute(_toggle_statement(target).text(values))
        added, removed = cursor.fetchone()
    delta = added - removed
    # Read under our lock: its count plus our change is what the row now holds.
    return LikeState(liked=not removed, likes_count=max(row[0] + delta, 0))


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


def _toggle_portable(target, target_id, user):
    """The same toggle through the ORM, one statement at a time (SQLite, the local run path;
    the reference of the equivalence tests)."""
    locked = (
        target.visible(user.pk).select_for_update(no_key=True, of=("self",)).only("likes_count")
    )
    try:
        row = locked.get(pk=target_id)
    except (target.model.DoesNotExist, ValueError):
        raise errors.NotFound(target.not_found) from None
    liked, delta = _toggle_like(user=user, target={target.like_field: row})
    counters.likes_changed(target=row, delta=delta)
    return LikeState(liked=liked, likes_count=max(row.likes_count + delta, 0))


def _toggle_counted_like(target, target_id, user):
    """Toggle ``user``'s like of a ``target`` row and move its counter with it, under the row's
    lock; 404 when ``user`` may not see it."""
    if lean():
        return _toggle_postgres(target, target_id, user)
    return _toggle_portable(target, target_id, user)


@transaction.atomic
def video_like_toggle(*, video_id, user):
    """Like or unlike a video ``user`` can see (404 otherwise); keeps ``likes_count`` exact."""
    return _toggle_counted_like(_VIDEO_LIKES, video_id, user)


@transaction.atomic
def comment_like_toggle(*, comment_id, user):
    """Like or unlike a comment whose video ``user`` can see (404 ``Comment not found``)."""
    return _toggle_counted_like(_COMMENT_LIKES, comment_id, user)


@transaction.atomic
def tweet_like_toggle(*, tweet_id, user):
    """Like or unlike a tweet (404 ``Tweet not found``)."""
    return _toggle_counted_like(_TWEET_LIKES, tweet_id, user)


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
        if subscribed:
            send_after_commit(
                channel_subscribed,
                sender=Subscription,
                subscriber_id=subscriber.pk,
                channel_id=channel_id,
            )
    count = User.objects.filter(pk=channel_id).values_list("subscribers_count", flat=True).get()
    return SubscriptionState(subscribed=subscribed, subscribers_count=count)
