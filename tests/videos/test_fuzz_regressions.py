"""Regressions found by the schemathesis fuzz (tests/fuzz)."""

import pytest

from tests.factories import VideoFactory


@pytest.mark.django_db
def test_blank_title_in_a_multipart_patch_is_refused_as_in_json(auth_client, user):
    # DRF reads an empty optional form field as "omitted": the blank title was silently ignored.
    video = VideoFactory(owner=user, title="Kept", description="text")

    response = auth_client.patch(
        f"/api/v1/videos/{video.id}", {"title": "", "description": ""}, format="multipart"
    )

    assert response.status_code == 422
    assert response.json()["fields"] == {"title": ["Title cannot be empty"]}
    video.refresh_from_db()
    assert (video.title, video.description) == ("Kept", "text")
