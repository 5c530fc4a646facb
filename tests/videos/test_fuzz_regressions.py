"""Regressions found by the schemathesis fuzz (tests/fuzz)."""

import pytest
from drf_spectacular.generators import SchemaGenerator

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


@pytest.mark.django_db
def test_json_patch_with_numbers_for_title_or_description_is_refused(auth_client, user):
    video = VideoFactory(owner=user, title="Kept", description="text")

    for body in ({"title": 0}, {"description": 7}, {"title": True}):
        response = auth_client.patch(f"/api/v1/videos/{video.id}", body, format="json")
        assert response.status_code == 422, body
        assert set(response.json()["fields"]) == set(body)

    video.refresh_from_db()
    assert (video.title, video.description) == ("Kept", "text")


def test_json_patch_body_documents_no_thumbnail():
    # A thumbnail is a file: in JSON it can only be a string, which is a 422.
    operation = SchemaGenerator().get_schema(public=True)["paths"]["/api/v1/videos/{video_id}/"]
    content = operation["patch"]["requestBody"]["content"]
    json_ref = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    multipart_ref = content["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    schemas = SchemaGenerator().get_schema(public=True)["components"]["schemas"]
    assert "thumbnail" not in schemas[json_ref]["properties"]
    assert "thumbnail" in schemas[multipart_ref]["properties"]
