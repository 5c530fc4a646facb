"""Publish, thumbnail replacement and delete with Cloudinary storages, against the fake
Cloudinary server driven by the real SDK: what assets exist afterwards, and no orphans."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from media.tasks import INLINE_ATTEMPTS
from tests.conftest import files_under, image_upload, media_bytes
from tests.videos.conftest import error, publish, video_url
from videos.models import Video

pytestmark = pytest.mark.django_db


@pytest.fixture
def cloud(fake_cloudinary, settings):
    # Delivery URLs served by the fake (http), so they can be compared with its host.
    settings.CLOUDINARY_STORAGE = {"SECURE": False}
    return fake_cloudinary


@pytest.fixture
def cloud_video(cloud, auth_client):
    response = publish(auth_client)
    assert response.status_code == 201, response.json()
    return Video.objects.get(pk=response.json()["data"]["id"])


def test_publish_stores_one_video_asset_and_one_image_asset(
    cloud, auth_client, media_root, temp_dir
):
    response = publish(auth_client)

    assert response.status_code == 201
    video = Video.objects.get()
    assert cloud.public_ids("video") == [video.video_file.name]
    assert cloud.public_ids("image") == [video.thumbnail.name]
    asset = cloud.assets[video.video_file.name]
    assert asset.read() == media_bytes("sample.mp4")
    assert asset.duration == pytest.approx(video.duration, abs=0.1)
    data = response.json()["data"]
    assert data["videoFileUrl"].startswith(f"http://{cloud.host}/")
    assert video.video_file.name in data["videoFileUrl"]
    assert data["thumbnailUrl"].startswith(f"http://{cloud.host}/")
    # Storage keys are not exposed as fields of their own.
    assert not {"videoFilePublicId", "thumbnailPublicId"} & set(data)
    # Nothing on the local disk, no temp file left.
    assert files_under(media_root) == []
    assert files_under(temp_dir) == []


def test_a_spooled_video_goes_up_in_chunks_and_no_temp_file_is_left(
    cloud, auth_client, settings, temp_dir
):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # the video arrives as a temp file
    settings.CLOUDINARY_UPLOAD_CHUNK_BYTES = 2000

    response = publish(auth_client)

    assert response.status_code == 201
    video_parts = [u for u in cloud.uploads if u.resource_type == "video"]
    assert len(video_parts) == 4  # 6,042 bytes in parts of 2,000
    assert cloud.public_ids("video") == [Video.objects.get().video_file.name]
    assert files_under(temp_dir) == []


def test_thumbnail_upload_failing_destroys_the_video_already_stored(
    cloud, auth_client, media_root, temp_dir
):
    cloud.fail_upload(2)  # 1st upload: the video (one part); 2nd: the thumbnail

    response = publish(auth_client)

    assert response.status_code == 502
    assert error(response)["message"] == "The media storage service failed; nothing was saved"
    assert Video.objects.count() == 0
    assert cloud.public_ids() == []
    [destroy] = cloud.destroys
    assert destroy.resource_type == "video"
    assert destroy.status == 200
    assert files_under(media_root) == []
    assert files_under(temp_dir) == []


def test_video_upload_failing_is_502_and_nothing_else_is_sent(cloud, auth_client):
    cloud.fail_upload(1)

    response = publish(auth_client)

    assert response.status_code == 502
    assert Video.objects.count() == 0
    assert cloud.public_ids() == []
    assert len(cloud.uploads) == 1  # the thumbnail was never sent


def test_database_failure_destroys_both_assets(cloud, auth_client, monkeypatch):
    def failing_insert(video, *args, **kwargs):
        raise RuntimeError("simulated failure of the insert")

    monkeypatch.setattr(Video, "save", failing_insert)

    response = publish(auth_client)

    assert response.status_code == 500
    assert cloud.public_ids() == []
    assert sorted(d.resource_type for d in cloud.destroys) == ["image", "video"]


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        (
            {"videoFile": SimpleUploadedFile("a.mp4", b"<html><body>x</body></html>", "video/mp4")},
            422,
        ),
        (
            {
                "videoFile": SimpleUploadedFile(
                    "cut.mp4", media_bytes("sample.mp4")[:3000], "video/mp4"
                )
            },
            422,
        ),
        ({"thumbnail": SimpleUploadedFile("t.png", b"not an image", "image/png")}, 422),
        ({"videoFile": None}, 422),
    ],
)
def test_invalid_uploads_never_reach_cloudinary(cloud, auth_client, overrides, status):
    response = publish(auth_client, **overrides)

    assert response.status_code == status
    assert cloud.uploads == []
    assert Video.objects.count() == 0


def test_oversized_video_never_reaches_cloudinary(cloud, auth_client, settings):
    settings.SINGLE_UPLOAD_MAX_MB = 1
    data = media_bytes("sample.mp4")
    big = SimpleUploadedFile("big.mp4", data + b"\0" * (1024 * 1024 + 1 - len(data)), "video/mp4")

    response = publish(auth_client, videoFile=big)

    assert response.status_code == 413
    assert cloud.uploads == []


def test_replacing_the_thumbnail_destroys_the_old_asset_after_commit(
    cloud, cloud_video, auth_client, django_capture_on_commit_callbacks
):
    old_thumbnail = cloud_video.thumbnail.name

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.patch(
            video_url(cloud_video),
            {"thumbnail": image_upload("new.webp", "WEBP", (20, 20))},
            format="multipart",
        )

    assert response.status_code == 200
    cloud_video.refresh_from_db()
    assert cloud_video.thumbnail.name != old_thumbnail
    assert cloud.public_ids("image") == [cloud_video.thumbnail.name]
    assert cloud.assets[cloud_video.thumbnail.name].format == "webp"
    assert cloud.public_ids("video") == [cloud_video.video_file.name]
    assert cloud_video.thumbnail.name in response.json()["data"]["thumbnailUrl"]


def test_a_failed_thumbnail_upload_on_update_keeps_everything(cloud, cloud_video, auth_client):
    before = cloud.public_ids()
    cloud.fail_upload(1)

    response = auth_client.patch(
        video_url(cloud_video), {"thumbnail": image_upload("n.png")}, format="multipart"
    )

    assert response.status_code == 502
    assert cloud.public_ids() == before
    assert Video.objects.get(pk=cloud_video.pk).thumbnail.name == cloud_video.thumbnail.name


def test_deleting_the_video_destroys_both_assets_after_commit(
    cloud, cloud_video, auth_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.delete(video_url(cloud_video))

    assert response.status_code == 200
    assert cloud.public_ids() == []
    assert sorted(d.resource_type for d in cloud.destroys) == ["image", "video"]


def test_a_destroy_that_keeps_failing_is_logged_and_the_deletion_stands(
    cloud, cloud_video, auth_client, caplog, django_capture_on_commit_callbacks
):
    for n in range(1, INLINE_ATTEMPTS + 1):
        cloud.fail_destroy(n)  # the video's destroy, and every retry of it

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.delete(video_url(cloud_video))

    assert response.status_code == 200
    assert not Video.objects.filter(pk=cloud_video.pk).exists()
    # The video asset could not be destroyed, even when asked again (an orphan, logged as an
    # error); the thumbnail was.
    assert cloud.public_ids() == [cloud_video.video_file.name]
    assert f"Deleting media {cloud_video.video_file.name} failed" in caplog.text


def test_another_user_cannot_delete_and_no_asset_is_destroyed(
    cloud, cloud_video, other_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = other_client.delete(video_url(cloud_video))

    assert response.status_code == 403
    assert len(cloud.public_ids()) == 2
    assert cloud.destroys == []
