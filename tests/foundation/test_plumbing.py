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


@pytest.mark.django_db
def test_healthcheck_is_503_when_the_database_does_not_answer(api_client, monkeypatch):
    from django.db import OperationalError

    from viztube import views

    def database_down():
        raise OperationalError("connection refused")

    monkeypatch.setattr(views, "_database_ok", database_down)
    response = api_client.get("/api/v1/healthcheck")
    assert response.status_code == 503
    body = response.json()
    assert body["statusCode"] == 503
    assert body["success"] is False
    assert body["data"] == {"status": "degraded", "database": "down", "cache": "ok"}


@pytest.mark.django_db
def test_cors_allows_listed_origins_with_credentials_only(api_client, settings):
    allowed = api_client.options(
        "/api/v1/healthcheck",
        HTTP_ORIGIN="http://localhost:3000",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
    )
    assert allowed["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert allowed["Access-Control-Allow-Credentials"] == "true"
    foreign = api_client.get("/api/v1/healthcheck", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in foreign


@pytest.mark.django_db
def test_landing_page_links_docs_health_and_admin(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    links = ("/api/docs/", "/api/redoc/", "/api/schema/", "/api/v1/healthcheck", "/admin/")
    for link in links:
        assert f'href="{link}"' in html
        assert client.get(link).status_code in (200, 302), link  # the admin: to its login


@pytest.mark.django_db
def test_security_headers(api_client):
    response = api_client.get("/api/v1/healthcheck")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
