from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from viztube.models import UUIDv7Model


class NotificationType(models.TextChoices):
    """What a notification tells its recipient; the values are the API's ``type``."""

    VIDEO_PUBLISHED = "videoPublished", "A subscribed channel published a video"
    TWEET_POSTED = "tweetPosted", "A subscribed channel posted a tweet"
    VIDEO_COMMENTED = "videoCommented", "A top-level comment on the recipient's video"
    COMMENT_REPLIED = "commentReplied", "A reply in a thread the recipient started"
    CHANNEL_SUBSCRIBED = "channelSubscribed", "Someone subscribed to the recipient's channel"
    COMMENT_HEARTED = "commentHearted", "The video's owner hearted the recipient's comment"


# The types about a comment: the comment is the new comment, the reply, or the hearted one.
COMMENT_TYPES = (
    NotificationType.VIDEO_COMMENTED,
    NotificationType.COMMENT_REPLIED,
    NotificationType.COMMENT_HEARTED,
)


class Notification(UUIDv7Model):
    """One notification of one recipient: ``actor`` did something (``type``) about one thing.

    Each type names exactly one subject (a CHECK says which): ``video`` for videoPublished,
    ``tweet`` for tweetPosted, ``comment`` for the comment types (its video is the comment's),
    nothing but the actor for channelSubscribed. Every foreign key cascades, so deleting the
    video, comment, tweet or either user deletes the notification.

    A recipient hears of one subject once (one unique index per subject, which is also the
    index that the cascade of the subject's deletion reads): the tasks insert with
    ``ON CONFLICT DO NOTHING``, so a task that runs twice delivers nothing twice, and a channel
    hears of a subscriber once, however often they subscribe again.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        # The list index (recipient first) serves the cascade of a recipient's deletion.
        db_index=False,
    )
    type = models.CharField(max_length=20, choices=NotificationType.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # No index of their own: the unique indexes below start with each of them.
    video = models.ForeignKey(
        "videos.Video",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    comment = models.ForeignKey(
        "social.Comment",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    tweet = models.ForeignKey(
        "social.Tweet",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    is_read = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # A recipient's list, newest first, ties by id (the cursor's order).
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_recent"),
            # The unread ones alone: the unread list, and the capped unread count reads at most
            # a hundred entries of it (notifications.selectors.unread_count).
            models.Index(
                fields=["recipient", "-created_at", "-id"],
                condition=Q(is_read=False),
                name="notification_unread",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=NotificationType.values), name="notification_type_valid"
            ),
            # Never about yourself.
            models.CheckConstraint(
                condition=~Q(recipient=F("actor")), name="notification_not_self"
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        type=NotificationType.VIDEO_PUBLISHED,
                        video__isnull=False,
                        comment__isnull=True,
                        tweet__isnull=True,
                    )
                    | Q(
                        type=NotificationType.TWEET_POSTED,
                        video__isnull=True,
                        comment__isnull=True,
                        tweet__isnull=False,
                    )
                    | Q(
                        type__in=COMMENT_TYPES,
                        video__isnull=True,
                        comment__isnull=False,
                        tweet__isnull=True,
                    )
                    | Q(
                        type=NotificationType.CHANNEL_SUBSCRIBED,
                        video__isnull=True,
                        comment__isnull=True,
                        tweet__isnull=True,
                    )
                ),
                name="notification_one_subject",
            ),
            models.UniqueConstraint(
                fields=["video", "recipient"],
                condition=Q(video__isnull=False),
                name="notification_video_once",
            ),
            models.UniqueConstraint(
                fields=["comment", "recipient", "type"],
                condition=Q(comment__isnull=False),
                name="notification_comment_once",
            ),
            models.UniqueConstraint(
                fields=["tweet", "recipient"],
                condition=Q(tweet__isnull=False),
                name="notification_tweet_once",
            ),
            models.UniqueConstraint(
                fields=["actor", "recipient"],
                condition=Q(type=NotificationType.CHANNEL_SUBSCRIBED),
                name="notification_subscriber_once",
            ),
        ]

    def __str__(self):
        return f"{self.type} for {self.recipient_id}"


class NotificationSettings(models.Model):
    """Which types a user wants; no row means every type (the defaults)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_settings",
    )
    video_published = models.BooleanField(default=True, db_default=True)
    tweet_posted = models.BooleanField(default=True, db_default=True)
    video_commented = models.BooleanField(default=True, db_default=True)
    comment_replied = models.BooleanField(default=True, db_default=True)
    channel_subscribed = models.BooleanField(default=True, db_default=True)
    comment_hearted = models.BooleanField(default=True, db_default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "notification settings"

    def __str__(self):
        return f"Notification settings of {self.user_id}"


# The settings column of each type.
SETTING_OF_TYPE = {
    NotificationType.VIDEO_PUBLISHED: "video_published",
    NotificationType.TWEET_POSTED: "tweet_posted",
    NotificationType.VIDEO_COMMENTED: "video_commented",
    NotificationType.COMMENT_REPLIED: "comment_replied",
    NotificationType.CHANNEL_SUBSCRIBED: "channel_subscribed",
    NotificationType.COMMENT_HEARTED: "comment_hearted",
}
