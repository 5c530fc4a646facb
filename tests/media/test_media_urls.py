"""Local media URLs in API answers are absolute, so a frontend on another origin uses them as is."""

import pytest

from tests.factories import UserFactory, VideoFactory

VIDEOS = "/api/v1/videos"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _two_hosts(settings):
    settings.ALLOWED_HOSTS = ["testserver", "localhost", "api.example.test"]
    settings.MEDIA_BASE_URL = ""


def test_urls_carry_the_origin_the_request_came_to(api_client):
    video = VideoFactory(thumbnail="thumbnails/t.png", video_file="videos/v.mp4")

    doc = api_client.get(VIDEOS, HTTP_HOST="api.example.test").json()["data"]["docs"][0]

    assert doc["thumbnailUrl"] == "http://api.example.test/media/thumbnails/t.png"
    assert doc["videoFileUrl"] == "http://api.example.test/media/videos/v.mp4"
    assert doc["user"]["avatar"] == f"http://api.example.test/media/{video.owner.avatar.name}"


def test_https_requests_get_https_urls(api_client):
    VideoFactory(thumbnail="thumbnails/t.png")

    doc = api_client.get(VIDEOS, secure=True).json()["data"]["docs"][0]

    assert doc["thumbnailUrl"] == "https://testserver/media/thumbnails/t.png"


def test_media_base_url_wins_over_the_request(api_client, settings):
    settings.MEDIA_BASE_URL = "https://media.example.com"
    user = UserFactory()
    api_client.force_authenticate(user)

    data = api_client.get("/api/v1/user/current-user-details").json()["data"]

    assert data["avatar"] == f"https://media.example.com/media/{user.avatar.name}"


def test_a_cached_page_never_answers_another_origin(api_client, settings):
    settings.VIDEO_LIST_CACHE_SECONDS = 10
    VideoFactory(thumbnail="thumbnails/t.png")

    first = api_client.get(VIDEOS, HTTP_HOST="localhost").json()["data"]["docs"][0]
    second = api_client.get(VIDEOS, HTTP_HOST="api.example.test").json()["data"]["docs"][0]
    again = api_client.get(VIDEOS, HTTP_HOST="localhost").json()["data"]["docs"][0]

    assert first["thumbnailUrl"] == "http://localhost/media/thumbnails/t.png"
    assert second["thumbnailUrl"] == "http://api.example.test/media/thumbnails/t.png"
    assert again == first


def test_an_empty_file_field_stays_empty(api_client):
    user = UserFactory(cover_image="")
    api_client.force_authenticate(user)

    assert api_client.get("/api/v1/user/current-user-details").json()["data"]["coverImage"] == ""
