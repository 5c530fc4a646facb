"""Publishing an upload session with Cloudinary (the fake, through the real SDK): the asset the
chunked upload made becomes the video's file, and the processing reads it back from Cloudinary
(a download into a temporary file), takes the frame, and stores it as an image asset."""

import logging

import pytest

from media.models import UploadSession
from tests.conftest import files_under, media_bytes
from tests.videos.test_video_processing import publish_upload, uploaded
from videos import processing
from videos.models import Video

pytestmark = pytest.mark.django_db

PART = 2000


@pytest.fixture
def cloud(fake_cloudinary, settings):
    settings.CLOUDINARY_UPLOAD_CHUNK_BYTES = PART
    fake_cloudinary.min_part_bytes = PART
    # Delivery URLs served by the fake (http): the processing downloads the asset from there.
    settings.CLOUDINARY_STORAGE = {"SECURE": False}
    return fake_cloudinary


def test_the_uploaded_asset_becomes_the_video_and_the_frame_an_image_asset(
    cloud, auth_client, settings, django_capture_on_commit_callbacks
):
    upload_id = uploaded(auth_client, media_bytes("sample.mp4"), chunk=700)
    session = UploadSession.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = publish_upload(auth_client, upload_id)

    assert response.status_code == 201, response.json()
    assert response.json()["data"]["status"] == "processing"
    video = Video.objects.get()
    assert video.video_file.name == session.stored_name
    assert (video.status, video.failure_reason) == ("ready", None)
    assert video.duration == pytest.approx(1.0, abs=0.1)
    assert cloud.public_ids("video") == [session.stored_name]
    assert cloud.public_ids("image") == [video.thumbnail.name]
    assert video.thumbnail.name.endswith(f"frame-{video.pk.hex}")
    assert cloud.assets[video.thumbnail.name].format == "jpg"
    # Nothing on the local disk: no media, no staged part, no downloaded copy.
    assert files_under(settings.MEDIA_ROOT) == []
    assert files_under(settings.FILE_UPLOAD_TEMP_DIR) == []
    detail = auth_client.get(f"/api/v1/videos/{video.pk}").json()["data"]
    assert detail["videoFileUrl"].startswith(f"http://{cloud.host}/")
    assert detail["thumbnailUrl"].startswith(f"http://{cloud.host}/")


def test_an_audio_file_that_cloudinary_took_as_video_ends_failed(
    cloud, auth_client, settings, django_capture_on_commit_callbacks
):
    upload_id = uploaded(auth_client, media_bytes("audio_only.m4a"), chunk=700)

    with django_capture_on_commit_callbacks(execute=True):
        assert publish_upload(auth_client, upload_id).status_code == 201

    video = Video.objects.get()
    assert (video.status, video.failure_reason) == (
        "failed",
        processing.REASONS[processing.NOT_A_VIDEO],
    )
    # The asset stays the video's file; no image was made.
    assert cloud.public_ids("video") == [video.video_file.name]
    assert cloud.public_ids("image") == []
    assert files_under(settings.FILE_UPLOAD_TEMP_DIR) == []


def test_a_cloudinary_that_cannot_be_read_fails_the_video_after_the_retries(
    cloud, auth_client, settings, caplog, django_capture_on_commit_callbacks
):
    upload_id = uploaded(auth_client, media_bytes("sample.mp4"), chunk=700)
    # https URLs, which the fake (http only) cannot answer: every download fails.
    settings.CLOUDINARY_STORAGE = {"SECURE": True}

    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        assert publish_upload(auth_client, upload_id).status_code == 201

    video = Video.objects.get()
    assert (video.status, video.failure_reason) == ("failed", processing.STORAGE_UNREACHABLE)
    assert cloud.public_ids("image") == []
    assert files_under(settings.FILE_UPLOAD_TEMP_DIR) == []
