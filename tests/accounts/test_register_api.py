"""POST /user/register: multipart only, every check before anything is stored."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import files_under, image_bytes, image_upload
from tests.factories import UserFactory

from .support import (
    API,
    SAFE_USER_KEYS,
    STRONG_PASSWORD,
    assert_error,
    register_payload,
    safe_user,
)

pytestmark = pytest.mark.django_db
URL = f"{API}/register"
User = get_user_model()


def test_register_creates_the_user_and_answers_201_with_the_safe_user(api_client, settings):
    response = api_client.post(
        URL, register_payload(coverImage=image_upload("cover.jpg", "JPEG")), format="multipart"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"statusCode", "data", "message", "success"}
    assert body["statusCode"] == 201
    assert body["success"] is True
    assert body["message"] == "User registered successfully!"
    data = body["data"]
    assert set(data) == SAFE_USER_KEYS
    user = User.objects.get()
    assert data["id"] == str(user.id)
    assert data["username"] == "newviewer"
    assert data["email"] == "new.viewer@example.com"
    assert data["fullname"] == "New Viewer"
    assert data["avatar"] == f"http://testserver/media/{user.avatar.name}"
    assert data["coverImage"] == f"http://testserver/media/{user.cover_image.name}"
    assert data == safe_user(user)
    assert (user.username, user.email, user.fullname) == (
        "newviewer",
        "new.viewer@example.com",
        "New Viewer",
    )
    assert user.check_password(STRONG_PASSWORD)
    assert not user.is_staff and user.is_active
    # Files are stored under names of ours, not the client's ("me.png", "cover.jpg").
    stored = files_under(settings.MEDIA_ROOT)
    assert stored == sorted([user.avatar.name, user.cover_image.name])
    assert "me" not in user.avatar.name and user.avatar.name.startswith("avatars/")
    assert user.cover_image.name.startswith("covers/") and user.cover_image.name.endswith(".jpg")
    # No tokens, no cookies: registering does not log in.
    assert "accessToken" not in str(body) and not response.cookies


def test_register_without_cover_image_answers_an_empty_cover_url(api_client, settings):
    response = api_client.post(URL, register_payload(), format="multipart")

    assert response.status_code == 201
    assert response.json()["data"]["coverImage"] == ""
    assert len(files_under(settings.MEDIA_ROOT)) == 1


def test_registered_avatar_is_re_encoded_not_the_uploaded_bytes(api_client, settings):
    original = image_bytes("PNG", (16, 16)) + b"<script>alert(1)</script>"
    upload = SimpleUploadedFile("a.png", original, content_type="image/png")

    response = api_client.post(URL, register_payload(avatar=upload), format="multipart")

    assert response.status_code == 201
    stored = (
        __import__("pathlib").Path(settings.MEDIA_ROOT) / User.objects.get().avatar.name
    ).read_bytes()
    assert stored.startswith(b"\x89PNG") and b"<script>" not in stored


@pytest.mark.real_hasher
def test_registered_password_is_hashed_with_argon2(api_client):
    response = api_client.post(URL, register_payload(), format="multipart")

    assert response.status_code == 201
    assert User.objects.get().password.startswith("argon2$argon2id$")


def test_register_with_json_is_415_and_creates_nothing(api_client):
    payload = register_payload()
    payload.pop("avatar")

    response = api_client.post(URL, payload, format="json")

    assert_error(response, 415)
    assert not User.objects.exists()


def test_register_with_a_stale_access_cookie_still_works(api_client):
    api_client.cookies["accessToken"] = "not-a-token"

    response = api_client.post(URL, register_payload(), format="multipart")

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"fullname": None}, "fullname", "Full name is required"),
        ({"fullname": "   "}, "fullname", "Full name is required"),
        ({"fullname": "x" * 101}, "fullname", "Full name must be at most 100 characters"),
        ({"email": None}, "email", "Email is required"),
        ({"email": "not-an-email"}, "email", "Invalid email address"),
        ({"username": None}, "username", "Username is required"),
        (
            {"username": "ab"},
            "username",
            "Username must be 3 to 30 characters of a-z, 0-9, _ and .",
        ),
        (
            {"username": "a" * 31},
            "username",
            "Username must be 3 to 30 characters of a-z, 0-9, _ and .",
        ),
        (
            {"username": "bad name"},
            "username",
            "Username must be 3 to 30 characters of a-z, 0-9, _ and .",
        ),
        (
            {"username": "bad-name"},
            "username",
            "Username must be 3 to 30 characters of a-z, 0-9, _ and .",
        ),
        ({"password": None}, "password", "Password is required"),
        (
            {"password": "short1"},
            "password",
            "This password is too short. It must contain at least 8 characters.",
        ),
        ({"password": "password123"}, "password", "This password is too common."),
        ({"password": "48151623424815"}, "password", "This password is entirely numeric."),
        ({"password": "x" * 129}, "password", "Password must be at most 128 characters"),
        ({"avatar": None}, "avatar", "Avatar file is required"),
    ],
)
def test_register_validation_errors_are_422_with_fields_and_store_nothing(
    api_client, settings, overrides, field, message
):
    response = api_client.post(URL, register_payload(**overrides), format="multipart")

    body = assert_error(response, 422, "Validation failed")
    assert message in body["fields"][field]
    assert message in body["errors"]
    assert not User.objects.exists()
    assert files_under(settings.MEDIA_ROOT) == []


def test_register_password_similar_to_the_username_is_refused(api_client):
    response = api_client.post(
        URL,
        register_payload(username="marmalade_fan", password="marmalade_fan1"),
        format="multipart",
    )

    body = assert_error(response, 422, "Validation failed")
    assert body["fields"]["password"] == ["The password is too similar to the username."]


def test_register_reports_every_field_error_at_once(api_client):
    response = api_client.post(
        URL, {"username": "x", "email": "nope", "password": STRONG_PASSWORD}, format="multipart"
    )

    body = assert_error(response, 422, "Validation failed")
    assert set(body["fields"]) == {"username", "email", "fullname", "avatar"}


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("avatar.png", b"<html><script>alert(1)</script></html>", "image/png"),
        SimpleUploadedFile("avatar.gif", b"GIF89a" + b"\x00" * 40, "image/gif"),
        SimpleUploadedFile("avatar.png", b"", "image/png"),
    ],
    ids=["html-named-png", "gif", "empty"],
)
def test_register_with_a_file_that_is_not_an_image_is_422_and_stores_nothing(
    api_client, settings, upload
):
    response = api_client.post(URL, register_payload(avatar=upload), format="multipart")

    body = assert_error(response, 422, "Validation failed")
    assert "avatar" in body["fields"]
    assert not User.objects.exists()
    assert files_under(settings.MEDIA_ROOT) == []


def test_register_with_a_decompression_bomb_is_422_and_stores_nothing(api_client, settings):
    bomb = SimpleUploadedFile(
        "avatar.png", image_bytes("PNG", (10_000, 10_000)), content_type="image/png"
    )
    assert bomb.size < 1024 * 1024  # tiny on the wire, 100 megapixels once decoded

    response = api_client.post(URL, register_payload(avatar=bomb), format="multipart")

    body = assert_error(response, 422, "Validation failed")
    assert body["fields"]["avatar"] == ["The image is too large: at most 25 megapixels."]
    assert not User.objects.exists()
    assert files_under(settings.MEDIA_ROOT) == []


def test_register_with_an_oversized_image_is_413_and_stores_nothing(api_client, settings):
    settings.IMAGE_MAX_UPLOAD_MB = 1
    big = SimpleUploadedFile(
        "cover.png", image_bytes("PNG", (8, 8)) + b"\x00" * (1024 * 1024 + 10), "image/png"
    )

    response = api_client.post(URL, register_payload(coverImage=big), format="multipart")

    assert_error(response, 413)
    assert not User.objects.exists()
    assert files_under(settings.MEDIA_ROOT) == []


def test_register_with_a_bad_cover_image_stores_no_avatar_either(api_client, settings):
    bad = SimpleUploadedFile("cover.jpg", b"definitely not a jpeg", "image/jpeg")

    response = api_client.post(URL, register_payload(coverImage=bad), format="multipart")

    body = assert_error(response, 422)
    assert "coverImage" in body["fields"]
    assert files_under(settings.MEDIA_ROOT) == []


@pytest.mark.parametrize(
    "overrides",
    [{"username": "TAKEN"}, {"email": "Taken@Example.com"}],
    ids=["username", "email"],
)
def test_register_with_a_taken_username_or_email_is_409_and_stores_nothing(
    api_client, settings, overrides
):
    UserFactory(username="taken", email="taken@example.com")

    response = api_client.post(URL, register_payload(**overrides), format="multipart")

    body = assert_error(response, 409, "User with email or username already exists")
    assert set(body["fields"]) == {next(iter(overrides))}
    assert User.objects.count() == 1
    assert files_under(settings.MEDIA_ROOT) == []


def test_register_losing_the_race_to_a_concurrent_insert_is_409_and_deletes_its_files(
    api_client, settings, monkeypatch
):
    """The pre-check passed but another registration took the name before our INSERT."""
    UserFactory(username="newviewer", email="someone@example.com")
    monkeypatch.setattr(
        "accounts.services.user_identity_taken",
        lambda **kwargs: {"username": False, "email": False},
    )

    response = api_client.post(
        URL, register_payload(coverImage=image_upload("c.png")), format="multipart"
    )

    assert_error(response, 409, "User with email or username already exists")
    assert User.objects.count() == 1
    assert files_under(settings.MEDIA_ROOT) == []


def test_register_ignores_fields_a_client_may_not_set(api_client):
    payload = register_payload(is_staff="true", is_superuser="true", subscribersCount="99")

    response = api_client.post(URL, payload, format="multipart")

    assert response.status_code == 201
    user = User.objects.get()
    assert (user.is_staff, user.is_superuser, user.subscribers_count) == (False, False, 0)
    assert "is_staff" not in response.json()["data"]


def test_register_as_an_authenticated_user_creates_another_account(auth_client, user):
    response = auth_client.post(URL, register_payload(), format="multipart")

    assert response.status_code == 201
    assert User.objects.count() == 2


def test_register_reports_every_field_problem_at_once(api_client, settings):
    payload = register_payload(username="x", password="123")

    response = api_client.post(URL, payload, format="multipart")

    body = assert_error(response, 422, "Validation failed")
    assert set(body["fields"]) == {"username", "password"}
    assert "This password is entirely numeric." in body["fields"]["password"]
    assert not User.objects.exists()
    assert files_under(settings.MEDIA_ROOT) == []
