"""The conventions every route shares: envelope, unknown routes, trailing slashes, request ids."""

import pytest


@pytest.mark.django_db
def test_healthcheck_reports_database_and_cache(api_client):
    response = api_client.get("/api/v1/healthcheck")
    assert response.status_code == 200
    assert response.json() == {
        "statusCode": 200,
        "data": {"status": "ok", "database": "ok", "cache": "ok"},
        "message": "Health check passed!",
        "success": True,
    }
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_trailing_slash_is_optional_without_redirect(api_client):
    assert api_client.get("/api/v1/healthcheck/").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/videos/not-a-uuid/x/y", "/nowhere"])
@pytest.mark.django_db
def test_unknown_route_is_a_json_404(api_client, path):
    response = api_client.get(path)
    assert response.status_code == 404
    body = response.json()
    assert body["success"] is False
    assert body["data"] is None
    assert body["statusCode"] == 404
    assert body["errors"]


@pytest.mark.django_db
def test_wrong_method_is_a_json_405(api_client):
    response = api_client.delete("/api/v1/healthcheck")
    assert response.status_code == 405
    assert response.json()["statusCode"] == 405
    assert response.json()["success"] is False
