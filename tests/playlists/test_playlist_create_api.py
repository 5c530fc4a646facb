"""POST /playlist: create a playlist of one's own."""

import pytest

from playlists.models import Playlist
from tests.factories import UserFactory
from tests.playlists.shapes import error, field_error, playlist_summary, success

pytestmark = pytest.mark.django_db

URL = "/api/v1/playlist"


def test_owner_creates_a_playlist_with_trimmed_name(auth_client, user):
    response = auth_client.post(URL, {"name": "  Road trip  ", "description": " Songs "})

    assert response.status_code == 201
    playlist = Playlist.objects.get()
    assert playlist.owner == user
    assert playlist.name == "Road trip"
    assert playlist.description == "Songs"
    assert response.json() == success(
        playlist_summary(playlist, total_videos=0, thumbnail=None),
        "Playlist created successfully",
        status=201,
    )


def test_description_defaults_to_empty(auth_client):
    response = auth_client.post(URL, {"name": "Later"})

    assert response.status_code == 201
    assert response.json()["data"]["description"] == ""
    assert Playlist.objects.get().description == ""


def test_limits_are_inclusive(auth_client):
    response = auth_client.post(URL, {"name": "n" * 150, "description": "d" * 1000})

    assert response.status_code == 201
    playlist = Playlist.objects.get()
    assert (len(playlist.name), len(playlist.description)) == (150, 1000)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "name", "Playlist name is required"),
        ({"name": ""}, "name", "Playlist name is required"),
        ({"name": "   "}, "name", "Playlist name is required"),
        ({"name": None}, "name", "Playlist name is required"),
        ({"name": "n" * 151}, "name", "Playlist name must be at most 150 characters"),
        ({"name": 42}, "name", "Not a valid string."),
        ({"name": ["a"]}, "name", "Not a valid string."),
        (
            {"name": "ok", "description": "d" * 1001},
            "description",
            "Description must be at most 1000 characters",
        ),
        ({"name": "ok", "description": None}, "description", "This field may not be null."),
        ({"name": "ok", "description": {"a": 1}}, "description", "Not a valid string."),
    ],
)
def test_invalid_fields_are_422_and_create_nothing(auth_client, body, field, message):
    response = auth_client.post(URL, body, format="json")

    assert response.status_code == 422
    assert response.json() == field_error(field, message)
    assert not Playlist.objects.exists()


def test_malformed_json_is_400_and_creates_nothing(auth_client):
    response = auth_client.generic("POST", URL, '{"name": "broken', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["success"] is False
    assert not Playlist.objects.exists()


def test_a_body_that_is_not_an_object_is_a_malformed_request(auth_client):
    response = auth_client.post(URL, ["name"], format="json")

    assert response.status_code == 400
    assert response.json()["message"] == "The JSON body must be an object"
    assert not Playlist.objects.exists()


def test_owner_and_read_only_fields_cannot_be_assigned(auth_client, user):
    someone_else = UserFactory()
    response = auth_client.post(
        URL,
        {
            "name": "Mine",
            "owner": str(someone_else.id),
            "userId": str(someone_else.id),
            "id": "01970000-0000-7000-8000-000000000000",
            "createdAt": "2001-01-01T00:00:00.000Z",
            "totalVideos": 99,
        },
        format="json",
    )

    assert response.status_code == 201
    playlist = Playlist.objects.get()
    assert playlist.owner == user
    assert str(playlist.id) != "01970000-0000-7000-8000-000000000000"
    assert playlist.created_at.year > 2001
    assert response.json()["data"]["userId"] == str(user.id)
    assert response.json()["data"]["totalVideos"] == 0


def test_anonymous_cannot_create(api_client):
    response = api_client.post(URL, {"name": "Nope"})

    assert response.status_code == 401
    assert response.json() == error(401, "Unauthorized request")
    assert not Playlist.objects.exists()


def test_staff_creates_a_playlist_of_their_own(staff_client, staff_user):
    response = staff_client.post(URL, {"name": "Moderation queue"})

    assert response.status_code == 201
    assert Playlist.objects.get().owner == staff_user


def test_put_is_not_a_route(auth_client):
    response = auth_client.put(URL, {"name": "x"})

    assert response.status_code == 405
    assert not Playlist.objects.exists()
