"""Regressions found by the schemathesis fuzz (tests/fuzz): shared plumbing and the document."""

import json

import pytest
from django.apps import apps
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from rest_framework.test import APIClient

from tests.factories import PlaylistFactory, VideoFactory


@pytest.fixture(scope="module")
def document():
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "patch", "delete"])
def test_unsafe_request_to_an_unknown_route_is_a_json_404_not_a_csrf_403(method):
    # Real clients go through Django's CSRF middleware (APIClient skips it unless asked).
    client = APIClient(enforce_csrf_checks=True)

    response = getattr(client, method)("/api/v1/no-such-route/", {}, format="json")

    assert response.status_code == 404
    assert response.json()["message"] == f"Route not found: {method.upper()} /api/v1/no-such-route/"


def test_pagination_parameters_are_documented_as_positive_integers(document):
    parameters = {
        p["name"]: p["schema"] for p in document["paths"]["/api/v1/videos/"]["get"]["parameters"]
    }
    assert parameters["page"] == {"type": "integer", "minimum": 1, "maximum": 10_000_000}
    assert parameters["limit"] == {"type": "integer", "minimum": 1}
    assert parameters["sortType"]["pattern"] == r"^\s*([Aa][Ss][Cc]|[Dd][Ee][Ss][Cc])\s*$"
    assert parameters["query"]["maxLength"] == 200


def test_healthcheck_documents_its_envelope(document):
    responses = document["paths"]["/api/v1/healthcheck/"]["get"]["responses"]
    ref = responses["200"]["content"]["application/json"]["schema"]["$ref"]
    envelope = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(envelope["properties"]) == {"statusCode", "data", "message", "success"}
    assert "503" in responses


def test_patch_bodies_validated_in_full_keep_their_required_fields(document):
    schemas = document["components"]["schemas"]
    assert schemas["CommentUpdateInputRequest"]["required"] == ["content"]
    assert schemas["TweetUpdateInputRequest"]["required"] == ["content"]
    # A true partial update stays all-optional.
    assert "required" not in schemas["PatchedPlaylistUpdateInputRequest"]


NO_FORM_FIELD = "The multipart body holds no named form field"
# A body schemathesis sent for an array where the document wants an object: one part, no headers.
NAMELESS_PART = b"--XyZ\r\n[]--XyZ--\r\n"
# Routes that read multipart, among them views listing DRF's own MultiPartParser (register,
# avatar, cover image) and views on the default parsers.
MULTIPART_ROUTES = [
    ("post", "/api/v1/user/register", False),
    ("patch", "/api/v1/user/update-avatar", True),
    ("patch", "/api/v1/user/update-cover-image", True),
    ("post", "/api/v1/videos", True),
    ("patch", "/api/v1/videos/{video}", True),
    ("post", "/api/v1/tweets", True),
    ("post", "/api/v1/comments/{video}", True),
    ("patch", "/api/v1/playlist/{playlist}", True),
]


def _table_rows():
    return {
        model._meta.label: sorted(map(repr, model.objects.values_list()))
        for model in apps.get_models()
    }


@pytest.fixture
def owned(user):
    return {"video": VideoFactory(owner=user).pk, "playlist": PlaylistFactory(owner=user).pk}


@pytest.mark.django_db
@pytest.mark.parametrize("body", [NAMELESS_PART, b"not multipart at all", b"--Other--\r\n"])
@pytest.mark.parametrize(
    ("method", "path", "logged_in"), MULTIPART_ROUTES, ids=[r[1] for r in MULTIPART_ROUTES]
)
def test_a_multipart_body_without_a_named_field_is_a_400_and_changes_nothing(
    api_client, auth_client, owned, method, path, logged_in, body
):
    """It used to read as an empty form: a playlist PATCH answered 200 and changed nothing."""
    client = auth_client if logged_in else api_client
    before = _table_rows()

    response = getattr(client, method)(
        path.format(**owned), body, content_type="multipart/form-data; boundary=XyZ"
    )

    assert response.status_code == 400, response.content
    assert response.json()["message"] == NO_FORM_FIELD
    assert response.json()["errors"] == [NO_FORM_FIELD]
    assert _table_rows() == before


@pytest.mark.django_db
def test_a_named_field_beside_a_nameless_part_is_read(auth_client, owned):
    body = (
        b"--XyZ\r\n[]\r\n"
        b'--XyZ\r\nContent-Disposition: form-data; name="name"\r\n\r\nRenamed\r\n--XyZ--\r\n'
    )

    response = auth_client.patch(
        f"/api/v1/playlist/{owned['playlist']}",
        body,
        content_type="multipart/form-data; boundary=XyZ",
    )

    assert response.status_code == 200, response.content
    assert response.json()["data"]["name"] == "Renamed"


@pytest.mark.django_db
@pytest.mark.parametrize("body", [b"", b"--XyZ--\r\n"])
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("patch", "/api/v1/playlist/{playlist}", 200), ("post", "/api/v1/videos", 422)],
)
def test_an_empty_body_or_an_empty_form_is_still_read_as_no_fields(
    auth_client, owned, body, method, path, status
):
    """An empty ``FormData`` (only the closing boundary) is a form without fields: a PATCH
    changes nothing, a publish names the missing fields."""
    response = getattr(auth_client, method)(
        path.format(**owned), body, content_type="multipart/form-data; boundary=XyZ"
    )

    assert response.status_code == status, response.content
    if status == 422:
        assert {"title", "videoFile"} <= set(response.json()["fields"])
