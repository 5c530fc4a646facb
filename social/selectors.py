"""Reads of comments, likes, subscriptions, tweets and channel profiles.

Visibility: a comment belongs to a video, and is visible exactly when its video is
(``videos.selectors.visible_videos_q``); tweets and channels are public. Hidden and missing are the
same 404.

Counts are the denormalised counters that ``social.services`` keeps exact (likes of videos,
comments and tweets; comments of videos; replies of threads; subscribers and subscriptions): no
``COUNT`` on read, except the top-level comments of a video (``comment_list_for_video``).
"""

from django.contrib.auth import get_user_model
from django.db.models import Exists, F, OuterRef, Value

from accounts.selectors import person_defer
from social import counters
from social.models import Comment, Like, Subscription, Tweet
from videos.models import Video
from videos.selectors import video_get_for_viewer, visible_videos_q, with_owner
from viztube import errors

User = get_user_model()

COMMENT_NOT_FOUND = "Comment not found"
TWEET_NOT_FOUND = "Tweet not found"
USER_NOT_FOUND = "User not found"
CHANNEL_NOT_FOUND = "Channel not found"


def _is_signed_in(viewer):
    return viewer is not None and viewer.is_authenticated


def _liked_by(viewer, target):
    """Whether ``viewer`` likes the outer row; always false for an anonymous caller."""
    return liked_by_id(viewer.pk if _is_signed_in(viewer) else None, target)


def liked_by_id(viewer_id, target):
    """``_liked_by`` by the caller's id (``None``: anonymous), or an expression standing for
    it (the lean paths' statements are compiled once for every caller)."""
    if viewer_id is None:
        return Value(False)
    return Exists(Like.objects.filter(**{target: OuterRef("pk")}, user_id=viewer_id))


def _user_exists_or_404(user_id, message=USER_NOT_FOUND):
    if not User.objects.filter(pk=user_id).exists():
        raise errors.NotFound(message)


# --- Comments ---------------------------------------------------------------------------------


# A video's threads: the pinned one first, then newest first. A thread's replies: oldest first.
THREAD_ORDER = ("-is_pinned", "-created_at", "-id")
REPLY_ORDER = ("created_at", "id")


def comments_with_counts(viewer):
    """Comments with ``is_liked`` (for ``viewer``), author loaded: all the comment shape reads
    (``parent_id``, ``replies_count``, ``is_pinned`` and ``is_hearted`` are columns)."""
    return (
        Comment.objects.select_related("author")
        .defer(*person_defer("author"))
        .annotate(is_liked=_liked_by(viewer, "comment"))
    )


def video_threads_total():
    """How many top-level comments the outer video has (an expression)."""
    return counters.row_count(Comment, "video", parent__isnull=True)


def comment_list_for_video(*, video_id, viewer):
    """The top-level comments of a video the viewer can see, the pinned one first, then newest
    first, and how many there are; 404 ``Video not found``. Replies are read per thread
    (``comment_reply_list``).

    The total is counted in the statement that checks the video's visibility: a COUNT of the
    video's top-level comments, an index-only scan of ``comment_video_threads``. (The video's
    ``comments_count`` counts replies too, so it is not this total; a second denormalised
    counter on the video would save that scan.)"""
    video = video_get_for_viewer(
        video_id, viewer, queryset=Video.objects.only("pk").annotate(threads=video_threads_total())
    )
    comments = (
        comments_with_counts(viewer)
        .filter(video=video, parent__isnull=True)
        .order_by(*THREAD_ORDER)
    )
    return comments, video.threads


def comment_reply_list(*, comment_id, viewer):
    """The replies of a comment's thread, oldest first, and how many there are (the thread's
    ``replies_count``: no COUNT); 404 ``Comment not found`` when the comment is missing or its
    video is not visible to ``viewer``.

    The id of a reply stands for its thread (as replying to a reply joins its thread): its
    thread's replies are listed, itself among them."""
    queryset = Comment.objects.select_related("parent").only(
        "parent_id", "replies_count", "parent__replies_count"
    )
    comment = comment_get_for_viewer(comment_id, viewer, queryset=queryset)
    thread = comment.parent or comment
    replies = comments_with_counts(viewer).filter(parent_id=thread.pk).order_by(*REPLY_ORDER)
    return replies, thread.replies_count


def comment_get_for_viewer(comment_id, viewer, queryset=None):
    """The comment if its video is visible to ``viewer``, else 404 ``Comment not found``.

    A comment on a video that has since been unpublished is hidden like the video itself.
    """
    queryset = queryset if queryset is not None else Comment.objects.all()
    try:
        return queryset.filter(visible_videos_q(viewer, prefix="video__")).get(pk=comment_id)
    except (Comment.DoesNotExist, ValueError):
        raise errors.NotFound(COMMENT_NOT_FOUND) from None


