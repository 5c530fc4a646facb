"""GET /playlist/user/:userId: a user's playlists, public, paginated, newest first."""

from datetime import UTC, datetime, timedelta

import pytest

from playlists.models import Playlist, PlaylistVideo
from tests.conftest import bearer_client
from tests.factories import PlaylistFactory, PlaylistVideoFactory, UserFactory, VideoFactory
from tests.playlists.shapes import error, page, playlist_summary, success

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def url(user_id):
    return f"/api/v1/playlist/user/{user_id}"


def add(playlist, video, minutes):
    """An entry added ``minutes`` after T0 (explicit times: ordering must not depend on luck)."""
    entry = PlaylistVideoFactory(playlist=playlist, video=video)
    PlaylistVideo.objects.filter(pk=entry.pk).update(added_at=T0 + timedelta(minutes=minutes))
    return entry


def created_at(playlist, minutes):
    Playlist.objects.filter(pk=playlist.pk).update(created_at=T0 + timedelta(minutes=minutes))


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def mixed_playlist(owner):
    """A playlist holding, in order of addition: a published video, the owner's own unpublished
    video, and another channel's unpublished video (added last)."""
    playlist = PlaylistFactory(owner=owner, name="Mixed", description="all sorts")
    published = VideoFactory(thumbnail="thumbnails/published.png")
    own_private = VideoFactory(owner=owner, is_published=False, thumbnail="thumbnails/own.png")
    foreign_private = VideoFactory(is_published=False, thumbnail="thumbnails/foreign.png")
    add(playlist, published, 1)
    add(playlist, own_private, 2)
    add(playlist, foreign_private, 3)
    return playlist, published, own_private, foreign_private


def test_anonymous_sees_published_videos_only(api_client, owner, mixed_playlist):
    playlist, *_ = mixed_playlist

    response = api_client.get(url(owner.id))

    assert response.status_code == 200
    assert response.json() == success(
        page(
            [
                playlist_summary(
                    playlist,
                    total_videos=1,
                    thumbnail="http://testserver/media/thumbnails/published.png",
                )
            ],
            total=1,
        ),
        "User playlists fetched successfully",
    )


def test_owner_sees_own_unpublished_video_but_not_someone_elses(owner, mixed_playlist):
    response = bearer_client(owner).get(url(owner.id))

    doc = response.json()["data"]["docs"][0]
    assert (doc["totalVideos"], doc["thumbnail"]) == (
        2,
        "http://testserver/media/thumbnails/own.png",
    )


def test_the_private_videos_owner_sees_it_in_anyones_playlist(owner, mixed_playlist):
    *_, foreign_private = mixed_playlist

    response = bearer_client(foreign_private.owner).get(url(owner.id))

    doc = response.json()["data"]["docs"][0]
    assert (doc["totalVideos"], doc["thumbnail"]) == (
        2,
        "http://testserver/media/thumbnails/foreign.png",
    )


@pytest.mark.parametrize("client_name", ["other_client", "staff_client"])
def test_other_users_and_staff_see_what_anonymous_sees(request, owner, mixed_playlist, client_name):
    client = request.getfixturevalue(client_name)

    response = client.get(url(owner.id))

    doc = response.json()["data"]["docs"][0]
    assert (doc["totalVideos"], doc["thumbnail"]) == (
        1,
        "http://testserver/media/thumbnails/published.png",
    )


def test_thumbnail_is_the_most_recently_added_visible_video(api_client, owner):
    playlist = PlaylistFactory(owner=owner)
    newest_video = VideoFactory(thumbnail="thumbnails/newest-video.png")
    older_video = VideoFactory(thumbnail="thumbnails/older-video.png")
    # The older video was added last: "most recent" is about the addition, not the video.
    add(playlist, newest_video, 1)
    add(playlist, older_video, 2)

    response = api_client.get(url(owner.id))

    assert (
        response.json()["data"]["docs"][0]["thumbnail"]
        == "http://testserver/media/thumbnails/older-video.png"
    )


def test_empty_playlist_has_no_thumbnail(api_client, owner):
    playlist = PlaylistFactory(owner=owner)

    response = api_client.get(url(owner.id))

    assert response.json()["data"]["docs"] == [
        playlist_summary(playlist, total_videos=0, thumbnail=None)
    ]


def test_newest_first_and_paginated(api_client, owner):
    playlists = [PlaylistFactory(owner=owner, name=f"P{i}") for i in range(5)]
    for minutes, playlist in enumerate(playlists):
        created_at(playlist, minutes)
    PlaylistFactory(name="Someone else's")

    first = api_client.get(url(owner.id), {"limit": 2})
    third = api_client.get(url(owner.id), {"limit": 2, "page": 3})

    assert [d["name"] for d in first.json()["data"]["docs"]] == ["P4", "P3"]
    assert first.json()["data"] == page(first.json()["data"]["docs"], total=5, limit=2)
    assert third.json()["data"]["docs"][0]["name"] == "P0"
    assert third.json()["data"] == page(
        third.json()["data"]["docs"], total=5, limit=2, page_number=3
    )


def test_user_without_playlists_gets_an_empty_page(api_client, owner):
    response = api_client.get(url(owner.id))

    assert response.json() == success(page([], total=0), "User playlists fetched successfully")


def test_unknown_user_is_404(api_client):
    response = api_client.get(url("01970000-0000-7000-8000-000000000000"))

    assert response.status_code == 404
    assert response.json() == error(404, "User not found")


def test_malformed_user_id_is_404(api_client):
    response = api_client.get(url("not-a-uuid"))

    assert response.status_code == 404
    assert response.json()["success"] is False


@pytest.mark.parametrize("query", [{"page": "0"}, {"limit": "-1"}, {"page": "x"}])
def test_bad_page_parameters_are_400(api_client, owner, query):
    response = api_client.get(url(owner.id), query)

    assert response.status_code == 400
    assert response.json()["success"] is False


def test_writes_are_not_routes_here(auth_client, owner):
    response = auth_client.post(url(owner.id), {"name": "x"})

    assert response.status_code == 405
    assert not Playlist.objects.exists()


def test_query_budget(api_client, owner, django_assert_num_queries):
    for _ in range(3):
        playlist = PlaylistFactory(owner=owner)
        for minutes in range(3):
            add(playlist, VideoFactory(), minutes)

    # 1 does the user exist  2 COUNT for pagination
    # 3 the page of playlists (totalVideos and thumbnail are subqueries of the same query)
    with django_assert_num_queries(3):
        response = api_client.get(url(owner.id))

    assert [d["totalVideos"] for d in response.json()["data"]["docs"]] == [3, 3, 3]


def test_query_budget_signed_in(auth_client, owner, django_assert_num_queries):
    for _ in range(3):
        add(PlaylistFactory(owner=owner), VideoFactory(), 1)

    # 1 the caller (authentication)  2 does the user exist  3 COUNT  4 the page of playlists
    with django_assert_num_queries(4):
        response = auth_client.get(url(owner.id))

    assert len(response.json()["data"]["docs"]) == 3
