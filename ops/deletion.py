"""Every delete that cascades across apps, and the one lock order they all follow.

Deleting a video removes its comments, their likes, its likes, playlist entries and watch
history; deleting a thread's top-level comment removes its replies; deleting a user removes all they own (their upload sessions and their bytes too) and everything of theirs that other people's
counters count. Those rows live in several apps, and two writers that lock them in different
orders deadlock. So, for everything that deletes:

1. lock the rows being deleted and the rows whose counters will change: videos, then comments,
   then tweets, then users whose counters change (each in primary-key order, ``FOR NO KEY
   UPDATE``);
2. only then delete (Django's cascade removes a comment's likes before the comment);
3. recount the survivors' counters from the rows (``social.counters``), or move them by what
   was deleted (comments, ``social.services.comments_delete``): exact either way, because
   their rows are locked;
4. delete media files and retire caches after the commit.

A like toggle locks its target (a video, comment or tweet) before it touches a like; a
comment is created under its video's row lock (a reply then locks its thread's top-level
comment, to count on it); a pin locks the video before it touches the video's comments; a heart
locks its comment only. So every writer agrees with this order, and once a video is locked no
comment (reply or not) can be added to it.
"""

from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q

from accounts import user_cache
from media import services as media_services
from media.models import DirectUpload, UploadSession
from media.services import media_delete_after_commit
from media.storage import video_storage
from social import counters
from social import services as social_services
from social.models import Comment, Like, Subscription, Tweet
from videos.models import Video
from videos.services import NOT_AUTHORIZED_TO_DELETE, video_locked_for_owner
from viztube.api import page_cache
from viztube.db import lock_rows

User = get_user_model()


def _lock_comments_of_videos(video_ids):
    """With the videos locked: their comments (replies included), whose likes the cascade
    removes first."""
    lock_rows(Comment, Comment.objects.filter(video_id__in=video_ids).values("pk"))


def _delete_video_files_after_commit(rows):
    files = []
    for video_name, thumbnail_name in rows:
        files += [(video_storage, video_name), (default_storage, thumbnail_name)]
    media_delete_after_commit(*files)


# --- Videos -------------------------------------------------------------------------------------


def video_delete(*, video_id, actor):
    """The owner deletes their video; 404 when missing or invisible, 403 for anyone else.
    Its two files are deleted once the deletion has committed."""
    with transaction.atomic():
        video = video_locked_for_owner(video_id, actor, NOT_AUTHORIZED_TO_DELETE)
        _lock_comments_of_videos([video.pk])
        _delete_video_files_after_commit([(video.video_file.name, video.thumbnail.name)])
        video.delete()
        page_cache.bump()


@transaction.atomic
def videos_delete(*, videos):
    """Delete a queryset of videos (staff moderation, a user's deletion) with their files.
    Returns how many were deleted."""
    # Re-selected by primary key: the admin's queryset may carry joins or ordering that
    # FOR UPDATE does not accept.
    ids = list(videos.values_list("pk", flat=True))
    rows = list(
        Video.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "video_file", "thumbnail")
    )
    locked_ids = [pk for pk, _, _ in rows]
    _lock_comments_of_videos(locked_ids)
    Video.objects.filter(pk__in=locked_ids).delete()
    _delete_video_files_after_commit([(video, thumbnail) for _, video, thumbnail in rows])
    if rows:
        page_cache.bump()
    return len(rows)


# --- Comments and tweets ------------------------------------------------------------------------


def comments_delete(*, comments):
    """Delete many comments at once (staff moderation) and keep the counters exact: the
    comments, the replies of those that start a thread, and their likes. Returns how many
    comments were deleted, replies included.

    The rule is the comments' own (``social.services.comments_delete``, which an author's or a
    video owner's delete uses too): the affected videos are locked first, then the comments and
    the threads that lose a reply; the counters move by exactly what was deleted.
    """
    return social_services.comments_delete(comment_ids=list(comments.values_list("pk", flat=True)))


