"""Playlist entries with explicit addition times (ordering must not depend on luck)."""

from datetime import UTC, datetime, timedelta

from playlists.models import PlaylistVideo
from tests.factories import PlaylistVideoFactory
from tests.playlists.shapes import iso, video_doc

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def add(playlist, video, minutes):
    """An entry of ``video`` added ``minutes`` after T0."""
    entry = PlaylistVideoFactory(playlist=playlist, video=video)
    PlaylistVideo.objects.filter(pk=entry.pk).update(added_at=T0 + timedelta(minutes=minutes))
    entry.refresh_from_db()
    return entry


def entry_doc(entry):
    """A video as a playlist shows it: the video list shape plus when it was added."""
    return {**video_doc(entry.video), "addedAt": iso(entry.added_at)}
