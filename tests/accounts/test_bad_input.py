"""Odd bodies get a clear 4xx in the envelope, never a 500, and change nothing."""

import json

import pytest
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from tests.conftest import files_under, image_upload
from tests.factories import DEFAULT_PASSWORD

from .support import API, register_payload

pytestmark = pytest.mark.django_db
User = get_user_model()

BODIES = [
    "[1, 2, 3]",
    "null",
    '"a string"',
    "42",
    json.dumps({"email": {"$ne": None}, "username": ["a"], "password": {"x": 1}}),
    json.dumps({"refreshToken": ["a", "b"], "oldPassword": None, "newPassword": 5}),
    json.dumps({"fullname": None, "email": ["x@y.z"], "username": {"a": 1}}),
    "\ud800",
]
ROUTES = [
    ("post", "login"),
    ("post", "refresh-token"),
    ("post", "logout"),
    ("post", "change-password"),
    ("patch", "update-account"),
]


@pytest.mark.parametrize(("method", "route"), ROUTES)
@pytest.mark.parametrize("body", BODIES)
def test_odd_json_bodies_are_4xx_and_change_nothing(auth_client, user, method, route, body):
    before = User.objects.values().get(pk=user.pk)
    tokens_before = OutstandingToken.objects.count()

    response = getattr(auth_client, method)(
        f"{API}/{route}", body.encode("utf-8", "surrogatepass"), content_type="application/json"
    )

    payload = response.json()
    assert payload["statusCode"] == response.status_code
    if body.startswith("{"):
        # An object: fields of the wrong type are a 4xx; fields a route does not take are
        # ignored (logout, update-account then succeed without changing anything).
        assert response.status_code < 500, response.content
    else:
        assert 400 <= response.status_code < 500, response.content
        assert payload["success"] is False
    assert User.objects.values().get(pk=user.pk) == before
    assert OutstandingToken.objects.count() == tokens_before
    assert BlacklistedToken.objects.count() == 0
    assert user.check_password(DEFAULT_PASSWORD)


def test_register_with_a_text_value_for_the_avatar_is_422(api_client, settings):
    response = api_client.post(
        f"{API}/register",
        register_payload(avatar="https://evil.example/a.png"),
        format="multipart",
    )

    assert response.status_code == 422
    assert "avatar" in response.json()["fields"]
    assert not User.objects.exists()
    assert files_under(settings.MEDIA_ROOT) == []


def test_register_with_too_many_files_is_400_and_stores_nothing(api_client, settings):
    payload = register_payload(coverImage=image_upload("c.png"), extra=image_upload("x.png"))

    response = api_client.post(f"{API}/register", payload, format="multipart")

    assert response.status_code == 400
    assert response.json()["message"] == "Too many files in one request"
    assert not User.objects.exists()
    assert files_under(settings.MEDIA_ROOT) == []
