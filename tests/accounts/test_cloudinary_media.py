"""Account images on Cloudinary (the fake server, driven by the real SDK): nothing reaches it
unless every check passed, and what a failed request stored is destroyed again."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import files_under, image_bytes, image_upload
from tests.factories import UserFactory

from .support import API, assert_error, cookie_client, register_payload

pytestmark = pytest.mark.django_db
User = get_user_model()
REGISTER = f"{API}/register"


def test_register_stores_the_images_on_cloudinary_and_nothing_locally(
    api_client, fake_cloudinary, settings
):
    response = api_client.post(
        REGISTER, register_payload(coverImage=image_upload("c.jpg", "JPEG")), format="multipart"
    )

    assert response.status_code == 201, response.json()
    user = User.objects.get()
    assert fake_cloudinary.public_ids("image") == sorted([user.avatar.name, user.cover_image.name])
    assert user.avatar.name.startswith("media/avatars/")
    data = response.json()["data"]
    assert data["avatar"] == user.avatar.url and data["avatar"].startswith("https://")
    assert data["coverImage"] == user.cover_image.url
    assert user.avatar.name in data["avatar"]
    assert files_under(settings.MEDIA_ROOT) == []


@pytest.mark.parametrize(
    ("upload", "status"),
    [
        (SimpleUploadedFile("avatar.png", b"<html><body>hi</body></html>", "image/png"), 422),
        (SimpleUploadedFile("avatar.png", image_bytes("PNG", (10_000, 10_000)), "image/png"), 422),
        (
            SimpleUploadedFile(
                "avatar.png", image_bytes() + b"\x00" * (1024 * 1024 + 1), "image/png"
            ),
            413,
        ),
    ],
    ids=["html-named-png", "bomb", "oversized"],
)
def test_register_with_a_bad_image_sends_nothing_to_cloudinary(
    api_client, fake_cloudinary, settings, upload, status
):
    settings.IMAGE_MAX_UPLOAD_MB = 1

    response = api_client.post(REGISTER, register_payload(avatar=upload), format="multipart")

    assert_error(response, status)
    assert not User.objects.exists()
    assert fake_cloudinary.assets == {}
    assert fake_cloudinary.uploads == []


def test_register_whose_avatar_upload_fails_is_502_and_creates_nothing(api_client, fake_cloudinary):
    fake_cloudinary.fail_upload(1)

    response = api_client.post(REGISTER, register_payload(), format="multipart")

    assert_error(response, 502)
    assert not User.objects.exists()
    assert fake_cloudinary.assets == {}


def test_register_whose_cover_upload_fails_destroys_the_stored_avatar(api_client, fake_cloudinary):
    fake_cloudinary.fail_upload(2)

    response = api_client.post(
        REGISTER, register_payload(coverImage=image_upload("c.png")), format="multipart"
    )

    assert_error(response, 502)
    assert not User.objects.exists()
    assert len(fake_cloudinary.uploads) == 2
    assert fake_cloudinary.assets == {}
    assert len(fake_cloudinary.destroys) == 1


def test_register_losing_the_insert_race_destroys_its_cloudinary_images(
    api_client, fake_cloudinary, monkeypatch
):
    UserFactory(username="newviewer")
    monkeypatch.setattr(
        "accounts.services.user_identity_taken",
        lambda **kwargs: {"username": False, "email": False},
    )

    response = api_client.post(
        REGISTER, register_payload(coverImage=image_upload("c.png")), format="multipart"
    )

    assert_error(response, 409)
    assert len(fake_cloudinary.uploads) == 2
    assert fake_cloudinary.assets == {}


def test_avatar_replacement_destroys_the_old_asset_after_commit(
    api_client, fake_cloudinary, django_capture_on_commit_callbacks
):
    assert api_client.post(REGISTER, register_payload(), format="multipart").status_code == 201
    user = User.objects.get()
    [old_asset] = fake_cloudinary.public_ids()

    with django_capture_on_commit_callbacks(execute=True):
        response = cookie_client(user).patch(
            f"{API}/update-avatar", {"avatar": image_upload("n.png")}, format="multipart"
        )

    assert response.status_code == 200, response.json()
    [new_asset] = fake_cloudinary.public_ids()
    assert new_asset != old_asset
    assert len(fake_cloudinary.destroys) == 1
    user.refresh_from_db()
    assert response.json()["data"]["avatar"] == user.avatar.url


def test_avatar_replacement_whose_upload_fails_is_502_and_keeps_the_old_avatar(
    api_client, fake_cloudinary
):
    assert api_client.post(REGISTER, register_payload(), format="multipart").status_code == 201
    user = User.objects.get()
    before = fake_cloudinary.public_ids()
    fake_cloudinary.fail_upload(1)

    response = cookie_client(user).patch(
        f"{API}/update-avatar", {"avatar": image_upload("n.png")}, format="multipart"
    )

    assert_error(response, 502)
    assert fake_cloudinary.public_ids() == before
    assert User.objects.get().avatar.name == user.avatar.name
