"""Cloudinary (the fake) slow or failing, through the API (docs/faults.md).

Every request that needs Cloudinary must end within a bounded time with a 502 in the error
envelope, and nothing may be stored: no row, no changed row, no temp file, no local file, no asset
left on the fake. ``scripts/faults.py --scenario cloudinary`` runs the same faults against gunicorn.

Two settings make the checks bite: ``CLOUDINARY_TIMEOUT_SECONDS`` is small, so that a late answer
is a timeout within the test's bound, and ``FILE_UPLOAD_MAX_MEMORY_SIZE`` is 0, so that every
uploaded file is spooled to ``FILE_UPLOAD_TEMP_DIR`` (as any file over 2.5 MB is in production)
and "no temp file left" checks a file that really existed.
"""

import logging
import socket
import threading
import time
from pathlib import Path

import cloudinary
import pytest
from django.contrib.auth import get_user_model

from tests.conftest import bearer_client, files_under, image_upload, video_upload
from tests.factories import UserFactory, VideoFactory
from videos.models import Video

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

VIDEOS = "/api/v1/videos"
REGISTER = "/api/v1/user/register"
UPDATE_AVATAR = "/api/v1/user/update-avatar"
TIMEOUT_SECONDS = 0.5
# A late answer comes long after the bound, so only the timeout can end the request in time.
LATE_BY_SECONDS = 5
# The timeout, plus validation and one round trip, with room for a busy shared machine.
BOUND_SECONDS = 3.0
STORAGE_FAILED = {
    "statusCode": 502,
    "data": None,
    "success": False,
    "message": "The media storage service failed; nothing was saved",
    "errors": ["The media storage service failed; nothing was saved"],
}


@pytest.fixture
def cloud(fake_cloudinary, settings):
    settings.CLOUDINARY_TIMEOUT_SECONDS = TIMEOUT_SECONDS
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    yield fake_cloudinary
    # A late answer may still be pending in the fake: it must not answer into the next test.
    fake_cloudinary.delay(0)


