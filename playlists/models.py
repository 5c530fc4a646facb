from django.conf import settings
from django.db import models
from django.db.models import Q

from viztube.models import UUIDv7Model


class Playlist(UUIDv7Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="playlists"
    )
    name = models.CharField(max_length=150)
    description = models.CharField(max_length=1000, blank=True, default="")
    videos = models.ManyToManyField("videos.Video", through="PlaylistVideo", related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="playlist_owner_recent")]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="playlist_name_not_empty")
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
