"""Refresh rotation, logout, token tampering, cookie versus Bearer, cross-site checks."""

import datetime
import json

import jwt
import pytest
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tests.conftest import bearer_client, tokens_for

from .support import (
    API,
    FOREIGN_ORIGIN,
    TRUSTED_ORIGIN,
    assert_error,
    b64,
    cookie_client,
    jwt_parts,
)

pytestmark = pytest.mark.django_db
REFRESH = f"{API}/refresh-token"
LOGOUT = f"{API}/logout"
ME = f"{API}/current-user-details"


def is_blacklisted(raw_refresh):
    return BlacklistedToken.objects.filter(token__jti=jwt_parts(raw_refresh)[1]["jti"]).exists()


# --- refresh ----------------------------------------------------------------------------------


def test_refresh_with_the_cookie_rotates_the_pair_and_sets_new_cookies(user):
    client = cookie_client(user)
    old_refresh = client.cookies["refreshToken"].value

    response = client.post(REFRESH)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"statusCode", "data", "message", "success"}
    assert (body["statusCode"], body["message"], body["success"]) == (
        200,
        "Access token refreshed",
        True,
    )
    assert set(body["data"]) == {"accessToken", "refreshToken"}
    new_access, new_refresh = body["data"]["accessToken"], body["data"]["refreshToken"]
    assert new_refresh != old_refresh
    assert AccessToken(new_access)["user_id"] == str(user.id)
    assert response.cookies["accessToken"].value == new_access
    assert response.cookies["refreshToken"].value == new_refresh
    assert response.cookies["refreshToken"]["httponly"] is True
    assert is_blacklisted(old_refresh) and not is_blacklisted(new_refresh)


def test_refresh_with_the_body_token_works_without_cookies(api_client, user):
    _, refresh = tokens_for(user)

    response = api_client.post(REFRESH, {"refreshToken": refresh}, format="json")

    assert response.status_code == 200
    assert RefreshToken(response.json()["data"]["refreshToken"])["user_id"] == str(user.id)


def test_an_old_refresh_token_is_refused_after_rotation(api_client, user):
    _, refresh = tokens_for(user)
    assert api_client.post(REFRESH, {"refreshToken": refresh}, format="json").status_code == 200
    api_client.cookies.clear()  # else the new cookie (which wins over the body) is sent

    response = api_client.post(REFRESH, {"refreshToken": refresh}, format="json")

    assert_error(response, 401, "Invalid refresh token")


@pytest.mark.parametrize("body", [None, {}, {"refreshToken": ""}])
def test_refresh_without_a_token_is_401_token_required(api_client, body):
    response = api_client.post(REFRESH, body, format="json")

    assert_error(response, 401, "Refresh token is required")


@pytest.mark.parametrize("raw", ["garbage", "a.b.c", "x" * 5000])
def test_refresh_with_garbage_is_401_invalid(api_client, raw):
    response = api_client.post(REFRESH, {"refreshToken": raw}, format="json")

    # Over-long input is refused by the input serializer (422) before any decoding.
    if len(raw) > 4096:
        assert_error(response, 422)
    else:
        assert_error(response, 401, "Invalid refresh token")


def test_refresh_with_malformed_json_is_400(api_client):
    response = api_client.post(REFRESH, "{nope", content_type="application/json")

    assert_error(response, 400)


def test_an_access_token_used_as_a_refresh_token_is_401(api_client, user):
    access, _ = tokens_for(user)

    response = api_client.post(REFRESH, {"refreshToken": access}, format="json")

    assert_error(response, 401, "Invalid refresh token")


def test_an_expired_refresh_token_is_401(api_client, user):
    refresh = RefreshToken.for_user(user)
    refresh.set_exp(from_time=refresh.current_time - datetime.timedelta(days=8))

    response = api_client.post(REFRESH, {"refreshToken": str(refresh)}, format="json")

    assert_error(response, 401, "Invalid refresh token")


def test_a_refresh_token_signed_with_another_key_is_401(api_client, user):
    _, refresh = tokens_for(user)
    payload = jwt_parts(refresh)[1]
    forged = jwt.encode(payload, "another-key-another-key-another-key!", algorithm="HS256")

    response = api_client.post(REFRESH, {"refreshToken": forged}, format="json")

    assert_error(response, 401, "Invalid refresh token")


def test_refresh_of_a_deactivated_user_is_401(api_client, user):
    _, refresh = tokens_for(user)
    user.is_active = False
    user.save()

    response = api_client.post(REFRESH, {"refreshToken": refresh}, format="json")

    assert_error(response, 401, "Invalid refresh token")
    assert not is_blacklisted(refresh)


