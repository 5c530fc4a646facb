from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q

from media.storage import get_video_storage
from viztube.models import UUIDv7Model, Visibility

PUBLIC = Q(visibility=Visibility.PUBLIC)


class Video(UUIDv7Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="videos"
    )
    title = models.CharField(max_length=100)
    description = models.TextField(max_length=5000, blank=True, default="")
    video_file = models.FileField(storage=get_video_storage, upload_to="videos/", max_length=255)
    thumbnail = models.FileField(upload_to="thumbnails/", max_length=255)
    duration = models.FloatField(help_text="Seconds, read from the file when it was published.")
    views = models.PositiveBigIntegerField(default=0)
    # A database default too: a worker of the previous release still running during a deploy
    # inserts rows without the column.
    visibility = models.CharField(
        max_length=8,
        choices=Visibility.choices,
        default=Visibility.PUBLIC,
        db_default=Visibility.PUBLIC,
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
                fields=["-created_at", "-id"], condition=PUBLIC, name="video_public_created"
            ),
            models.Index(fields=["-views", "-id"], condition=PUBLIC, name="video_public_views"),
            models.Index(fields=["duration", "id"], condition=PUBLIC, name="video_public_duration"),
            models.Index(fields=["title", "id"], condition=PUBLIC, name="video_public_title"),
            # The subscription feed reads each followed channel's newest public videos from here.
            models.Index(
                fields=["owner", "-published_at", "-id"],
                condition=PUBLIC,
                name="video_public_owner_published",
            ),
            # The scheduled-publishing job finds the due videos without reading the others.
            models.Index(
                fields=["publish_at"],
                condition=Q(publish_at__isnull=False),
                name="video_scheduled",
            ),
            # The channel dashboard sums these over one owner's videos from the index alone.
            models.Index(
                fields=["owner"],
                include=["views", "likes_count", "comments_count", "visibility"],
                name="video_owner_totals",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="video_title_not_empty"),
            models.CheckConstraint(
                condition=Q(duration__gte=0), name="video_duration_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(visibility__in=Visibility.values), name="video_visibility_valid"
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
    """One row: how many videos are public, for the unfiltered list's ``totalDocs``.

    Counting ~100,000 public rows costs tens of milliseconds per list request; this row is
    kept exact by PostgreSQL triggers (migrations 0004 and 0005) in the same transaction as any insert,
    delete, truncate or change of ``visibility``, whoever writes. On SQLite (local runs)
    nothing maintains it and the list counts rows instead (``videos.selectors``).
    ``manage.py recount_counters`` recomputes it.
    """

    published_videos = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="video_catalog_single_row")]

    def __str__(self):
        return f"{self.published_videos} published videos"
