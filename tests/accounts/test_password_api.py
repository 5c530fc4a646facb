"""POST /user/change-password: every earlier token dies, fresh ones come back."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from tests.conftest import tokens_for
from tests.factories import DEFAULT_PASSWORD

from .support import API, FOREIGN_ORIGIN, STRONG_PASSWORD, assert_error, cookie_client

pytestmark = pytest.mark.django_db
URL = f"{API}/change-password"
ME = f"{API}/current-user-details"
REFRESH = f"{API}/refresh-token"


def change(client, old=DEFAULT_PASSWORD, new=STRONG_PASSWORD, **extra):
    return client.post(URL, {"oldPassword": old, "newPassword": new}, format="json", **extra)


def test_change_password_answers_fresh_tokens_and_revokes_every_earlier_one(user):
    old_access, old_refresh = tokens_for(user)
    _, other_device_refresh = tokens_for(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {old_access}")

    response = change(client)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"statusCode", "data", "message", "success"}
    assert (body["statusCode"], body["message"], body["success"]) == (
        200,
        "Password changed successfully",
        True,
    )
    assert set(body["data"]) == {"accessToken", "refreshToken"}
    assert response.cookies["accessToken"].value == body["data"]["accessToken"]
    assert response.cookies["refreshToken"].value == body["data"]["refreshToken"]
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD) and not user.check_password(DEFAULT_PASSWORD)

    # The old access token and both old refresh tokens are dead ...
    assert_error(client.get(ME), 401)
    anonymous = APIClient()
    for refresh in (old_refresh, other_device_refresh):
        response_refresh = anonymous.post(REFRESH, {"refreshToken": refresh}, format="json")
        assert_error(response_refresh, 401, "Invalid refresh token")
    outstanding = OutstandingToken.objects.filter(user=user)
    assert outstanding.filter(blacklistedtoken__isnull=True).count() == 1
    # ... and the new ones work.
    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Bearer {body['data']['accessToken']}")
    assert fresh.get(ME).json()["data"]["id"] == str(user.id)
    refreshed = anonymous.post(
        REFRESH, {"refreshToken": body["data"]["refreshToken"]}, format="json"
    )
    assert refreshed.status_code == 200


def test_change_password_then_login_with_the_new_password(auth_client, user, api_client):
    change(auth_client)

    old = api_client.post(
        f"{API}/login", {"username": user.username, "password": DEFAULT_PASSWORD}, format="json"
    )
    new = api_client.post(
        f"{API}/login", {"username": user.username, "password": STRONG_PASSWORD}, format="json"
    )

    assert_error(old, 401, "Invalid credentials")
    assert new.status_code == 200


def test_change_password_with_a_wrong_old_password_is_422_and_changes_nothing(auth_client, user):
    response = change(auth_client, old="not-my-password")

    body = assert_error(response, 422, "Invalid old password")
    assert body["fields"] == {"oldPassword": ["Invalid old password"]}
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    assert auth_client.get(ME).status_code == 200


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"newPassword": STRONG_PASSWORD}, "oldPassword", "Old password is required"),
        ({"oldPassword": DEFAULT_PASSWORD}, "newPassword", "New password is required"),
        (
            {"oldPassword": DEFAULT_PASSWORD, "newPassword": DEFAULT_PASSWORD},
            "newPassword",
            "New password cannot be the same as the old password",
        ),
        (
            {"oldPassword": DEFAULT_PASSWORD, "newPassword": "short"},
            "newPassword",
            "This password is too short. It must contain at least 8 characters.",
        ),
        (
            {"oldPassword": DEFAULT_PASSWORD, "newPassword": "password1"},
            "newPassword",
            "This password is too common.",
        ),
    ],
)
def test_change_password_validation_errors_are_422(auth_client, user, payload, field, message):
    response = auth_client.post(URL, payload, format="json")

    body = assert_error(response, 422, "Validation failed")
    assert message in body["fields"][field]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_change_password_similar_to_the_callers_email_is_422(auth_client, user):
    response = change(auth_client, new=user.email.upper())

    body = assert_error(response, 422)
    assert body["fields"]["newPassword"] == ["The password is too similar to the email."]


def test_both_passwords_missing_names_both_fields_only(auth_client):
    body = assert_error(auth_client.post(URL, {}, format="json"), 422)

    assert body["fields"] == {
        "oldPassword": ["Old password is required"],
        "newPassword": ["New password is required"],
    }


def test_change_password_anonymous_is_401(api_client):
    assert_error(change(api_client), 401, "Unauthorized request")


def test_change_password_with_malformed_json_is_400(auth_client):
    response = auth_client.post(URL, '{"oldPassword": ', content_type="application/json")

    assert_error(response, 400)


def test_cookie_change_password_from_a_foreign_origin_is_403_and_changes_nothing(user):
    response = change(cookie_client(user, origin=FOREIGN_ORIGIN))

    assert_error(response, 403)
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_cookie_change_password_without_origin_is_403(user):
    assert_error(change(cookie_client(user, origin=None)), 403)
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_cookie_change_password_from_a_trusted_origin_works(user):
    response = change(cookie_client(user))

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)


def test_bearer_change_password_from_a_foreign_origin_works(auth_client, user):
    response = change(auth_client, HTTP_ORIGIN=FOREIGN_ORIGIN)

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)


def test_staff_change_only_their_own_password(staff_client, staff_user, user):
    response = change(staff_client)

    assert response.status_code == 200
    staff_user.refresh_from_db()
    user.refresh_from_db()
    assert staff_user.check_password(STRONG_PASSWORD)
    assert user.check_password(DEFAULT_PASSWORD)
