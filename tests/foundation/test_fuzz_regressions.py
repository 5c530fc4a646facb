"""Regressions found by the schemathesis fuzz (tests/fuzz): shared plumbing and the document."""

import json

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from rest_framework.test import APIClient


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
