"""Reads of videos. Visibility lives here and only here: a video is visible to everyone when
published, and to its owner always. Hidden and missing are the same 404 (never reveal that a
private video exists)."""

from django.db.models import Q
from rest_framework.exceptions import NotFound

from videos.models import Video

VIDEO_NOT_FOUND = "Video not found"


def visible_videos_q(viewer, prefix=""):
    """A ``Q`` selecting the videos ``viewer`` may see; ``prefix`` reaches them through a
    relation (``prefix="video__"`` on likes, playlist entries, watch history)."""
    condition = Q(**{f"{prefix}is_published": True})
    if viewer is not None and viewer.is_authenticated:
        condition |= Q(**{f"{prefix}owner_id": viewer.pk})
    return condition


def visible_videos(viewer):
    return Video.objects.filter(visible_videos_q(viewer))


def video_get_for_viewer(video_id, viewer, queryset=None):
    """The video ``video_id`` if ``viewer`` may see it, else 404 ``Video not found``."""
    queryset = (queryset if queryset is not None else Video.objects).filter(
        visible_videos_q(viewer)
    )
    try:
        return queryset.get(pk=video_id)
    except (Video.DoesNotExist, ValueError):
        raise NotFound(VIDEO_NOT_FOUND) from None
