"""The one store/delete implementation (media.services): every app's media fail the same way."""

import logging

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from accounts.models import User
from media.services import DELETE_ATTEMPTS, media_delete, media_store
from media.tasks import INLINE_ATTEMPTS
from tests.conftest import files_under, image_upload, video_upload
from tests.factories import VideoFactory
from videos.models import Video
from viztube import errors

DISK_FULL = {"BACKEND": "tests.media.failing_storage.DiskFullStorage"}
STORAGE_FAILED = "The media storage service failed; nothing was saved"


@pytest.fixture
def full_disk(settings):
    settings.STORAGES = {**settings.STORAGES, "default": DISK_FULL}


def test_an_avatar_and_a_thumbnail_that_cannot_be_stored_get_the_same_answer(
    auth_client, user, full_disk, settings
):
    video = VideoFactory(owner=user, title="Before")
    old_avatar, old_thumbnail = user.avatar.name, video.thumbnail.name

    avatar = auth_client.patch(
        "/api/v1/user/update-avatar", {"avatar": image_upload()}, format="multipart"
    )
    thumbnail = auth_client.patch(
        f"/api/v1/videos/{video.pk}",
        {"title": "After", "thumbnail": image_upload()},
        format="multipart",
    )

    for response in (avatar, thumbnail):
        assert response.status_code == 502
        assert response.json()["message"] == STORAGE_FAILED
        assert response.json()["success"] is False
    # Nothing changed: the rows point at the old files, and nothing new was written.
    assert User.objects.get(pk=user.pk).avatar.name == old_avatar
    video.refresh_from_db()
    assert (video.title, video.thumbnail.name) == ("Before", old_thumbnail)
    assert files_under(settings.MEDIA_ROOT) == []


def test_store_turns_a_disk_error_into_a_dependency_failure(full_disk):
    with pytest.raises(errors.DependencyFailed):
        media_store(storage=default_storage, name="x/a.png", content=ContentFile(b"png"))


class _FlakyStorage:
    """Answers ``False`` (as the Cloudinary storages do on a failed destroy) ``failures`` times."""

    def __init__(self, failures):
        self.failures = failures
        self.calls = []

    def delete(self, name):
        self.calls.append(name)
        return len(self.calls) > self.failures


def test_a_failed_delete_is_retried(caplog):
    storage = _FlakyStorage(failures=1)
    with caplog.at_level(logging.WARNING, logger="media.services"):
        assert media_delete(storage=storage, name="thumbnails/a.png") is True
    assert storage.calls == ["thumbnails/a.png", "thumbnails/a.png"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_delete_that_keeps_failing_is_logged_as_an_error_naming_the_file(caplog):
    storage = _FlakyStorage(failures=DELETE_ATTEMPTS)
    with caplog.at_level(logging.WARNING, logger="media.services"):
        assert media_delete(storage=storage, name="avatars/b.png") is False
    assert len(storage.calls) == DELETE_ATTEMPTS
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "avatars/b.png" in record.getMessage()
    assert "orphan" in record.getMessage()


def test_a_storage_that_raises_on_delete_is_retried_and_never_raises(caplog):
    class Broken:
        calls = 0

        def delete(self, name):
            Broken.calls += 1
            raise OSError("permission denied")

    with caplog.at_level(logging.WARNING, logger="media.services"):
        assert media_delete(storage=Broken(), name="videos/c.mp4") is False
    assert Broken.calls == DELETE_ATTEMPTS
    assert any(r.levelno == logging.ERROR for r in caplog.records)


def _replace_avatar(client):
    response = client.patch(
        "/api/v1/user/update-avatar", {"avatar": image_upload()}, format="multipart"
    )
    assert response.status_code == 200
    return response


def test_a_replaced_cloudinary_avatar_is_deleted_once_cloudinary_recovers(
    auth_client, user, fake_cloudinary, caplog, django_capture_on_commit_callbacks
):
    # The first avatar reaches Cloudinary; the first two destroys of it then fail.
    _replace_avatar(auth_client)
    old_name = User.objects.get(pk=user.pk).avatar.name
    fake_cloudinary.fail_destroy(1)
    fake_cloudinary.fail_destroy(2)

    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        _replace_avatar(auth_client)

    new_name = User.objects.get(pk=user.pk).avatar.name
    assert [d.status for d in fake_cloudinary.destroys] == [500, 500, 200]
    assert fake_cloudinary.public_ids() == [new_name]
    assert old_name != new_name
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_replaced_avatar_that_cloudinary_keeps_refusing_is_logged_as_an_orphan(
    auth_client, user, fake_cloudinary, caplog, django_capture_on_commit_callbacks
):
    _replace_avatar(auth_client)
    old_name = User.objects.get(pk=user.pk).avatar.name
    for n in range(1, INLINE_ATTEMPTS + 1):
        fake_cloudinary.fail_destroy(n)

    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        _replace_avatar(auth_client)

    # Without a broker the task's retries run at once, inline: a few, then the orphan is logged.
    assert len(fake_cloudinary.destroys) == INLINE_ATTEMPTS
    errors_logged = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any(old_name in message and "orphan" in message for message in errors_logged)
    # The database change stands: the user now points at the new avatar.
    assert User.objects.get(pk=user.pk).avatar.name != old_name
    assert len(fake_cloudinary.public_ids()) == 2


def test_a_video_deleted_while_cloudinary_fails_once_still_loses_both_files(
    auth_client, user, fake_cloudinary, django_capture_on_commit_callbacks
):
    published = auth_client.post(
        "/api/v1/videos",
        {
            "title": "T",
            "videoFile": video_upload(),
            "thumbnail": image_upload(),
        },
        format="multipart",
    )
    assert published.status_code == 201
    video_id = published.json()["data"]["id"]
    assert len(fake_cloudinary.assets) == 2
    fake_cloudinary.fail_destroy(1)

    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.delete(f"/api/v1/videos/{video_id}").status_code == 200

    assert not Video.objects.filter(pk=video_id).exists()
    assert not fake_cloudinary.assets
    assert len(fake_cloudinary.destroys) == 3  # one failed and was retried
