"""Regressions found by the schemathesis fuzz (tests/fuzz)."""

import pytest

from tests.factories import VideoFactory


@pytest.mark.django_db
def test_stats_count_published_videos_without_a_server_error(auth_client, user):
    # A filtered COUNT(*) made every GET /dashboard/stats a 500.
    VideoFactory.create_batch(2, owner=user, views=3)
    VideoFactory(owner=user, is_published=False, views=4)
    VideoFactory(views=100)  # someone else's

    response = auth_client.get("/api/v1/dashboard/stats")

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["totalVideos"] == 3
    assert data["publishedVideos"] == 2
    assert data["totalViews"] == 10
