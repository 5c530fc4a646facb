from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q

from media.storage import get_video_storage
from viztube.models import UUIDv7Model, Visibility


class VideoStatus(models.TextChoices):
    """Where a video stands in the processing of its bytes (checked, a thumbnail taken). Until it is
    ``ready`` a video is its owner's alone: listed nowhere, counted nowhere, 404 to others."""

    PROCESSING = "processing", "Processing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


# The videos everyone sees listed (``videos.selectors.listed_videos_q``): the partial indexes of
# the lists hold these rows only.
LISTED = Q(visibility=Visibility.PUBLIC, status=VideoStatus.READY)


class Video(UUIDv7Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="videos"
    )
    title = models.CharField(max_length=100)
    description = models.TextField(max_length=5000, blank=True, default="")
    video_file = models.FileField(storage=get_video_storage, upload_to="videos/", max_length=255)
    # Empty while a video published without one waits for the frame its processing takes.
    thumbnail = models.FileField(upload_to="thumbnails/", max_length=255, blank=True)
    duration = models.FloatField(
        help_text="Seconds, read from the file when it was published (0 until it is processed)."
    )
    views = models.PositiveBigIntegerField(default=0)
    # A database default too: a worker of the previous release still running during a deploy
    # inserts rows without the column.
    visibility = models.CharField(
        max_length=8,
        choices=Visibility.choices,
        default=Visibility.PUBLIC,
        db_default=Visibility.PUBLIC,
    )
    # A database default too, for the same reason: what the previous release inserts is ready.
    status = models.CharField(
        max_length=10,
        choices=VideoStatus.choices,
        default=VideoStatus.READY,
        db_default=VideoStatus.READY,
    )
    # NULL, not "", for "none": the API shows null, and a CHECK ties a reason to the failed status.
    failure_reason = models.TextField(  # noqa: DJ001
        null=True, blank=True, help_text="Why processing failed, for the owner; set only then."
    )
    streaming_url = models.URLField(  # noqa: DJ001
        max_length=500,
        null=True,
        blank=True,
        help_text="The HLS rendition (.m3u8), when there is one.",
    )
    processing_started_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the current processing run was asked for (its deadline counts from it).",
    )
    publish_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a scheduled (private) video becomes public; empty when not scheduled.",
    )
    published_at = models.DateTimeField(
        null=True, blank=True, help_text="When the video first became public."
    )
    # Denormalised counts, updated with F() in the transaction that adds or removes the like or
    # comment (social.services); `manage.py recount_counters` rebuilds them from rows.
    likes_count = models.PositiveIntegerField(default=0)
    comments_count = models.PositiveIntegerField(default=0)
    # Maintained by a PostgreSQL trigger from title (weight A) and description (weight B);
    # always NULL on SQLite, where search falls back to a plain substring match.
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        # The list orders by (sort key, id): each index holds both, so a page is read straight
        # from it (backwards for the other direction), and a deep page's ids come from an
        # index-only scan (viztube.api.pagination).
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"], name="video_owner_created"),
            models.Index(
                fields=["-created_at", "-id"], condition=LISTED, name="video_listed_created"
            ),
            models.Index(fields=["-views", "-id"], condition=LISTED, name="video_listed_views"),
            models.Index(fields=["duration", "id"], condition=LISTED, name="video_listed_duration"),
            models.Index(fields=["title", "id"], condition=LISTED, name="video_listed_title"),
            # The subscription feed reads each followed channel's newest public videos from here.
            models.Index(
                fields=["owner", "-published_at", "-id"],
                condition=LISTED,
                name="video_listed_owner_published",
            ),
            # The scheduled-publishing job finds the due videos without reading the others.
            models.Index(
                fields=["publish_at"],
                condition=Q(publish_at__isnull=False),
                name="video_scheduled",
            ),
            # The deadline of processing (videos.processing.videos_fail_stuck) reads the few
            # videos still processing from here.
            models.Index(
                fields=["processing_started_at"],
                condition=Q(status=VideoStatus.PROCESSING),
                name="video_processing",
            ),
            # The channel dashboard sums these over one owner's videos from the index alone.
            models.Index(
                fields=["owner"],
                include=["views", "likes_count", "comments_count", "visibility", "status"],
                name="video_owner_sums",
            ),
            # Cloudinary's notifications name a video by its asset (the stored name).
            models.Index(fields=["video_file"], name="video_file_name"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="video_title_not_empty"),
            models.CheckConstraint(
                condition=Q(duration__gte=0), name="video_duration_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(visibility__in=Visibility.values), name="video_visibility_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=VideoStatus.values), name="video_status_valid"
            ),
            # A reason exactly when processing failed: a ready video never shows a stale one.
            models.CheckConstraint(
                condition=Q(status=VideoStatus.FAILED, failure_reason__isnull=False)
                | (~Q(status=VideoStatus.FAILED) & Q(failure_reason__isnull=True)),
                name="video_failure_reason_iff_failed",
            ),
            # A scheduled video stays private until its time comes.
            models.CheckConstraint(
                condition=Q(publish_at__isnull=True) | Q(visibility=Visibility.PRIVATE),
                name="video_scheduled_is_private",
                violation_error_message="A scheduled video stays private until its publish time.",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_published(self):
        """The original API's flag: anything but private."""
        return self.visibility != Visibility.PRIVATE


class WatchHistory(UUIDv7Model):
    """One row per (user, video); re-watching moves ``watched_at`` forward."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watch_history"
    )
    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="watch_entries")
    watched_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "watch history"
        indexes = [models.Index(fields=["user", "-watched_at"], name="watch_user_recent")]
        constraints = [
            models.UniqueConstraint(fields=["user", "video"], name="watch_user_video_unique")
        ]


class VideoCatalog(models.Model):
    """One row: how many videos are listed (public and ready), for the unfiltered list's
    ``totalDocs``.

    Counting ~100,000 public rows costs tens of milliseconds per list request; this row is
    kept exact by PostgreSQL triggers (migrations 0004, 0005 and 0006) in the same transaction as
    any insert, delete, truncate or change of ``visibility`` or ``status``, whoever writes. On SQLite (local runs)
    nothing maintains it and the list counts rows instead (``videos.selectors``).
    ``manage.py recount_counters`` recomputes it.
    """

    published_videos = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="video_catalog_single_row")]

    def __str__(self):
        return f"{self.published_videos} published videos"
