"""Sessions, CSRF, the session user and messages are for the server's own pages: API requests
skip them (viztube/browser.py), and nothing they protect loses its protection."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import path
from django.views.decorators.http import require_http_methods
from rest_framework.test import APIClient

from tests.factories import UserFactory
from viztube.views import _json_error

pytestmark = pytest.mark.django_db


@require_http_methods(["GET", "POST"])
def not_exempt(request):
    return _json_error(200, "changed")


# For the CSRF test only (pytest.mark.urls): a plain Django view under the API prefix.
urlpatterns = [path("api/v1/not-exempt", not_exempt)]


def test_an_api_request_leaves_session_and_csrf_cookies_alone(api_client):
    api_client.cookies["csrftoken"] = "malformed"
    api_client.cookies["sessionid"] = "x"

    response = api_client.post("/api/v1/user/login", {}, format="json")

    assert response.status_code == 422
    assert dict(response.cookies) == {}
    assert "Cookie" not in response.get("Vary", "")


def test_an_api_request_never_reads_the_session(django_assert_num_queries):
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert Session.objects.count() == 1

    with django_assert_num_queries(1):  # the healthcheck's own SELECT 1
        response = client.get("/api/v1/healthcheck")

    assert response.status_code == 200
    assert not hasattr(response.wsgi_request, "session")
    # The admin's session does not sign anyone in to the API.
    assert not response.wsgi_request.user.is_authenticated
    assert dict(response.cookies) == {}


def test_the_admin_keeps_sessions_and_csrf():
    client = Client(enforce_csrf_checks=True)

    page = client.get("/admin/login/")
    refused = client.post("/admin/login/", {"username": "x", "password": "y"})

    assert page.status_code == 200
    assert "csrftoken" in page.cookies
    assert hasattr(page.wsgi_request, "session")
    assert refused.status_code == 403
    assert refused.json()["message"] == "Cross-site request refused"


@pytest.mark.urls(__name__)
def test_a_view_under_the_api_that_is_not_csrf_exempt_keeps_the_csrf_check():
    client = APIClient(enforce_csrf_checks=True)

    assert client.get("/api/v1/not-exempt").status_code == 200
    refused = client.post("/api/v1/not-exempt")
    client.cookies["csrftoken"] = "a" * 32
    with_cookie_only = client.post("/api/v1/not-exempt")
    with_token = client.post("/api/v1/not-exempt", HTTP_X_CSRFTOKEN="a" * 32)

    assert refused.status_code == 403
    assert refused.json()["message"] == "Cross-site request refused"
    assert with_cookie_only.status_code == 403
    assert with_token.status_code == 200
