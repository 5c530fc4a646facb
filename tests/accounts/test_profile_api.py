"""current-user-details, update-account, update-avatar, update-cover-image."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError
from django.db.models import QuerySet

from tests.conftest import file_deletions, files_under, image_bytes, image_upload
from tests.factories import UserFactory

from .support import API, FOREIGN_ORIGIN, assert_error, cookie_client, register_payload, safe_user

pytestmark = pytest.mark.django_db
User = get_user_model()
ME = f"{API}/current-user-details"
ACCOUNT = f"{API}/update-account"
AVATAR = f"{API}/update-avatar"
COVER = f"{API}/update-cover-image"


# --- current-user-details ---------------------------------------------------------------------


def test_current_user_details_answer_the_safe_user(auth_client, user, django_assert_num_queries):
    # 1: the authentication class loads the user; the answer needs nothing more.
    with django_assert_num_queries(1):
        response = auth_client.get(ME)

    assert response.status_code == 200
    assert response.json() == {
        "statusCode": 200,
        "data": safe_user(user),
        "message": "Current user details",
        "success": True,
    }
    for hidden in ("password", "is_staff", "isStaff", "refreshToken", "accessToken"):
        assert hidden not in response.json()["data"]


def test_current_user_details_anonymous_is_401(api_client):
    assert_error(api_client.get(ME), 401, "Unauthorized request")


def test_staff_get_their_own_details(staff_client, staff_user):
    assert staff_client.get(ME).json()["data"] == safe_user(staff_user)


# --- update-account ---------------------------------------------------------------------------


def test_update_account_is_a_true_partial_update(auth_client, user):
    before = User.objects.get(pk=user.pk)

    response = auth_client.patch(ACCOUNT, {"fullname": "  Renamed Person "}, format="json")

    assert response.status_code == 200, response.json()
    user.refresh_from_db()
    assert user.fullname == "Renamed Person"
    assert (user.username, user.email) == (before.username, before.email)
    assert user.updated_at > before.updated_at
    assert response.json() == {
        "statusCode": 200,
        "data": safe_user(user),
        "message": "Account updated successfully",
        "success": True,
    }


def test_update_account_normalises_username_and_email(auth_client, user):
    response = auth_client.patch(
        ACCOUNT, {"username": " New.Name_1 ", "email": "NEW@Example.ORG"}, format="json"
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.username, user.email) == ("new.name_1", "new@example.org")
    assert response.json()["data"]["username"] == "new.name_1"


def test_update_account_with_ones_own_values_is_no_conflict(auth_client, user):
    response = auth_client.patch(
        ACCOUNT, {"username": user.username.upper(), "email": user.email.upper()}, format="json"
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"username": "TAKEN.NAME"}, "username", "Username already exists"),
        ({"email": "Taken@Example.com"}, "email", "Email already exists"),
    ],
)
def test_update_account_to_a_taken_name_is_409_with_the_field(
    auth_client, user, payload, field, message
):
    UserFactory(username="taken.name", email="taken@example.com")
    before = User.objects.get(pk=user.pk)

    response = auth_client.patch(ACCOUNT, payload, format="json")

    body = assert_error(response, 409, message)
    assert body["fields"] == {field: [message]}
    user.refresh_from_db()
    assert (user.username, user.email, user.updated_at) == (
        before.username,
        before.email,
        before.updated_at,
    )


def test_update_account_losing_a_race_on_the_constraint_is_the_same_409(
    auth_client, user, monkeypatch
):
    UserFactory(username="taken.name")
    monkeypatch.setattr(
        "accounts.services.user_identity_taken",
        lambda **kwargs: {"username": False, "email": False},
    )

    response = auth_client.patch(ACCOUNT, {"username": "taken.name"}, format="json")

    # The pre-check was bypassed: the unique constraint answered, and we still say which field.
    assert_error(response, 409)
    assert User.objects.get(pk=user.pk).username == user.username


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"fullname": "   "}, "fullname", "Full name is required"),
        ({"fullname": "x" * 101}, "fullname", "Full name must be at most 100 characters"),
        ({"email": "not-an-email"}, "email", "Invalid email address"),
        ({"email": ""}, "email", "Email is required"),
        (
            {"username": "ab"},
            "username",
            "Username must be 3 to 30 characters of a-z, 0-9, _ and .",
        ),
        (
            {"username": "no spaces"},
            "username",
            "Username must be 3 to 30 characters of a-z, 0-9, _ and .",
        ),
    ],
)
def test_update_account_validation_errors_are_422_and_change_nothing(
    auth_client, user, payload, field, message
):
    before = User.objects.get(pk=user.pk)

    response = auth_client.patch(ACCOUNT, payload, format="json")

    body = assert_error(response, 422, "Validation failed")
    assert body["fields"] == {field: [message]}
    assert User.objects.get(pk=user.pk).updated_at == before.updated_at


def test_update_account_ignores_fields_a_client_may_not_set(auth_client, user):
    before = User.objects.get(pk=user.pk)

    response = auth_client.patch(
        ACCOUNT,
        {
            "fullname": "Still Me",
            "is_staff": True,
            "isStaff": True,
            "is_superuser": True,
            "is_active": False,
            "id": "01900000-0000-7000-8000-000000000000",
            "subscribers_count": 1000,
            "subscribersCount": 1000,
            "password": "hijacked-password-1",
            "avatar": "https://evil.example/a.png",
            "createdAt": "2000-01-01T00:00:00.000Z",
        },
        format="json",
    )

    assert response.status_code == 200
    after = User.objects.get(pk=user.pk)
    assert after.fullname == "Still Me"
    assert (after.is_staff, after.is_superuser, after.is_active) == (False, False, True)
    assert after.subscribers_count == before.subscribers_count
    assert after.password == before.password
    assert after.avatar.name == before.avatar.name
    assert after.created_at == before.created_at


@pytest.mark.parametrize("body", [{}, {"avatar": "x", "isStaff": True}])
def test_update_account_with_nothing_to_update_is_422_and_changes_nothing(auth_client, user, body):
    before = User.objects.get(pk=user.pk)

    response = auth_client.patch(ACCOUNT, body, format="json")

    message = "Nothing to update: give fullname, email or username"
    payload = assert_error(response, 422, message)
    assert set(payload["fields"]) == {"fullname", "email", "username"}
    after = User.objects.get(pk=user.pk)
    assert (after.updated_at, after.is_staff) == (before.updated_at, before.is_staff)


def test_update_account_with_unchanged_values_answers_the_account(auth_client, user):
    before = User.objects.get(pk=user.pk)

    response = auth_client.patch(ACCOUNT, {"fullname": user.fullname}, format="json")

    assert response.status_code == 200
    assert response.json()["data"] == safe_user(before)


def test_update_account_with_malformed_json_is_400(auth_client):
    assert_error(auth_client.patch(ACCOUNT, "{", content_type="application/json"), 400)


def test_update_account_anonymous_is_401(api_client):
    assert_error(api_client.patch(ACCOUNT, {"fullname": "X Y"}, format="json"), 401)


def test_update_account_by_cookie_from_a_foreign_origin_is_403(user):
    response = cookie_client(user, origin=FOREIGN_ORIGIN).patch(
        ACCOUNT, {"fullname": "Hijacked"}, format="json"
    )

    assert_error(response, 403)
    assert User.objects.get(pk=user.pk).fullname == user.fullname


def test_staff_update_only_their_own_account(staff_client, staff_user, user):
    response = staff_client.patch(ACCOUNT, {"fullname": "Staff Renamed"}, format="json")

    assert response.json()["data"]["id"] == str(staff_user.id)
    assert User.objects.get(pk=user.pk).fullname == user.fullname


# --- update-avatar / update-cover-image -------------------------------------------------------


@pytest.fixture
def registered(api_client, settings):
    """A user registered through the API (so the avatar file really exists), and a client."""
    response = api_client.post(
        f"{API}/register",
        register_payload(coverImage=image_upload("c.png")),
        format="multipart",
    )
    assert response.status_code == 201
    user = User.objects.get()
    client = cookie_client(user)
    return user, client


def test_update_avatar_replaces_the_file_and_deletes_the_old_one_after_commit(
    registered, settings, django_capture_on_commit_callbacks
):
    user, client = registered
    old_avatar = user.avatar.name

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.patch(
            AVATAR, {"avatar": image_upload("new.webp", "WEBP")}, format="multipart"
        )

    assert response.status_code == 200, response.json()
    user.refresh_from_db()
    assert user.avatar.name != old_avatar and user.avatar.name.endswith(".webp")
    assert response.json() == {
        "statusCode": 200,
        "data": safe_user(user),
        "message": "Avatar updated",
        "success": True,
    }
    assert len(file_deletions(callbacks)) == 1
    assert files_under(settings.MEDIA_ROOT) == sorted([user.avatar.name, user.cover_image.name])


def test_the_old_avatar_survives_until_the_change_commits(
    registered, settings, django_capture_on_commit_callbacks
):
    user, client = registered
    old_avatar = user.avatar.name

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.patch(AVATAR, {"avatar": image_upload()}, format="multipart")

    assert len(file_deletions(callbacks)) == 1
    assert old_avatar in files_under(settings.MEDIA_ROOT)


def test_update_avatar_whose_database_write_fails_deletes_the_new_file(
    registered, settings, monkeypatch
):
    user, client = registered
    before = files_under(settings.MEDIA_ROOT)

    def broken_update(self, **kwargs):
        raise DatabaseError("database went away")

    monkeypatch.setattr(QuerySet, "update", broken_update)
    response = client.patch(AVATAR, {"avatar": image_upload()}, format="multipart")

    assert_error(response, 500, "Internal server error")
    assert files_under(settings.MEDIA_ROOT) == before
    monkeypatch.undo()
    assert User.objects.get(pk=user.pk).avatar.name == user.avatar.name


def test_update_cover_image_replaces_the_file(
    registered, settings, django_capture_on_commit_callbacks
):
    user, client = registered
    old_cover = user.cover_image.name

    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(
            COVER, {"coverImage": image_upload("wide.jpg", "JPEG", (64, 16))}, format="multipart"
        )

    assert response.status_code == 200, response.json()
    user.refresh_from_db()
    assert response.json()["message"] == "Cover updated"
    assert response.json()["data"] == safe_user(user)
    assert user.cover_image.name.endswith(".jpg") and user.cover_image.name != old_cover
    assert old_cover not in files_under(settings.MEDIA_ROOT)
    assert user.cover_image.name in files_under(settings.MEDIA_ROOT)


def test_a_first_cover_image_deletes_nothing(auth_client, user, settings):
    assert not user.cover_image

    response = auth_client.patch(COVER, {"coverImage": image_upload()}, format="multipart")

    assert response.status_code == 200
    user.refresh_from_db()
    assert files_under(settings.MEDIA_ROOT) == [user.cover_image.name]


@pytest.mark.parametrize(
    ("url", "field", "message"),
    [
        (AVATAR, "avatar", "Avatar file is required"),
        (COVER, "coverImage", "Cover image file is required"),
    ],
)
def test_update_image_without_a_file_is_422_naming_it(auth_client, url, field, message):
    response = auth_client.patch(url, {"other": "x"}, format="multipart")

    body = assert_error(response, 422, "Validation failed")
    assert body["fields"] == {field: [message]}


@pytest.mark.parametrize("url", [AVATAR, COVER])
def test_update_image_with_json_is_415(auth_client, url):
    assert_error(auth_client.patch(url, {"avatar": "x"}, format="json"), 415)


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("avatar.png", b"<html>hi</html>", "image/png"),
        SimpleUploadedFile("avatar.png", image_bytes("PNG", (10_000, 10_000)), "image/png"),
    ],
    ids=["html", "bomb"],
)
def test_update_avatar_with_a_bad_image_is_422_and_keeps_the_old_one(registered, settings, upload):
    user, client = registered
    before = files_under(settings.MEDIA_ROOT)

    response = client.patch(AVATAR, {"avatar": upload}, format="multipart")

    body = assert_error(response, 422)
    assert "avatar" in body["fields"]
    assert files_under(settings.MEDIA_ROOT) == before
    assert User.objects.get(pk=user.pk).avatar.name == user.avatar.name


def test_update_avatar_over_the_size_cap_is_413(registered, settings):
    _, client = registered
    settings.IMAGE_MAX_UPLOAD_MB = 1
    before = files_under(settings.MEDIA_ROOT)
    big = SimpleUploadedFile("a.png", image_bytes() + b"\x00" * (1024 * 1024 + 1), "image/png")

    assert_error(client.patch(AVATAR, {"avatar": big}, format="multipart"), 413)
    assert files_under(settings.MEDIA_ROOT) == before


@pytest.mark.parametrize("url", [AVATAR, COVER])
def test_update_image_anonymous_is_401(api_client, url, settings):
    response = api_client.patch(url, {"avatar": image_upload()}, format="multipart")

    assert_error(response, 401)
    assert files_under(settings.MEDIA_ROOT) == []


def test_update_avatar_by_cookie_from_a_foreign_origin_is_403_and_stores_nothing(
    registered, settings
):
    user, _ = registered
    before = files_under(settings.MEDIA_ROOT)
    client = cookie_client(user, origin=FOREIGN_ORIGIN)

    assert_error(client.patch(AVATAR, {"avatar": image_upload()}, format="multipart"), 403)
    assert files_under(settings.MEDIA_ROOT) == before


def test_staff_update_only_their_own_avatar(staff_client, staff_user, user):
    response = staff_client.patch(AVATAR, {"avatar": image_upload()}, format="multipart")

    assert response.json()["data"]["id"] == str(staff_user.id)
    assert User.objects.get(pk=user.pk).avatar.name == user.avatar.name


def test_stored_avatar_is_served_back(registered, client):
    user, _ = registered

    response = client.get(f"/media/{user.avatar.name}")

    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert content.startswith(b"\x89PNG")
    assert Path(user.avatar.name).suffix == ".png"
