from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q

from media.storage import get_video_storage
from viztube.models import UUIDv7Model


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
    is_published = models.BooleanField(default=True)
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
                fields=["-created_at", "-id"],
                condition=Q(is_published=True),
                name="video_pub_created",
            ),
            models.Index(
                fields=["-views", "-id"], condition=Q(is_published=True), name="video_pub_views"
            ),
            models.Index(
                fields=["duration", "id"], condition=Q(is_published=True), name="video_pub_duration"
            ),
            models.Index(
                fields=["title", "id"], condition=Q(is_published=True), name="video_pub_title"
            ),
            # The channel dashboard sums these over one owner's videos from the index alone.
            models.Index(
                fields=["owner"],
                include=["views", "likes_count", "comments_count", "is_published"],
                name="video_owner_stats",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="video_title_not_empty"),
            models.CheckConstraint(
                condition=Q(duration__gte=0), name="video_duration_non_negative"
            ),
        ]

    def __str__(self):
        return self.title


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
    """One row: how many videos are published, for the unfiltered list's ``totalDocs``.

    Counting ~100,000 published rows costs tens of milliseconds per list request; this row is
    kept exact by PostgreSQL triggers (migration 0004) in the same transaction as any insert,
    delete, truncate or change of ``is_published``, whoever writes. On SQLite (local runs)
    nothing maintains it and the list counts rows instead (``videos.selectors``).
    ``manage.py recount_counters`` recomputes it.
    """

    published_videos = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="video_catalog_single_row")]

    def __str__(self):
        return f"{self.published_videos} published videos"
