"""Regressions found by the schemathesis fuzz (tests/fuzz)."""

import pytest

from tests.factories import PlaylistFactory


@pytest.mark.django_db
def test_blank_name_in_a_multipart_patch_is_refused_as_in_json(auth_client, user):
    # DRF reads an empty optional form field as "omitted": the blank name was silently ignored.
    playlist = PlaylistFactory(owner=user, name="Mine", description="text")

    response = auth_client.patch(
        f"/api/v1/playlist/{playlist.id}", {"name": "", "description": ""}, format="multipart"
    )

    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"name"}
    playlist.refresh_from_db()
    assert (playlist.name, playlist.description) == ("Mine", "text")