def test_refresh_of_a_deleted_user_is_401(api_client, user):
    _, refresh = tokens_for(user)
    user.delete()

    response = api_client.post(REFRESH, {"refreshToken": refresh}, format="json")

    assert_error(response, 401, "Invalid refresh token")


def test_cookie_refresh_from_a_foreign_origin_is_403_and_spends_nothing(user):
    client = cookie_client(user, origin=FOREIGN_ORIGIN)
    refresh = client.cookies["refreshToken"].value

    response = client.post(REFRESH)

    assert_error(response, 403)
    assert not response.cookies
    assert not is_blacklisted(refresh)


def test_cookie_refresh_without_origin_is_allowed(user):
    response = cookie_client(user, origin=None).post(REFRESH)

    assert response.status_code == 200


def test_body_refresh_from_a_foreign_origin_is_allowed(api_client, user):
    """Not ambient: a page that holds the token itself may spend it."""
    _, refresh = tokens_for(user)

    response = api_client.post(
        REFRESH, {"refreshToken": refresh}, format="json", HTTP_ORIGIN=FOREIGN_ORIGIN
    )

    assert response.status_code == 200


# --- logout -----------------------------------------------------------------------------------


def test_logout_revokes_the_cookie_refresh_token_and_clears_both_cookies(user):
    client = cookie_client(user)
    refresh = client.cookies["refreshToken"].value

    response = client.post(LOGOUT)

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "statusCode": 200,
        "data": {},
        "message": "User logged out successfully",
        "success": True,
    }
    for name in ("accessToken", "refreshToken"):
        cookie = response.cookies[name]
        assert cookie.value == ""
        assert cookie["max-age"] == 0
        assert cookie["expires"] == "Thu, 01 Jan 1970 00:00:00 GMT"
        assert (cookie["httponly"], cookie["samesite"], cookie["path"]) == (True, "Strict", "/")
        assert cookie["secure"] is True
    assert is_blacklisted(refresh)


