"""POST /user/login: same 401 for every credential failure, cookies, login CSRF."""

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tests.factories import DEFAULT_PASSWORD, UserFactory

from .support import API, FOREIGN_ORIGIN, TRUSTED_ORIGIN, assert_error, safe_user

pytestmark = pytest.mark.django_db
URL = f"{API}/login"


@pytest.fixture
def member(db):
    return UserFactory(username="member.one", email="member@example.com")


def test_login_with_email_answers_user_and_tokens_and_sets_cookies(api_client, member):
    response = api_client.post(
        URL, {"email": "  MEMBER@Example.com ", "password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"statusCode", "data", "message", "success"}
    assert (body["statusCode"], body["success"], body["message"]) == (
        200,
        True,
        "User logged in successfully",
    )
    data = body["data"]
    assert set(data) == {"user", "accessToken", "refreshToken"}
    assert data["user"] == safe_user(member)
    access = AccessToken(data["accessToken"])
    refresh = RefreshToken(data["refreshToken"])
    assert access["user_id"] == refresh["user_id"] == str(member.id)
    assert response.cookies["accessToken"].value == data["accessToken"]
    assert response.cookies["refreshToken"].value == data["refreshToken"]
    assert OutstandingToken.objects.filter(user=member, jti=refresh["jti"]).exists()


@pytest.mark.parametrize("username", ["member.one", "MEMBER.ONE", " Member.One "])
def test_login_with_username_is_case_insensitive(api_client, member, username):
    response = api_client.post(
        URL, {"username": username, "password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["data"]["user"]["id"] == str(member.id)


def test_login_accepts_a_form_encoded_body(api_client, member):
    response = api_client.post(
        URL, {"username": "member.one", "password": DEFAULT_PASSWORD}, format="multipart"
    )
    assert response.status_code == 415  # multipart is not a login format

    response = api_client.generic(
        "POST",
        URL,
        f"username=member.one&password={DEFAULT_PASSWORD}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert response.json()["data"]["user"]["username"] == "member.one"


def test_login_cookies_are_http_only_strict_secure_and_live_as_long_as_their_token(
    api_client, member, settings
):
    response = api_client.post(
        URL, {"email": member.email, "password": DEFAULT_PASSWORD}, format="json"
    )

    lifetimes = {
        "accessToken": settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"],
        "refreshToken": settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"],
    }
    for name, lifetime in lifetimes.items():
        cookie = response.cookies[name]
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Strict"
        assert cookie["secure"] is True  # DEBUG is off in tests
        assert cookie["path"] == "/"
        assert cookie["max-age"] == int(lifetime.total_seconds())
    assert response.cookies["accessToken"]["max-age"] == 15 * 60
    assert response.cookies["refreshToken"]["max-age"] == 7 * 24 * 3600


def test_login_cookie_attributes_follow_the_settings(api_client, member, settings):
    settings.AUTH_COOKIE_SECURE = False
    settings.AUTH_COOKIE_SAMESITE = "Lax"

    response = api_client.post(
        URL, {"email": member.email, "password": DEFAULT_PASSWORD}, format="json"
    )

    cookie = response.cookies["accessToken"]
    assert cookie["secure"] == ""
    assert cookie["samesite"] == "Lax"
    assert cookie["httponly"] is True


def test_login_with_samesite_none_always_marks_cookies_secure(api_client, member, settings):
    settings.AUTH_COOKIE_SECURE = False
    settings.AUTH_COOKIE_SAMESITE = "None"

    response = api_client.post(
        URL, {"email": member.email, "password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.cookies["refreshToken"]["samesite"] == "None"
    assert response.cookies["refreshToken"]["secure"] is True


@pytest.mark.parametrize(
    "credentials",
    [
        {"email": "member@example.com", "password": "wrong-password-123"},
        {"username": "member.one", "password": "wrong-password-123"},
        {"email": "nobody@example.com", "password": DEFAULT_PASSWORD},
        {"username": "nobody", "password": DEFAULT_PASSWORD},
        # Email and username of two different accounts: neither is logged in.
        {"email": "member@example.com", "username": "other.one", "password": DEFAULT_PASSWORD},
        # A username in the email field is not an email: it must not log anyone in.
        {"email": "member.one", "password": DEFAULT_PASSWORD},
    ],
    ids=[
        "wrong-password-email",
        "wrong-password-username",
        "unknown-email",
        "unknown-username",
        "mismatch",
        "username-as-email",
    ],
)
def test_login_failures_are_one_and_the_same_401(api_client, member, credentials):
    UserFactory(username="other.one")

    response = api_client.post(URL, credentials, format="json")

    body = assert_error(response, 401, "Invalid credentials")
    assert body["errors"] == ["Invalid credentials"]
    assert "accessToken" not in response.cookies
    assert OutstandingToken.objects.count() == 0


def test_login_of_a_deactivated_user_is_the_same_401(api_client, member):
    member.is_active = False
    member.save()

    response = api_client.post(
        URL, {"email": member.email, "password": DEFAULT_PASSWORD}, format="json"
    )

    assert_error(response, 401, "Invalid credentials")
    assert OutstandingToken.objects.count() == 0


class CountingHasher(MD5PasswordHasher):
    """MD5 (fast) that counts how often a password is hashed or checked."""

    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt)


def test_login_of_an_unknown_user_runs_the_hasher_like_a_wrong_password(
    api_client, member, settings
):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]

    CountingHasher.calls = 0
    api_client.post(URL, {"username": "member.one", "password": "nope-nope-1"}, format="json")
    wrong_password_hashes = CountingHasher.calls
    CountingHasher.calls = 0
    api_client.post(URL, {"username": "ghost", "password": "nope-nope-1"}, format="json")
    unknown_user_hashes = CountingHasher.calls
    CountingHasher.calls = 0
    api_client.post(URL, {"email": "ghost@example.com", "password": "nope-nope-1"}, format="json")

    assert wrong_password_hashes == unknown_user_hashes == CountingHasher.calls == 1


@pytest.mark.parametrize(
    ("payload", "errors", "fields"),
    [
        (
            {},
            ["Email or username is required", "Password is required"],
            {
                "email": ["Email or username is required"],
                "username": ["Email or username is required"],
                "password": ["Password is required"],
            },
        ),
        (
            {"email": "  ", "username": "", "password": "x"},
            ["Email or username is required"],
            {
                "email": ["Email or username is required"],
                "username": ["Email or username is required"],
            },
        ),
        (
            {"username": "member.one"},
            ["Password is required"],
            {"password": ["Password is required"]},
        ),
        (
            {"username": "member.one", "password": ""},
            ["Password is required"],
            {"password": ["Password is required"]},
        ),
    ],
)
def test_login_with_missing_fields_is_422(api_client, member, payload, errors, fields):
    response = api_client.post(URL, payload, format="json")

    body = assert_error(response, 422)
    assert body["errors"] == errors
    assert body.get("fields") == fields


def test_login_with_malformed_json_is_400(api_client):
    response = api_client.post(URL, '{"email": "a@b.c", ', content_type="application/json")

    assert_error(response, 400)


def test_login_from_a_foreign_origin_is_403_and_sets_no_cookie(api_client, member):
    response = api_client.post(
        URL,
        {"email": member.email, "password": DEFAULT_PASSWORD},
        format="json",
        HTTP_ORIGIN=FOREIGN_ORIGIN,
    )

    assert_error(response, 403)
    assert not response.cookies
    assert OutstandingToken.objects.count() == 0


@pytest.mark.parametrize("origin", [TRUSTED_ORIGIN, None])
def test_login_from_a_trusted_origin_or_a_non_browser_client_works(api_client, member, origin):
    extra = {"HTTP_ORIGIN": origin} if origin else {}

    response = api_client.post(
        URL, {"email": member.email, "password": DEFAULT_PASSWORD}, format="json", **extra
    )

    assert response.status_code == 200


def test_login_ignores_a_stale_access_cookie(api_client, member):
    api_client.cookies["accessToken"] = "expired.or.garbage"

    response = api_client.post(
        URL, {"email": member.email, "password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == 200


def test_several_logins_give_several_valid_sessions(api_client, member):
    tokens = [
        api_client.post(
            URL, {"email": member.email, "password": DEFAULT_PASSWORD}, format="json"
        ).json()["data"]["refreshToken"]
        for _ in range(2)
    ]

    for refresh in tokens:
        api_client.cookies.clear()
        response = api_client.post(f"{API}/refresh-token", {"refreshToken": refresh}, format="json")
        assert response.status_code == 200
