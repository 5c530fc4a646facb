"""GET /playlist/:playlistId: public; ``videos`` is an array of the first 100 visible videos,
in the order they were added, with ``totalVideos`` (all visible videos) beside it."""

import pytest

from tests.conftest import bearer_client
from tests.factories import PlaylistFactory
from tests.playlists.entries import entry_doc
from tests.playlists.shapes import error, iso, person, success

pytestmark = pytest.mark.django_db


def url(playlist_id):
    return f"/api/v1/playlist/{playlist_id}"


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
            "visibility": "public",
            "userId": str(owner.id),
            "createdAt": iso(playlist.created_at),
            "updatedAt": iso(playlist.updated_at),
            "totalVideos": 3,
            "thumbnail": "http://testserver/media/" + second.video.thumbnail.name,
            "user": person(owner),
            "totalViews": 60,
            "videos": [entry_doc(e) for e in (third, first, second)],
        },
        "Playlist fetched successfully",
    )


def test_owner_also_sees_their_own_unpublished_video(owner, filled):
    playlist, entries = filled
    third, _, first, own_private, second = entries

    data = bearer_client(owner).get(url(playlist.id)).json()["data"]

    assert [d["id"] for d in data["videos"]] == [
        str(e.video.id) for e in (third, first, own_private, second)
    ]
    assert data["videos"][2]["isPublished"] is False
    assert (data["totalVideos"], data["totalViews"]) == (4, 1060)


def test_a_private_videos_owner_sees_it_in_someone_elses_playlist(filled):
    playlist, entries = filled
    foreign_private = entries[1].video

    data = bearer_client(foreign_private.owner).get(url(playlist.id)).json()["data"]

    assert str(foreign_private.id) in [d["id"] for d in data["videos"]]
    assert (data["totalVideos"], data["totalViews"]) == (4, 5060)


@pytest.mark.parametrize("client_name", ["other_client", "staff_client"])
def test_other_users_and_staff_see_only_published_videos(request, filled, client_name):
    playlist, _ = filled

    data = request.getfixturevalue(client_name).get(url(playlist.id)).json()["data"]

    assert len(data["videos"]) == 3
    assert all(d["isPublished"] for d in data["videos"])
    assert (data["totalVideos"], data["totalViews"]) == (3, 60)


def test_the_first_100_visible_videos_and_the_count_of_all(api_client, long_playlist):
    playlist, published = long_playlist  # 101 published videos, 2 hidden ones among them

    data = api_client.get(url(playlist.id)).json()["data"]

    assert isinstance(data["videos"], list)
    assert data["videos"] == [entry_doc(e) for e in published[:100]]
    assert data["totalVideos"] == 101
    assert str(published[100].video.id) not in {d["id"] for d in data["videos"]}


def test_page_and_limit_are_not_parameters_of_the_detail(api_client, filled):
    playlist, _ = filled
    whole = api_client.get(url(playlist.id)).json()

    for query in ({"page": 2, "limit": 1}, {"page": "-1"}, {"limit": "x"}):
        response = api_client.get(url(playlist.id), query)

        assert response.status_code == 200, query
        assert response.json() == whole, query


def test_empty_playlist(api_client, owner):
    playlist = PlaylistFactory(owner=owner)

    data = api_client.get(url(playlist.id)).json()["data"]

    assert (data["totalVideos"], data["totalViews"], data["thumbnail"]) == (0, 0, None)
    assert data["videos"] == []


def test_unknown_playlist_is_404(api_client):
    response = api_client.get(url("01970000-0000-7000-8000-000000000000"))

    assert response.status_code == 404
    assert response.json() == error(404, "Playlist not found")


def test_malformed_playlist_id_is_404(api_client):
    assert api_client.get(url("1234")).status_code == 404


def test_query_budget(api_client, filled, django_assert_num_queries):
    playlist, _ = filled

    # 1 the playlist with its owner, totalVideos, totalViews and thumbnail (subqueries)
    # 2 its first 100 visible videos with their owners. No COUNT: totalVideos is the count.
    with django_assert_num_queries(2):
        response = api_client.get(url(playlist.id))

    assert len(response.json()["data"]["videos"]) == 3


def test_query_budget_signed_in(auth_client, filled, django_assert_num_queries):
    playlist, _ = filled

    # 1 the caller (authentication)  2 the playlist  3 its first 100 visible videos
    with django_assert_num_queries(3):
        response = auth_client.get(url(playlist.id))

    assert len(response.json()["data"]["videos"]) == 3


def test_query_budget_of_101_videos(api_client, long_playlist, django_assert_num_queries):
    playlist, _ = long_playlist

    # 1 the playlist  2 its first 100 visible videos (one LIMIT query, however long the list)
    with django_assert_num_queries(2):
        response = api_client.get(url(playlist.id))

    assert len(response.json()["data"]["videos"]) == 100


def test_query_budget_of_an_empty_playlist(api_client, owner, django_assert_num_queries):
    playlist = PlaylistFactory(owner=owner)

    # 1 the playlist; its totalVideos is 0, so no videos are read
    with django_assert_num_queries(1):
        response = api_client.get(url(playlist.id))

    assert response.json()["data"]["videos"] == []
