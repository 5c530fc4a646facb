"""PATCH /playlist/:playlistId: a partial update by the owner only."""

from datetime import UTC, datetime

import pytest

from playlists.models import Playlist
from tests.factories import PlaylistFactory, PlaylistVideoFactory, UserFactory, VideoFactory
from tests.playlists.shapes import error, playlist_summary, success

pytestmark = pytest.mark.django_db

LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


def url(playlist_id):
    return f"/api/v1/playlist/{playlist_id}"


@pytest.fixture
def playlist(user):
    playlist = PlaylistFactory(owner=user, name="Old name", description="Old description")
    Playlist.objects.filter(pk=playlist.pk).update(created_at=LONG_AGO, updated_at=LONG_AGO)
    playlist.refresh_from_db()
    return playlist


def assert_unchanged(playlist):
    fresh = Playlist.objects.get(pk=playlist.pk)
    assert (fresh.name, fresh.description, fresh.owner_id, fresh.updated_at) == (
        playlist.name,
        playlist.description,
        playlist.owner_id,
        playlist.updated_at,
    )


def test_owner_renames_and_keeps_the_omitted_description(auth_client, playlist):
    video = VideoFactory(thumbnail="thumbnails/in-it.png")
    PlaylistVideoFactory(playlist=playlist, video=video)

    response = auth_client.patch(url(playlist.id), {"name": "  New name "})

    assert response.status_code == 200
    playlist.refresh_from_db()
    assert (playlist.name, playlist.description) == ("New name", "Old description")
    assert playlist.updated_at > LONG_AGO
    assert response.json() == success(
        playlist_summary(
            playlist, total_videos=1, thumbnail="http://testserver/media/thumbnails/in-it.png"
        ),
        "Playlist updated successfully",
    )


def test_owner_changes_only_the_description(auth_client, playlist):
    response = auth_client.patch(url(playlist.id), {"description": "New description"})

    assert response.status_code == 200
    playlist.refresh_from_db()
    assert (playlist.name, playlist.description) == ("Old name", "New description")
    assert response.json()["data"]["description"] == "New description"


def test_owner_clears_the_description(auth_client, playlist):
    response = auth_client.patch(url(playlist.id), {"description": ""})

    assert response.status_code == 200
    assert Playlist.objects.get(pk=playlist.pk).description == ""


def test_empty_patch_changes_nothing(auth_client, playlist):
    response = auth_client.patch(url(playlist.id), {}, format="json")

    assert response.status_code == 200
    assert response.json()["data"]["name"] == "Old name"
    assert_unchanged(playlist)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": ""}, "name", "Playlist name is required"),
        ({"name": "  "}, "name", "Playlist name is required"),
        ({"name": None}, "name", "Playlist name is required"),
        ({"name": "n" * 151}, "name", "Playlist name must be at most 150 characters"),
        ({"name": True}, "name", "Not a valid string."),
        ({"description": "d" * 1001}, "description", "Description must be at most 1000 characters"),
    ],
)
def test_invalid_fields_are_422_and_change_nothing(auth_client, playlist, body, field, message):
    response = auth_client.patch(url(playlist.id), body, format="json")

    assert response.status_code == 422
    assert response.json()["fields"] == {field: [message]}
    assert response.json()["message"] == "Validation failed"
    assert_unchanged(playlist)


def test_a_valid_field_is_not_saved_when_another_is_invalid(auth_client, playlist):
    response = auth_client.patch(
        url(playlist.id), {"name": "Fine", "description": "d" * 1001}, format="json"
    )

    assert response.status_code == 422
    assert_unchanged(playlist)


def test_owner_ids_and_dates_cannot_be_assigned(auth_client, playlist, user):
    thief = UserFactory()

    response = auth_client.patch(
        url(playlist.id),
        {
            "owner": str(thief.id),
            "userId": str(thief.id),
            "id": "01970000-0000-7000-8000-000000000000",
            "createdAt": "2001-01-01T00:00:00.000Z",
            "updatedAt": "2001-01-01T00:00:00.000Z",
            "totalVideos": 50,
        },
        format="json",
    )

    assert response.status_code == 200
    fresh = Playlist.objects.get(pk=playlist.pk)
    assert (fresh.owner_id, fresh.created_at, fresh.updated_at) == (
        user.id,
        LONG_AGO,
        LONG_AGO,
    )
    assert response.json()["data"]["totalVideos"] == 0
    assert Playlist.objects.count() == 1


@pytest.mark.parametrize("client_name", ["other_client", "staff_client"])
def test_other_users_and_staff_are_403(request, playlist, client_name):
    response = request.getfixturevalue(client_name).patch(url(playlist.id), {"name": "Mine now"})

    assert response.status_code == 403
    assert response.json() == error(403, "You are not authorized to update this playlist")
    assert_unchanged(playlist)


def test_anonymous_is_401(api_client, playlist):
    response = api_client.patch(url(playlist.id), {"name": "Anon"})

    assert response.status_code == 401
    assert response.json() == error(401, "Unauthorized request")
    assert_unchanged(playlist)


def test_unknown_playlist_is_404(auth_client):
    response = auth_client.patch(url("01970000-0000-7000-8000-000000000000"), {"name": "X"})

    assert response.status_code == 404
    assert response.json() == error(404, "Playlist not found")


def test_cookie_authenticated_patch_from_a_foreign_origin_is_refused(api_client, playlist, user):
    from tests.conftest import tokens_for

    access, _ = tokens_for(user)
    api_client.cookies["accessToken"] = access

    response = api_client.patch(
        url(playlist.id), {"name": "CSRF"}, HTTP_ORIGIN="https://evil.example"
    )

    assert response.status_code == 403
    assert_unchanged(playlist)