class TempDirWatcher:
    """Records every file seen in the upload temp folder while a request runs."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.seen = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        while not self._stop.is_set():
            self.seen.update(path.name for path in self.folder.iterdir())
            time.sleep(0.002)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=5)


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def publish(client):
    return client.post(
        VIDEOS,
        {
            "title": "Under a failing Cloudinary",
            "description": "Should never be stored.",
            "videoFile": video_upload("sample.mp4", "video/mp4"),
            "thumbnail": image_upload("thumb.png", "PNG", (16, 9)),
        },
        format="multipart",
    )


def register(client, *, cover=False, username="newcomer"):
    form = {
        "fullname": "New Comer",
        "username": username,
        "email": f"{username}@example.com",
        "password": "a-Strong-passphrase-77",
        "avatar": image_upload("avatar.png", "PNG", (12, 12)),
    }
    if cover:
        form["coverImage"] = image_upload("cover.jpg", "JPEG", (30, 10))
    return client.post(REGISTER, form, format="multipart")


def assert_nothing_stored_locally(settings):
    assert files_under(settings.FILE_UPLOAD_TEMP_DIR) == []
    assert files_under(settings.MEDIA_ROOT) == []


# --- Cloudinary answers too late ---------------------------------------------------------------


def test_publish_answered_too_late_is_a_502_within_the_bound_and_writes_no_row(
    cloud, auth_client, settings
):
    cloud.delay(LATE_BY_SECONDS)

    with TempDirWatcher(settings.FILE_UPLOAD_TEMP_DIR) as watcher:
        response, seconds = timed(lambda: publish(auth_client))

    assert response.status_code == 502
    assert response.json() == STORAGE_FAILED
    assert TIMEOUT_SECONDS <= seconds < BOUND_SECONDS
    assert Video.objects.count() == 0
    # The upload did go through a temp file, and that file is gone.
    assert any(name.endswith(".upload.mp4") for name in watcher.seen), watcher.seen
    assert_nothing_stored_locally(settings)
    # The video upload timed out; the thumbnail was never sent.
    assert [u.resource_type for u in cloud.uploads] == ["video"]


def test_register_answered_too_late_is_a_502_within_the_bound_and_creates_no_user(
    cloud, api_client, settings
):
    users_before = get_user_model().objects.count()
    cloud.delay(LATE_BY_SECONDS)

    response, seconds = timed(lambda: register(api_client))

    assert response.status_code == 502
    assert response.json() == STORAGE_FAILED
    assert TIMEOUT_SECONDS <= seconds < BOUND_SECONDS
    assert get_user_model().objects.count() == users_before
    assert not get_user_model().objects.filter(username="newcomer").exists()
    assert_nothing_stored_locally(settings)


@pytest.mark.parametrize("action", ["publish", "register"])
def test_an_upload_answered_too_late_leaves_no_asset_on_cloudinary(
    action, cloud, api_client, auth_client, caplog
):
    # Like Cloudinary, the fake stores the file first and answers late: the upload did succeed.
    cloud.delay(LATE_BY_SECONDS)

    with caplog.at_level(logging.WARNING, logger="media.cloudinary_backends"):
        response = publish(auth_client) if action == "publish" else register(api_client)

    assert response.status_code == 502
    assert response.json() == STORAGE_FAILED
    [upload] = cloud.uploads
    assert upload.status == 200
    # The public id was ours, so the asset could be destroyed again.
    [destroy] = cloud.destroys
    assert (destroy.resource_type, destroy.params["public_id"], destroy.status) == (
        upload.resource_type,
        upload.params["public_id"],
        200,
    )
    assert cloud.assets == {}
    assert f"destroying {upload.params['public_id']} in case it was stored" in caplog.text
    assert Video.objects.count() == 0
    assert not get_user_model().objects.filter(username="newcomer").exists()


def test_a_late_answer_does_not_break_the_next_request(cloud, auth_client, user):
    cloud.delay(LATE_BY_SECONDS)
    assert publish(auth_client).status_code == 502
    cloud.delay(0)

    response = publish(auth_client)

    assert response.status_code == 201
    video = Video.objects.get()
    assert response.json()["data"]["id"] == str(video.pk)
    assert video.owner == user
    # Exactly the new video and thumbnail: what the late answer had stored was destroyed.
    assert set(cloud.assets) == {video.video_file.name, video.thumbnail.name}


# --- Cloudinary slow on every part: the deadline of the whole upload -------------------------------

# sample.mp4 (6,042 bytes) in parts of 1,000 bytes: 7 parts.
PART_BYTES = 1000
# Each part is answered in time (timeout 0.5 s), but 7 of them take over 2 s...
SLOW_PART_SECONDS = 0.3
# ...and the whole upload may take 1 s.
DEADLINE_SECONDS = 1


def test_publish_slow_on_every_part_ends_at_the_upload_deadline(
    cloud, auth_client, settings, caplog
):
    settings.CLOUDINARY_UPLOAD_CHUNK_BYTES = PART_BYTES
    settings.CLOUDINARY_UPLOAD_DEADLINE_SECONDS = DEADLINE_SECONDS
    cloud.delay(SLOW_PART_SECONDS)

    with caplog.at_level(logging.WARNING, logger="media.cloudinary_backends"):
        response, seconds = timed(lambda: publish(auth_client))

    # Without the deadline every part would be answered in time: a 201 after about 2.4 s.
    assert response.status_code == 502
    assert response.json() == STORAGE_FAILED
    assert DEADLINE_SECONDS <= seconds < BOUND_SECONDS
    uploads = cloud.uploads
    assert {(u.resource_type, u.status) for u in uploads} == {("video", 200)}
    # Stopped between parts: the last part never went out, so Cloudinary assembled nothing.
    assert 1 < len(uploads) < 7
    assert cloud.assets == {}
    assert cloud.destroys == []
    # Between parts ("took longer than CLOUDINARY_UPLOAD_DEADLINE_SECONDS") or within the part
    # that the time left cut short ("upload deadline passed"): the log says which bound it was.
    assert "deadline" in caplog.text.lower()
    assert Video.objects.count() == 0
    assert_nothing_stored_locally(settings)


def test_the_deadline_also_cuts_a_single_slow_part_and_its_asset_is_destroyed(
    cloud, auth_client, settings
):
    # A generous per-call timeout, and one part answered after it would have expired...
    settings.CLOUDINARY_TIMEOUT_SECONDS = 3
    settings.CLOUDINARY_UPLOAD_DEADLINE_SECONDS = DEADLINE_SECONDS
    cloud.delay(1.5)

    response, seconds = timed(lambda: publish(auth_client))

    # ...so the upload's deadline, not the timeout, ends it: the video upload is cut at 1 s, and
    # the destroy of what it stored (answered 1.5 s later, within its timeout) follows.
    assert response.status_code == 502
    assert response.json() == STORAGE_FAILED
    assert DEADLINE_SECONDS + 1.5 <= seconds < DEADLINE_SECONDS + 1.5 + 1.5
    [upload] = cloud.uploads
    [destroy] = cloud.destroys
    assert (destroy.params["public_id"], destroy.status) == (upload.params["public_id"], 200)
    assert cloud.assets == {}
    assert Video.objects.count() == 0
    assert_nothing_stored_locally(settings)


# --- Cloudinary answers 500 ----------------------------------------------------------------------


def test_publish_when_the_video_upload_fails_is_a_502_and_stores_nothing(
    cloud, auth_client, settings
):
    cloud.fail_upload(1, status=500)

    with TempDirWatcher(settings.FILE_UPLOAD_TEMP_DIR) as watcher:
        response, seconds = timed(lambda: publish(auth_client))

    assert response.status_code == 502
    assert response.json() == STORAGE_FAILED
    assert seconds < BOUND_SECONDS
    assert Video.objects.count() == 0
    assert cloud.assets == {}
    assert [(u.resource_type, u.status) for u in cloud.uploads] == [("video", 500)]
    assert any(name.endswith(".upload.mp4") for name in watcher.seen), watcher.seen
    assert_nothing_stored_locally(settings)


def test_publish_when_the_thumbnail_upload_fails_destroys_the_stored_video(
    cloud, auth_client, settings
):
    cloud.fail_upload(2, status=500)

    response, seconds = timed(lambda: publish(auth_client))

    assert response.status_code == 502
    assert response.json() == STORAGE_FAILED
    assert seconds < BOUND_SECONDS
    assert Video.objects.count() == 0
    [video_upload_request, thumbnail_upload_request] = cloud.uploads
    assert (video_upload_request.resource_type, video_upload_request.status) == ("video", 200)
    assert (thumbnail_upload_request.resource_type, thumbnail_upload_request.status) == (
        "image",
        500,
    )
    # The video had reached Cloudinary: it was destroyed again.
    [destroy] = cloud.destroys
    assert (destroy.resource_type, destroy.status) == ("video", 200)
    assert cloud.assets == {}
    assert_nothing_stored_locally(settings)


def test_register_when_the_avatar_upload_fails_is_a_502_and_creates_no_user(
    cloud, api_client, settings
):
    users_before = get_user_model().objects.count()
    cloud.fail_upload(1, status=500)

    response, seconds = timed(lambda: register(api_client))

    assert response.status_code == 502
    assert response.json() == STORAGE_FAILED
    assert seconds < BOUND_SECONDS
    assert get_user_model().objects.count() == users_before
    assert cloud.assets == {}
    assert cloud.destroys == []
    assert_nothing_stored_locally(settings)


def test_register_when_the_cover_upload_fails_destroys_the_stored_avatar(
    cloud, api_client, settings
):
    cloud.fail_upload(2, status=500)

    response = register(api_client, cover=True)

    assert response.status_code == 502
    assert response.json() == STORAGE_FAILED
    assert not get_user_model().objects.filter(username="newcomer").exists()
    assert [u.status for u in cloud.uploads] == [200, 500]
    [destroy] = cloud.destroys
    assert (destroy.resource_type, destroy.status) == ("image", 200)
    assert cloud.assets == {}
    assert_nothing_stored_locally(settings)


def test_the_fault_is_transient_the_next_registration_succeeds(cloud, api_client):
    cloud.fail_upload(1, status=500)
    assert register(api_client, username="firsttry").status_code == 502

    response = register(api_client, username="secondtry")

    assert response.status_code == 201
    user = get_user_model().objects.get(username="secondtry")
    assert not get_user_model().objects.filter(username="firsttry").exists()
    assert cloud.public_ids("image") == [user.avatar.name]


def test_avatar_update_when_cloudinary_fails_keeps_the_old_avatar(cloud, settings):
    owner = UserFactory()
    old_avatar = owner.avatar.name
    old_updated_at = owner.updated_at

    cloud.fail_upload(1, status=500)

    response = bearer_client(owner).patch(
        UPDATE_AVATAR, {"avatar": image_upload("new.png", "PNG", (9, 9))}, format="multipart"
    )

    assert response.status_code == 502
    assert response.json() == STORAGE_FAILED
    owner.refresh_from_db()
    assert owner.avatar.name == old_avatar
    assert owner.updated_at == old_updated_at
    # The old avatar must not be destroyed when its replacement could not be stored.
    assert cloud.destroys == []
    assert cloud.assets == {}
    assert_nothing_stored_locally(settings)


def test_thumbnail_update_when_cloudinary_answers_late_keeps_the_old_thumbnail(
    cloud, auth_client, user, settings
):
    video = VideoFactory(owner=user)
    old_thumbnail = video.thumbnail.name
    old_updated_at = video.updated_at
    cloud.delay(LATE_BY_SECONDS)

    response, seconds = timed(
        lambda: auth_client.patch(
            f"{VIDEOS}/{video.pk}",
            {"thumbnail": image_upload("new.png", "PNG", (16, 9))},
            format="multipart",
        )
    )

    assert response.status_code == 502
    assert response.json() == STORAGE_FAILED
    assert seconds < BOUND_SECONDS
    video.refresh_from_db()
    assert (video.thumbnail.name, video.updated_at) == (old_thumbnail, old_updated_at)
    # Only the new thumbnail, which the late answer had stored, was destroyed; never the old one.
    [upload] = cloud.uploads
    assert [d.params["public_id"] for d in cloud.destroys] == [upload.params["public_id"]]
    assert upload.params["public_id"] != old_thumbnail
    assert cloud.assets == {}
    assert_nothing_stored_locally(settings)


# --- Cloudinary unreachable ----------------------------------------------------------------------


def _closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends: connections refused


def test_publish_when_cloudinary_is_unreachable_is_a_502_at_once(
    cloud, auth_client, settings, caplog
):
    cloudinary.config(upload_prefix=f"http://127.0.0.1:{_closed_port()}")

    with caplog.at_level(logging.INFO, logger="media.cloudinary_backends"):
        response, seconds = timed(lambda: publish(auth_client))

    assert response.status_code == 502
    assert response.json() == STORAGE_FAILED
    assert seconds < BOUND_SECONDS
    assert Video.objects.count() == 0
    assert cloud.uploads == []
    # No connection, so nothing was sent and nothing can have been stored: no destroy attempted.
    assert "Cloudinary upload of" in caplog.text
    assert "destroying" not in caplog.text
    assert_nothing_stored_locally(settings)
