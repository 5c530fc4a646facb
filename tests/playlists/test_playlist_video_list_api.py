"""GET /playlist/:playlistId/videos: the playlist's whole list of visible videos, in the order
they were added, paginated like every list; public, with the detail's visibility and 404s."""

import pytest

from playlists.models import PlaylistVideo
from tests.conftest import bearer_client
from tests.factories import PlaylistFactory
from tests.playlists.entries import entry_doc
from tests.playlists.shapes import error, page, success

pytestmark = pytest.mark.django_db

MESSAGE = "Playlist videos fetched successfully"


def url(playlist_id):
    return f"/api/v1/playlist/{playlist_id}/videos"


def test_anonymous_gets_a_page_of_the_visible_videos_in_the_order_added(api_client, filled):
    playlist, entries = filled
    third, _, first, _, second = entries

    response = api_client.get(url(playlist.id))

    assert response.status_code == 200
    assert response.json() == success(
        page([entry_doc(e) for e in (third, first, second)], total=3), MESSAGE
    )


def test_with_and_without_a_trailing_slash(api_client, filled):
    playlist, _ = filled

    assert api_client.get(url(playlist.id) + "/").json() == api_client.get(url(playlist.id)).json()


def test_owner_also_sees_their_own_unpublished_video(owner, filled):
    playlist, entries = filled
    third, _, first, own_private, second = entries

    data = bearer_client(owner).get(url(playlist.id)).json()["data"]

    assert data == page([entry_doc(e) for e in (third, first, own_private, second)], total=4)


def test_a_private_videos_owner_sees_it_in_someone_elses_playlist(filled):
    playlist, entries = filled
    foreign_private = entries[1]

    data = bearer_client(foreign_private.video.owner).get(url(playlist.id)).json()["data"]

    assert entry_doc(foreign_private) in data["docs"]
    assert data["totalDocs"] == 4


@pytest.mark.parametrize("client_name", ["other_client", "staff_client"])
def test_other_users_and_staff_see_only_published_videos(request, filled, client_name):
    playlist, entries = filled
    third, _, first, _, second = entries

    data = request.getfixturevalue(client_name).get(url(playlist.id)).json()["data"]

    assert data == page([entry_doc(e) for e in (third, first, second)], total=3)


def test_paginated_by_page_and_limit(api_client, filled):
    playlist, entries = filled

    data = api_client.get(url(playlist.id), {"page": 2, "limit": 2}).json()["data"]

    assert data == page([entry_doc(entries[4])], total=3, limit=2, page_number=2)


def test_page_past_the_end_is_empty_but_keeps_the_total(api_client, filled):
    playlist, _ = filled

    data = api_client.get(url(playlist.id), {"page": 9}).json()["data"]

    assert data == page([], total=3, page_number=9)


def test_the_whole_list_goes_past_the_details_100(api_client, long_playlist):
    playlist, published = long_playlist  # 101 published videos, 2 hidden ones among them

    first = api_client.get(url(playlist.id), {"limit": 100}).json()["data"]
    second = api_client.get(url(playlist.id), {"limit": 100, "page": 2}).json()["data"]

    assert first == page([entry_doc(e) for e in published[:100]], total=101, limit=100)
    assert second == page([entry_doc(published[100])], total=101, limit=100, page_number=2)


def test_a_limit_over_100_is_clamped(api_client, long_playlist):
    playlist, _ = long_playlist

    data = api_client.get(url(playlist.id), {"limit": 500}).json()["data"]

    assert (data["limit"], len(data["docs"]), data["totalPages"]) == (100, 100, 2)


def test_the_first_page_of_100_is_the_details_videos(api_client, long_playlist):
    playlist, _ = long_playlist

    listed = api_client.get(url(playlist.id), {"limit": 100}).json()["data"]
    detail = api_client.get(f"/api/v1/playlist/{playlist.id}").json()["data"]

    assert listed["docs"] == detail["videos"]
    assert listed["totalDocs"] == detail["totalVideos"]


def test_empty_playlist(api_client, owner):
    playlist = PlaylistFactory(owner=owner)

    response = api_client.get(url(playlist.id))

    assert response.json() == success(page([], total=0), MESSAGE)


def test_unknown_playlist_is_404(api_client):
    response = api_client.get(url("01970000-0000-7000-8000-000000000000"))

    assert response.status_code == 404
    assert response.json() == error(404, "Playlist not found")


def test_malformed_playlist_id_is_404(api_client):
    response = api_client.get(url("1234"))

    assert response.status_code == 404
    assert response.json()["success"] is False


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"page": "-1"}, "'page' must be a positive integer"),
        ({"limit": "0"}, "'limit' must be a positive integer"),
        ({"limit": "1.5"}, "'limit' must be a positive integer"),
        ({"page": "10000001"}, "'page' is too large"),
    ],
)
def test_bad_page_parameters_are_400(api_client, filled, query, message):
    playlist, _ = filled

    response = api_client.get(url(playlist.id), query)

    assert response.status_code == 400
    assert response.json() == error(400, message)


def test_writes_are_not_routes_here(auth_client, user):
    playlist = PlaylistFactory(owner=user)

    assert auth_client.post(url(playlist.id), {}).status_code == 405
    assert auth_client.delete(url(playlist.id)).status_code == 405
    assert not PlaylistVideo.objects.exists()


def test_query_budget(api_client, filled, django_assert_num_queries):
    playlist, _ = filled

    # 1 the playlist with the count of its visible videos (404 when it is missing; no
    #   separate COUNT)  2 the page of videos with their owners
    with django_assert_num_queries(2):
        response = api_client.get(url(playlist.id))

    assert len(response.json()["data"]["docs"]) == 3


def test_query_budget_signed_in(auth_client, filled, django_assert_num_queries):
    playlist, _ = filled

    # 1 the caller (authentication)  2 the playlist with its count  3 the page of videos
    with django_assert_num_queries(3):
        response = auth_client.get(url(playlist.id))

    assert len(response.json()["data"]["docs"]) == 3


def test_query_budget_of_a_page_past_the_end(api_client, filled, django_assert_num_queries):
    playlist, _ = filled

    # 1 the playlist with its count, which says that page 9 holds no rows to read
    with django_assert_num_queries(1):
        response = api_client.get(url(playlist.id), {"page": 9})

    assert response.json()["data"]["docs"] == []


def test_query_budget_of_an_unknown_playlist(api_client, django_assert_num_queries):
    # 1 the playlist with its count: no row, 404
    with django_assert_num_queries(1):
        response = api_client.get(url("01970000-0000-7000-8000-000000000000"))

    assert response.status_code == 404
