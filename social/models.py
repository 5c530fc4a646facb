from django.conf import settings
from django.db import models
from django.db.models import F, Q

from viztube.models import UUIDv7Model


class Comment(UUIDv7Model):
    """A comment on a video: a thread's top-level comment, or a reply in one.

    Threads are one level deep: ``parent`` is null for a top-level comment and names the
    thread's top-level comment for a reply (never another reply), so a thread is read with one
    index range. A video has at most one pinned comment, a top-level one (the services keep
    replies unpinned); a heart is the video owner's mark on any comment.
    """

    video = models.ForeignKey("videos.Video", on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments"
    )
    # No index of its own: ``comment_thread_replies`` (parent first) serves every lookup by
    # parent, the cascade of a deletion too.
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="replies",
        db_index=False,
    )
    content = models.CharField(max_length=2000)
    # Likes of this row, kept exact by social.services (see its counter rule); recount_counters
    # rebuilds it from the rows. A database default too: a worker of the previous release still
    # running during a deploy inserts rows without the column.
    likes_count = models.PositiveIntegerField(default=0, db_default=0)
    # Replies in this comment's thread (always 0 on a reply), kept and rebuilt like likes_count.
    # Not a PositiveIntegerField: its CHECK would be verified against every row under the
    # table's ACCESS EXCLUSIVE lock when the column is added; ``comment_replies_count_not_negative``
    # is the same rule, added online.
    replies_count = models.IntegerField(default=0, db_default=0)
    is_pinned = models.BooleanField(default=False, db_default=False)
    is_hearted = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["video", "-created_at"], name="comment_video_recent"),
            # A video's threads in list order (pinned first, then newest), ties by id.
            models.Index(
                fields=["video", "-is_pinned", "-created_at", "-id"],
                condition=Q(parent__isnull=True),
                name="comment_video_threads",
            ),
            # A thread's replies in list order (oldest first), ties by id.
            models.Index(
                fields=["parent", "created_at", "id"],
                condition=Q(parent__isnull=False),
                name="comment_thread_replies",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(content=""), name="comment_content_not_empty"),
            models.CheckConstraint(
                condition=Q(replies_count__gte=0), name="comment_replies_count_not_negative"
            ),
            models.UniqueConstraint(
                fields=["video"], condition=Q(is_pinned=True), name="comment_one_pinned_per_video"
            ),
        ]

    def __str__(self):
        return self.content[:50]


class Tweet(UUIDv7Model):
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tweets"
    )
    content = models.CharField(max_length=280)
    likes_count = models.PositiveIntegerField(default=0, db_default=0)  # as Comment.likes_count
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        # With the id, an author's page (and the feed's newest tweets per followed channel,
        # social.feed) is read from the index in its (created_at, id) order, ties included.
        indexes = [
            models.Index(fields=["author", "-created_at", "-id"], name="tweet_author_created")
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(content=""), name="tweet_content_not_empty")
        ]

    def __str__(self):
        return self.content[:50]


class Like(UUIDv7Model):
    """A like of exactly one target: a video, a comment or a tweet."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likes"
    )
    video = models.ForeignKey(
        "videos.Video", null=True, blank=True, on_delete=models.CASCADE, related_name="likes"
    )
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="likes"
    )
    tweet = models.ForeignKey(
        Tweet, null=True, blank=True, on_delete=models.CASCADE, related_name="likes"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["user", "-created_at"],
                condition=Q(video__isnull=False),
                name="like_user_video_recent",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(video__isnull=False, comment__isnull=True, tweet__isnull=True)
                    | Q(video__isnull=True, comment__isnull=False, tweet__isnull=True)
                    | Q(video__isnull=True, comment__isnull=True, tweet__isnull=False)
                ),
                name="like_exactly_one_target",
            ),
            models.UniqueConstraint(
                fields=["user", "video"],
                condition=Q(video__isnull=False),
                name="like_user_video_unique",
            ),
            models.UniqueConstraint(
                fields=["user", "comment"],
                condition=Q(comment__isnull=False),
                name="like_user_comment_unique",
            ),
            models.UniqueConstraint(
                fields=["user", "tweet"],
                condition=Q(tweet__isnull=False),
                name="like_user_tweet_unique",
            ),
        ]


class Subscription(UUIDv7Model):
    subscriber = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions"
    )
    channel = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscribers"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["channel", "-created_at"], name="sub_channel_recent"),
            models.Index(fields=["subscriber", "-created_at"], name="sub_subscriber_recent"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "channel"], name="sub_unique_pair"),
            models.CheckConstraint(condition=~Q(subscriber=F("channel")), name="sub_not_self"),
        ]
