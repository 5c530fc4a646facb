"""Playlists filled for the read tests: GET /playlist/:playlistId and its /videos list."""

import pytest

from tests.factories import PlaylistFactory, UserFactory, VideoFactory
from tests.playlists.entries import add


@pytest.fixture
def owner():
    return UserFactory(fullname="Pat Owner")


@pytest.fixture
def filled(owner):
    """Three published videos added in an order unlike their creation order, plus the owner's
    own unpublished video and another channel's unpublished video."""
    playlist = PlaylistFactory(owner=owner, name="Favourites", description="The best")
    first, second, third = (VideoFactory(views=v) for v in (10, 20, 30))
    own_private = VideoFactory(owner=owner, is_published=False, views=1000)
    foreign_private = VideoFactory(is_published=False, views=5000)
    entries = [
        add(playlist, third, 1),
        add(playlist, foreign_private, 2),
        add(playlist, first, 3),
        add(playlist, own_private, 4),
        add(playlist, second, 5),
    ]
    return playlist, entries


@pytest.fixture
def long_playlist(owner):
    """101 published videos, with two unpublished videos of another channel added among the
    first hundred. Returns the playlist and the published entries, in the order added."""
    playlist = PlaylistFactory(owner=owner)
    channel = UserFactory()
    published = [VideoFactory(owner=channel) for _ in range(101)]
    hidden = [VideoFactory(owner=channel, is_published=False) for _ in range(2)]
    in_order = [hidden[0], *published[:50], hidden[1], *published[50:]]
    entries = [add(playlist, video, minutes) for minutes, video in enumerate(in_order)]
    return playlist, [e for e in entries if e.video.is_published]