# --- Tweets -----------------------------------------------------------------------------------


def tweets_with_counts(viewer):
    """Tweets with ``is_liked`` (for ``viewer``), author loaded."""
    return (
        Tweet.objects.select_related("author")
        .defer(*person_defer("author"))
        .annotate(is_liked=_liked_by(viewer, "tweet"))
    )


def tweet_list_for_user(*, user_id, viewer):
    """A user's tweets, newest first; 404 ``User not found`` for an unknown user."""
    _user_exists_or_404(user_id)
    return tweets_with_counts(viewer).filter(author_id=user_id).order_by("-created_at", "-id")


def tweet_get(tweet_id, queryset=None):
    queryset = queryset if queryset is not None else Tweet.objects.all()
    try:
        return queryset.get(pk=tweet_id)
    except (Tweet.DoesNotExist, ValueError):
        raise errors.NotFound(TWEET_NOT_FOUND) from None


# --- Likes ------------------------------------------------------------------------------------


def liked_video_list(*, viewer):
    """Videos ``viewer`` likes that they can still see, most recently liked first.

    Each video carries ``liked_at``. The ``F("likes__created_at")`` annotation reuses the join of
    the ``likes__user`` filter (one row per like, as a user likes a video at most once).
    """
    return (
        with_owner(Video.objects.filter(visible_videos_q(viewer), likes__user=viewer))
        .annotate(liked_at=F("likes__created_at"))
        .order_by("-liked_at", "-id")
    )


# --- Subscriptions ----------------------------------------------------------------------------


def subscriber_list(*, channel_id):
    """The users subscribed to a channel, newest subscription first, each with ``subscribed_at``;
    404 ``User not found`` for an unknown channel."""
    _user_exists_or_404(channel_id)
    return (
        User.objects.filter(subscriptions__channel_id=channel_id)
        .annotate(subscribed_at=F("subscriptions__created_at"))
        .order_by("-subscribed_at", "-id")
    )


def subscribed_channel_list(*, subscriber_id):
    """The channels a user subscribes to, newest subscription first, each with ``subscribed_at``;
    404 ``User not found`` for an unknown user."""
    _user_exists_or_404(subscriber_id)
    return (
        User.objects.filter(subscribers__subscriber_id=subscriber_id)
        .annotate(subscribed_at=F("subscribers__created_at"))
        .order_by("-subscribed_at", "-id")
    )


# --- Channel profile --------------------------------------------------------------------------


def channels_for(viewer_id):
    """Users with ``is_subscribed``: whether ``viewer_id`` (``None`` for an anonymous caller,
    else the caller's id or a ``viztube.compiled.Parameter`` for it) subscribes to them."""
    if viewer_id is None:
        return User.objects.annotate(is_subscribed=Value(False))
    return User.objects.annotate(
        is_subscribed=Exists(
            Subscription.objects.filter(channel=OuterRef("pk"), subscriber_id=viewer_id)
        )
    )


def channel_username(username):
    # Trimmed and lower-cased, as the original did (usernames are stored lower-case).
    return username.strip().lower()


def channel_profile_get(*, username, viewer):
    """A channel by username (trimmed, lower-cased as the original did) in one query.

    Carries ``is_subscribed`` (false for anonymous callers and for one's own channel, since a
    user cannot subscribe to themselves) and ``is_own`` (whether the caller may see the email).
    The counts are the denormalised ``subscribers_count`` / ``subscriptions_count``.
    404 ``Channel not found``.
    """
    signed_in = _is_signed_in(viewer)
    try:
        channel = channels_for(viewer.pk if signed_in else None).get(
            username=channel_username(username)
        )
    except User.DoesNotExist:
        raise errors.NotFound(CHANNEL_NOT_FOUND) from None
    channel.is_own = signed_in and channel.pk == viewer.pk
    return channel


def video_viewer_state(viewer):
    """The caller's own flags on a video's detail, as expressions for
    ``videos.selectors.video_detail_for_viewer``: has ``viewer`` liked the video, and are they
    subscribed to its channel. ``None`` (both false) for anonymous callers."""
    if viewer is None or not viewer.is_authenticated:
        return None
    return video_viewer_state_of(viewer.pk)


def video_viewer_state_of(viewer_id):
    """``video_viewer_state`` by the caller's id, or an expression standing for it (the lean
    detail's statement, ``videos.lean``, is compiled once for every caller)."""
    return {
        "viewer_liked": Exists(Like.objects.filter(video_id=OuterRef("pk"), user_id=viewer_id)),
        "viewer_subscribed": Exists(
            Subscription.objects.filter(channel_id=OuterRef("owner_id"), subscriber_id=viewer_id)
        ),
    }
