"""GET /playlist/:playlistId: public; visible videos only, in the order they were added."""

from datetime import UTC, datetime, timedelta

import pytest

from playlists.models import PlaylistVideo
from tests.conftest import bearer_client
from tests.factories import PlaylistFactory, PlaylistVideoFactory, UserFactory, VideoFactory
from tests.playlists.shapes import error, iso, page, person, success, video_doc

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def url(playlist_id):
    return f"/api/v1/playlist/{playlist_id}"


def add(playlist, video, minutes):
    entry = PlaylistVideoFactory(playlist=playlist, video=video)
    PlaylistVideo.objects.filter(pk=entry.pk).update(added_at=T0 + timedelta(minutes=minutes))
    entry.refresh_from_db()
    return entry


def entry_doc(entry):
    return {**video_doc(entry.video), "addedAt": iso(entry.added_at)}


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


def test_anonymous_gets_the_visible_videos_in_the_order_added(api_client, owner, filled):
    playlist, entries = filled
    third, _, first, _, second = entries

    response = api_client.get(url(playlist.id))

    assert response.status_code == 200
    playlist.refresh_from_db()
    assert response.json() == success(
        {
            "id": str(playlist.id),
            "name": "Favourites",
            "description": "The best",
            "userId": str(owner.id),
            "createdAt": iso(playlist.created_at),
            "updatedAt": iso(playlist.updated_at),
            "totalVideos": 3,
            "thumbnail": "/media/" + second.video.thumbnail.name,
            "user": person(owner),
            "totalViews": 60,
            "videos": page([entry_doc(e) for e in (third, first, second)], total=3),
        },
        "Playlist fetched successfully",
    )


def test_owner_also_sees_their_own_unpublished_video(owner, filled):
    playlist, entries = filled
    third, _, first, own_private, second = entries

    data = bearer_client(owner).get(url(playlist.id)).json()["data"]

    assert [d["id"] for d in data["videos"]["docs"]] == [
        str(e.video.id) for e in (third, first, own_private, second)
    ]
    assert data["videos"]["docs"][2]["isPublished"] is False
    assert (data["totalVideos"], data["totalViews"]) == (4, 1060)


def test_a_private_videos_owner_sees_it_in_someone_elses_playlist(filled):
    playlist, entries = filled
    foreign_private = entries[1].video

    data = bearer_client(foreign_private.owner).get(url(playlist.id)).json()["data"]

    assert str(foreign_private.id) in [d["id"] for d in data["videos"]["docs"]]
    assert (data["totalVideos"], data["totalViews"]) == (4, 5060)


@pytest.mark.parametrize("client_name", ["other_client", "staff_client"])
def test_other_users_and_staff_see_only_published_videos(request, filled, client_name):
    playlist, _ = filled

    data = request.getfixturevalue(client_name).get(url(playlist.id)).json()["data"]

    assert all(d["isPublished"] for d in data["videos"]["docs"])
    assert (data["totalVideos"], data["totalViews"]) == (3, 60)


def test_videos_are_paginated_by_page_and_limit(api_client, filled):
    playlist, entries = filled

    data = api_client.get(url(playlist.id), {"page": 2, "limit": 2}).json()["data"]

    assert data["videos"] == page([entry_doc(entries[4])], total=3, limit=2, page_number=2)
    assert data["totalVideos"] == 3


def test_page_past_the_end_is_empty_but_keeps_totals(api_client, filled):
    playlist, _ = filled

    data = api_client.get(url(playlist.id), {"page": 9}).json()["data"]

    assert data["videos"] == page([], total=3, page_number=9)
    assert data["totalViews"] == 60


def test_empty_playlist(api_client, owner):
    playlist = PlaylistFactory(owner=owner)

    data = api_client.get(url(playlist.id)).json()["data"]

    assert (data["totalVideos"], data["totalViews"], data["thumbnail"]) == (0, 0, None)
    assert data["videos"] == page([], total=0)


def test_unknown_playlist_is_404(api_client):
    response = api_client.get(url("01970000-0000-7000-8000-000000000000"))

    assert response.status_code == 404
    assert response.json() == error(404, "Playlist not found")


def test_malformed_playlist_id_is_404(api_client):
    assert api_client.get(url("1234")).status_code == 404


@pytest.mark.parametrize("query", [{"page": "-1"}, {"limit": "0"}, {"limit": "1.5"}])
def test_bad_page_parameters_are_400(api_client, filled, query):
    playlist, _ = filled

    response = api_client.get(url(playlist.id), query)

    assert response.status_code == 400
    assert response.json()["success"] is False


def test_query_budget(api_client, filled, django_assert_max_num_queries):
    playlist, _ = filled

    # 1: the playlist with its owner, totalVideos, totalViews and thumbnail (subqueries),
    # 2: the page of videos with their owners. No COUNT: totalVideos is the page's total.
    with django_assert_max_num_queries(2):
        response = api_client.get(url(playlist.id))

    assert len(response.json()["data"]["videos"]["docs"]) == 3


def test_query_budget_signed_in(auth_client, filled, django_assert_max_num_queries):
    playlist, _ = filled

    # 1: the caller (authentication), 2: the playlist, 3: the page of videos.
    with django_assert_max_num_queries(3):
        response = auth_client.get(url(playlist.id))

    assert len(response.json()["data"]["videos"]["docs"]) == 3
