from django.conf import settings
from django.db import models
from django.db.models import Q

from viztube.models import UUIDv7Model, Visibility


class Playlist(UUIDv7Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="playlists"
    )
    name = models.CharField(max_length=150)
    description = models.CharField(max_length=1000, blank=True, default="")
    # db_default too: rows inserted without the column (the previous release while a deploy
    # rolls, a bulk COPY) are public, as every playlist was before.
    visibility = models.CharField(
        max_length=8,
        choices=Visibility.choices,
        default=Visibility.PUBLIC,
        db_default=Visibility.PUBLIC,
    )
    videos = models.ManyToManyField("videos.Video", through="PlaylistVideo", related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="playlist_owner_recent"),
            # A user's list as others see it, and its COUNT (index-only): the public ones.
            models.Index(
                fields=["owner", "-created_at", "-id"],
                condition=Q(visibility=Visibility.PUBLIC),
                name="playlist_owner_public",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="playlist_name_not_empty"),
            models.CheckConstraint(
                condition=Q(visibility__in=Visibility.values), name="playlist_visibility_valid"
            ),
        ]

    def __str__(self):
        return self.name


class PlaylistVideo(UUIDv7Model):
    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="entries")
    video = models.ForeignKey(
        "videos.Video", on_delete=models.CASCADE, related_name="playlist_entries"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at"]
        indexes = [models.Index(fields=["playlist", "added_at"], name="playlist_entry_order")]
        constraints = [
            models.UniqueConstraint(fields=["playlist", "video"], name="playlist_video_unique")
        ]
