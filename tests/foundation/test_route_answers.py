"""What a route answers before its view's own work: a malformed id is the resource's own 404,
and a method the route does not have is a 405 whoever asks."""

import pytest

from tests.factories import PlaylistFactory, VideoFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/v1/videos/not-a-uuid", "Video not found"),
        ("/api/v1/comments/not-a-uuid", "Video not found"),
        ("/api/v1/playlist/not-a-uuid", "Playlist not found"),
        ("/api/v1/tweets/user/not-a-uuid", "User not found"),
    ],
)
def test_a_malformed_id_is_the_resources_own_404(api_client, path, message):
    response = api_client.get(path)

    assert response.status_code == 404
    assert response.json()["message"] == message


def test_a_malformed_id_after_a_real_one_names_the_missing_resource(auth_client, user):
    playlist = PlaylistFactory(owner=user)

    response = auth_client.post(f"/api/v1/playlist/{playlist.pk}/12345")

    assert response.status_code == 404
    assert response.json()["message"] == "Video not found"


def test_a_malformed_id_on_a_protected_route_still_asks_for_a_token_first(api_client):
    response = api_client.patch("/api/v1/videos/not-a-uuid", {"title": "x"}, format="json")

    assert response.status_code == 401


def test_a_uuid_without_hyphens_is_the_same_id(api_client):
    video = VideoFactory()

    response = api_client.get(f"/api/v1/videos/{video.pk.hex}")

    assert response.status_code == 200
    assert response.json()["data"]["id"] == str(video.pk)


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/tweets/{id}"), ("put", "/api/v1/videos"), ("post", "/api/v1/videos/{id}")],
)
def test_a_method_the_route_lacks_is_405_even_anonymously(api_client, method, path):
    video = VideoFactory()

    response = getattr(api_client, method)(path.format(id=video.pk))

    assert response.status_code == 405
    assert response.json()["success"] is False