@transaction.atomic
def tweets_delete(*, tweets):
    """Delete many tweets at once (staff moderation); their likes go with them. Returns how
    many were deleted."""
    tweet_ids = list(tweets.values_list("pk", flat=True))
    lock_rows(Tweet, tweet_ids)
    deleted, _ = Tweet.objects.filter(pk__in=tweet_ids).delete()
    return deleted


# --- Users --------------------------------------------------------------------------------------


@transaction.atomic
def users_delete(*, users):
    """Delete users (staff moderation) with everything they own, leaving no orphan file and no
    counter drift. Returns how many users were deleted.

    Deleting a user cascades to their likes, comments and subscriptions, which are counted on
    *other* people's videos, comments, tweets and channels, and to the others' replies in the
    threads they started. Those rows are locked first (the order above), the users are deleted,
    then the survivors' counters are recounted (the comments counted by their videos, the
    replies counted by the threads left). Their videos' files, avatars and covers are deleted
    after the commit.
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
    owned_videos = Video.objects.filter(owner_id__in=user_ids)
    authored = Comment.objects.filter(author_id__in=user_ids)
    video_ids = (
        set(
            Like.objects.filter(user_id__in=user_ids, video__isnull=False).values_list(
                "video_id", flat=True
            )
        )
        | set(authored.values_list("video_id", flat=True))
        | set(owned_videos.values_list("pk", flat=True))
    )
    related_user_ids = set(
        Subscription.objects.filter(subscriber_id__in=user_ids).values_list("channel_id", flat=True)
    ) | set(
        Subscription.objects.filter(channel_id__in=user_ids).values_list("subscriber_id", flat=True)
    )
    lock_rows(Video, video_ids)
    # Read with the videos locked: no comment can be added to them now, so these are all the
    # replies in their threads. Besides what they liked and what is on their videos: their
    # comments, the others' replies in threads they started (deleted with the thread), and the
    # threads their replies are in (which lose replies).
    liked = Like.objects.filter(user_id__in=user_ids)
    comment_ids = (
        set(liked.filter(comment__isnull=False).values_list("comment_id", flat=True))
        | set(
            Comment.objects.filter(
                Q(author_id__in=user_ids)
                | Q(video__owner_id__in=user_ids)
                | Q(parent__author_id__in=user_ids)
            ).values_list("pk", flat=True)
        )
        | set(authored.filter(parent__isnull=False).values_list("parent_id", flat=True))
    )
    tweet_ids = set(liked.filter(tweet__isnull=False).values_list("tweet_id", flat=True)) | set(
        Tweet.objects.filter(author_id__in=user_ids).values_list("pk", flat=True)
    )
    lock_rows(Comment, comment_ids)
    lock_rows(Tweet, tweet_ids)
    lock_rows(User, related_user_ids)

    video_files = list(owned_videos.values_list("video_file", "thumbnail"))
    # Their upload sessions go with them (the cascade), and so do the sessions' bytes.
    media_services.upload_sessions_discard(
        sessions=UploadSession.objects.filter(owner_id__in=user_ids)
    )
    # Their unpublished direct uploads to Cloudinary too: the assets go with the rows.
    media_services.direct_uploads_discard(
        public_ids=DirectUpload.objects.filter(owner_id__in=user_ids).values_list(
            "public_id", flat=True
        )
    )
    images = [
        name
        for pair in User.objects.filter(pk__in=user_ids).values_list("avatar", "cover_image")
        for name in pair
        if name
    ]
    deleted, _ = User.objects.filter(pk__in=user_ids).delete()
    counters.recount_videos(video_ids=video_ids)
    counters.recount(Comment.objects.filter(pk__in=comment_ids))
    counters.recount(Tweet.objects.filter(pk__in=tweet_ids))
    counters.recount_users(user_ids=related_user_ids - set(user_ids))

    _delete_video_files_after_commit(video_files)
    media_delete_after_commit(*[(default_storage, name) for name in images])
    page_cache.bump()
    user_cache.forget(*user_ids)
    return deleted