def test_refresh_after_logout_is_401(api_client, user):
    access, refresh = tokens_for(user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert api_client.post(LOGOUT, {"refreshToken": refresh}, format="json").status_code == 200

    api_client.credentials()
    response = api_client.post(REFRESH, {"refreshToken": refresh}, format="json")

    assert_error(response, 401, "Invalid refresh token")


def test_logout_without_a_refresh_token_still_succeeds(auth_client):
    response = auth_client.post(LOGOUT)

    assert response.status_code == 200
    assert response.json()["data"] == {}
    assert response.cookies["accessToken"]["max-age"] == 0


def test_logout_with_an_invalid_refresh_token_is_not_an_error(auth_client):
    response = auth_client.post(LOGOUT, {"refreshToken": "garbage"}, format="json")

    assert response.status_code == 200
    assert BlacklistedToken.objects.count() == 0


def test_logout_never_revokes_another_users_token(auth_client, other_user):
    _, foreign_refresh = tokens_for(other_user)

    response = auth_client.post(LOGOUT, {"refreshToken": foreign_refresh}, format="json")

    assert response.status_code == 200
    assert not is_blacklisted(foreign_refresh)


def test_logout_of_one_device_keeps_the_other_signed_in(api_client, user):
    access, first = tokens_for(user)
    _, second = tokens_for(user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    api_client.post(LOGOUT, {"refreshToken": first}, format="json")

    api_client.credentials()
    response = api_client.post(REFRESH, {"refreshToken": second}, format="json")

    assert response.status_code == 200


def test_logout_anonymous_is_401(api_client):
    response = api_client.post(LOGOUT)

    assert_error(response, 401, "Unauthorized request")


def test_logout_as_staff_only_logs_out_the_staff_member(staff_user, user):
    client = cookie_client(staff_user)
    staff_refresh = client.cookies["refreshToken"].value
    _, user_refresh = tokens_for(user)

    response = client.post(LOGOUT, {"refreshToken": user_refresh}, format="json")

    assert response.status_code == 200
    assert is_blacklisted(staff_refresh)
    assert not is_blacklisted(user_refresh)


# --- authentication of requests ---------------------------------------------------------------


def test_bearer_beats_the_cookie(user, other_user):
    client = cookie_client(other_user)
    access, _ = tokens_for(user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")

    response = client.get(ME)

    assert response.status_code == 200
    assert response.json()["data"]["id"] == str(user.id)


def test_the_access_cookie_alone_authenticates_reads(user):
    response = cookie_client(user, origin=FOREIGN_ORIGIN).get(ME)

    # A GET changes nothing, so it needs no Origin check.
    assert response.status_code == 200
    assert response.json()["data"]["id"] == str(user.id)


def test_no_token_is_401(api_client):
    assert_error(api_client.get(ME), 401, "Unauthorized request")


def _forged_access(user, **changes):
    access, _ = tokens_for(user)
    header, payload, _signature = jwt_parts(access)
    payload.update(changes)
    return header, payload


def test_an_alg_none_token_is_401(api_client, user):
    _, payload = _forged_access(user)
    token = ".".join(
        [
            b64(json.dumps({"alg": "none", "typ": "JWT"}).encode()),
            b64(json.dumps(payload).encode()),
            "",
        ]
    )

    response = api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert_error(response, 401)


def test_a_token_signed_with_another_key_is_401(api_client, user):
    _, payload = _forged_access(user)
    token = jwt.encode(payload, "another-key-another-key-another-key!", algorithm="HS256")

    assert_error(api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}"), 401)


def test_a_payload_swapped_under_the_old_signature_is_401(api_client, user, other_user):
    access, _ = tokens_for(user)
    header, _payload, signature = access.split(".")
    _, other_payload = _forged_access(user, user_id=str(other_user.id))
    token = ".".join([header, b64(json.dumps(other_payload).encode()), signature])

    assert_error(api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}"), 401)


def test_an_expired_access_token_is_401(api_client, user):
    access = AccessToken.for_user(user)
    access.set_exp(from_time=access.current_time - datetime.timedelta(minutes=16))

    assert_error(api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {access}"), 401)


def test_a_refresh_token_used_as_access_is_401(api_client, user):
    _, refresh = tokens_for(user)

    assert_error(api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {refresh}"), 401)
    api_client.cookies["accessToken"] = refresh
    assert_error(api_client.get(ME), 401)


def test_tokens_of_a_deactivated_user_stop_working_at_once(user):
    client = cookie_client(user)
    bearer = bearer_client(user)
    user.is_active = False
    user.save()

    assert_error(client.get(ME), 401)
    assert_error(bearer.get(ME), 401)
    assert_error(client.post(REFRESH), 401, "Invalid refresh token")


# --- cross-site checks on cookie-authenticated writes ------------------------------------------


def test_cookie_logout_from_a_foreign_origin_is_403_and_changes_nothing(user):
    client = cookie_client(user, origin=FOREIGN_ORIGIN)

    response = client.post(LOGOUT)

    assert_error(response, 403)
    assert not response.cookies
    assert BlacklistedToken.objects.count() == 0


def test_cookie_logout_without_origin_or_referer_is_403(user):
    client = cookie_client(user, origin=None)

    assert_error(client.post(LOGOUT), 403)
    assert BlacklistedToken.objects.count() == 0


def test_cookie_logout_with_a_trusted_referer_and_no_origin_is_allowed(user):
    client = cookie_client(user, origin=None)

    response = client.post(LOGOUT, HTTP_REFERER=f"{TRUSTED_ORIGIN}/settings")

    assert response.status_code == 200
    assert BlacklistedToken.objects.count() == 1


def test_cookie_logout_with_a_foreign_referer_is_403(user):
    client = cookie_client(user, origin=None)

    assert_error(client.post(LOGOUT, HTTP_REFERER="https://evil.example/page"), 403)


def test_bearer_logout_from_a_foreign_origin_is_allowed(user):
    client = bearer_client(user)
    _, refresh = tokens_for(user)

    response = client.post(
        LOGOUT, {"refreshToken": refresh}, format="json", HTTP_ORIGIN=FOREIGN_ORIGIN
    )

    assert response.status_code == 200
    assert is_blacklisted(refresh)


def test_a_cookie_read_cannot_change_state(user):
    """GET on the refresh and logout routes is not allowed: no state changes on GET."""
    client = cookie_client(user, origin=FOREIGN_ORIGIN)

    assert_error(client.get(REFRESH), 405)
    assert_error(client.get(LOGOUT), 405)
    assert OutstandingToken.objects.filter(user=user).count() == 1
    assert BlacklistedToken.objects.count() == 0


def test_another_authorization_scheme_falls_back_to_the_cookie(user):
    """A staging proxy may add Basic auth: the browser's cookie still identifies the user."""
    client = cookie_client(user)

    response = client.get(ME, HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")

    assert response.status_code == 200
    assert response.json()["data"]["id"] == str(user.id)


def test_an_invalid_bearer_is_401_even_with_a_valid_cookie(user):
    client = cookie_client(user)

    assert_error(client.get(ME, HTTP_AUTHORIZATION="Bearer not-a-jwt"), 401)
