"""A lapsed browser session (a stale accessToken cookie) still reads public pages; a stale
Bearer header, which the client chose to send, still fails."""

import pytest
from rest_framework.test import APIClient

from tests.factories import VideoFactory

pytestmark = pytest.mark.django_db

STALE = "not.a.valid-token"


def test_a_stale_cookie_on_a_public_read_reads_anonymously():
    video = VideoFactory()
    client = APIClient()
    client.cookies["accessToken"] = STALE

    listed = client.get("/api/v1/videos")
    detail = client.get(f"/api/v1/videos/{video.pk}")

    assert listed.status_code == 200
    assert [doc["id"] for doc in listed.json()["data"]["docs"]] == [str(video.pk)]
    assert detail.status_code == 200
    assert detail.json()["data"]["isLiked"] is False


def test_a_stale_cookie_on_a_protected_read_is_a_401_that_says_why():
    client = APIClient()
    client.cookies["accessToken"] = STALE

    response = client.get("/api/v1/user/current-user-details")

    assert response.status_code == 401
    assert response.json()["message"] == "Invalid or expired access token"


def test_a_stale_cookie_on_a_write_is_still_a_401():
    video = VideoFactory()
    client = APIClient()
    client.cookies["accessToken"] = STALE

    response = client.post(
        f"/api/v1/likes/toggle/v/{video.pk}", HTTP_ORIGIN="http://localhost:3000"
    )

    assert response.status_code == 401
    assert response.json()["message"] == "Invalid or expired access token"
    assert video.likes.count() == 0


def test_a_stale_bearer_header_on_a_public_read_is_a_401():
    VideoFactory()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {STALE}")

    response = client.get("/api/v1/videos")

    assert response.status_code == 401
    assert response.json()["message"] == "Invalid or expired access token"
