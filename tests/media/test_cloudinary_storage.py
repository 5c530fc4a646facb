"""The Cloudinary storages against the fake Cloudinary, through the real SDK."""

import logging
import time

import cloudinary
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import TemporaryUploadedFile

from media.errors import MediaStorageError
from media.storage import video_storage
from tests.conftest import files_under, image_bytes, media_bytes
from videos.models import Video

VIDEO = media_bytes("sample.mp4")


@pytest.fixture
def images(fake_cloudinary):
    return storages["default"]


@pytest.fixture
def videos(fake_cloudinary):
    return storages["videos"]


def test_storages_are_cloudinary_and_nothing_lands_in_media_root(fake_cloudinary, settings):
    """Canary: a model field really goes to Cloudinary (configuring storage through the
    settings Django ignores would silently keep files on the local disk)."""
    video = Video()
    video.video_file.save("clip.mp4", ContentFile(VIDEO), save=False)
    video.thumbnail.save("thumb.png", ContentFile(image_bytes()), save=False)

    assert type(default_storage._wrapped).__name__ == "CloudinaryImageStorage"
    assert type(video_storage._wrapped).__name__ == "CloudinaryVideoStorage"
    assert fake_cloudinary.public_ids("video") == [video.video_file.name]
    assert fake_cloudinary.public_ids("image") == [video.thumbnail.name]
    assert files_under(settings.MEDIA_ROOT) == []


def test_image_save_stores_one_image_asset(images, fake_cloudinary):
    data = image_bytes("PNG", size=(12, 7))

    name = images.save("avatars/me.png", ContentFile(data))

    # The storage name is the public id: MEDIA_URL as prefix, no extension (image/video assets
    # keep their format apart), no suffix of Cloudinary's.
    assert name == "media/avatars/me"
    asset = fake_cloudinary.assets[name]
    assert (asset.resource_type, asset.format, asset.width, asset.height) == ("image", "png", 12, 7)
    assert asset.read() == data
    assert asset.tags == ("media",)
    [upload] = fake_cloudinary.uploads
    assert upload.params["public_id"] == "media/avatars/me"
    assert (upload.params["unique_filename"], upload.params["overwrite"]) == ("0", "0")
    assert "folder" not in upload.params
    # Sent in parts even when small: one part covering all of it.
    assert upload.content_range == f"bytes 0-{len(data) - 1}/{len(data)}"


def test_video_save_streams_in_chunks_and_the_fake_assembles_them(
    videos, fake_cloudinary, settings
):
    settings.CLOUDINARY_UPLOAD_CHUNK_BYTES = 1000

    name = videos.save("videos/clip.mp4", ContentFile(VIDEO))

    uploads = fake_cloudinary.uploads
    assert len(uploads) == 7  # 6,042 bytes in parts of 1,000
    assert [u.content_range for u in uploads] == [
        *(f"bytes {start}-{start + 999}/6042" for start in range(0, 6000, 1000)),
        "bytes 6000-6041/6042",
    ]
    assert {u.upload_id for u in uploads} != {None}
    assert len({u.upload_id for u in uploads}) == 1
    assert all(u.status == 200 and u.resource_type == "video" for u in uploads)
    assert {u.params["public_id"] for u in uploads} == {"media/videos/clip"}
    assert fake_cloudinary.public_ids() == [name] == ["media/videos/clip"]
    asset = fake_cloudinary.assets[name]
    assert (asset.resource_type, asset.format, asset.bytes, asset.duration) == (
        "video",
        "mp4",
        6042,
        1.0,
    )
    assert asset.read() == VIDEO


def test_save_leaves_the_callers_file_open_and_sends_it_from_the_start(videos, fake_cloudinary):
    upload = TemporaryUploadedFile("clip.mp4", "video/mp4", len(VIDEO), None)
    upload.write(VIDEO)
    upload.seek(100)  # as after validation read the head of the file

    name = videos.save("videos/clip.mp4", upload)

    assert fake_cloudinary.assets[name].read() == VIDEO
    # The storage must not close it: a closed TemporaryUploadedFile is deleted.
    assert not upload.closed
    upload.seek(0)
    assert upload.read() == VIDEO
    upload.close()


def test_urls_are_https_by_default(videos, images):
    # Whatever the SDK's global configuration says (it is http unless something sets it).
    cloudinary.config(secure=False)

    assert videos.url("media/videos/clip_abc123") == (
        "https://res.cloudinary.com/viztube-fake/video/upload/v1/media/videos/clip_abc123"
    )
    assert images.url("media/avatars/me_abc123").startswith(
        "https://res.cloudinary.com/viztube-fake/image/upload/"
    )


def test_insecure_urls_are_served_by_the_fake(videos, fake_cloudinary, settings):
    settings.CLOUDINARY_STORAGE = {"SECURE": False}
    name = videos.save("videos/clip.mp4", ContentFile(VIDEO))

    assert videos.url(name).startswith(f"{fake_cloudinary.url}/viztube-fake/video/upload/")
    assert videos.exists(name) is True
    assert videos.exists("media/videos/missing") is False
    assert videos.size(name) == len(VIDEO)
    with videos.open(name) as downloaded:
        assert downloaded.read() == VIDEO
    with pytest.raises(FileNotFoundError):
        videos.open("media/videos/missing")


def test_delete_destroys_video_and_thumbnail_and_is_idempotent(videos, images, fake_cloudinary):
    video_name = videos.save("videos/clip.mp4", ContentFile(VIDEO))
    image_name = images.save("thumbnails/clip.png", ContentFile(image_bytes()))

    assert videos.delete(video_name) is True
    assert images.delete(image_name) is True
    assert fake_cloudinary.assets == {}
    assert [(d.resource_type, d.params["public_id"]) for d in fake_cloudinary.destroys] == [
        ("video", video_name),
        ("image", image_name),
    ]
    # Deleting what is already gone is not a failure.
    assert videos.delete(video_name) is True


def test_failed_delete_is_logged_and_returns_false(videos, fake_cloudinary, caplog):
    name = videos.save("videos/clip.mp4", ContentFile(VIDEO))
    fake_cloudinary.fail_destroy(1)

    with caplog.at_level(logging.WARNING, logger="media.cloudinary_backends"):
        assert videos.delete(name) is False

    assert name in caplog.text
    assert fake_cloudinary.public_ids() == [name]
    assert videos.delete(name) is True
    assert fake_cloudinary.assets == {}


def test_wrong_secret_is_refused_with_401(images, fake_cloudinary):
    cloudinary.config(api_secret="not-the-secret")

    with pytest.raises(MediaStorageError) as raised:
        images.save("avatars/me.png", ContentFile(image_bytes()))

    assert raised.value.name.endswith("avatars/me.png")
    assert [u.status for u in fake_cloudinary.uploads] == [401]
    assert fake_cloudinary.assets == {}


def test_server_error_mid_upload_raises_media_storage_error(videos, fake_cloudinary, settings):
    settings.CLOUDINARY_UPLOAD_CHUNK_BYTES = 2000
    fake_cloudinary.fail_upload(2)

    with pytest.raises(MediaStorageError, match="Cloudinary upload failed"):
        videos.save("videos/clip.mp4", ContentFile(VIDEO))

    assert [u.status for u in fake_cloudinary.uploads] == [200, 500]
    assert fake_cloudinary.assets == {}
    # The fault was one request; the next upload goes through.
    name = videos.save("videos/clip.mp4", ContentFile(VIDEO))
    assert fake_cloudinary.public_ids() == [name]


def test_slow_answer_times_out_with_media_storage_error(images, fake_cloudinary, settings):
    settings.CLOUDINARY_TIMEOUT_SECONDS = 0.3
    fake_cloudinary.delay(2)

    started = time.monotonic()
    with pytest.raises(MediaStorageError):
        images.save("avatars/me.png", ContentFile(image_bytes()))

    assert time.monotonic() - started < 1.5
    # Cloudinary had stored it before its late answer; the storage destroyed it again.
    [upload] = fake_cloudinary.uploads
    [destroy] = fake_cloudinary.destroys
    assert destroy.params["public_id"] == upload.params["public_id"] == "media/avatars/me"
    assert fake_cloudinary.assets == {}


def test_an_asset_already_stored_under_the_name_is_neither_replaced_nor_destroyed(
    images, fake_cloudinary
):
    first = image_bytes("PNG", size=(5, 5))
    name = images.save("avatars/me.png", ContentFile(first))

    with pytest.raises(MediaStorageError, match="already holds"):
        images.save("avatars/me.png", ContentFile(image_bytes("PNG", size=(9, 9))))

    assert fake_cloudinary.public_ids() == [name]
    assert fake_cloudinary.assets[name].read() == first
    assert fake_cloudinary.destroys == []


def test_bytes_that_are_not_a_video_are_refused(videos, fake_cloudinary):
    with pytest.raises(MediaStorageError, match="Unsupported video format"):
        videos.save("videos/clip.mp4", ContentFile(b"<html>not a video</html>"))

    assert [u.status for u in fake_cloudinary.uploads] == [400]
    assert fake_cloudinary.assets == {}


def test_empty_file_raises_media_storage_error(videos, fake_cloudinary):
    with pytest.raises(MediaStorageError, match="stored nothing"):
        videos.save("videos/clip.mp4", ContentFile(b""))

    assert fake_cloudinary.uploads == []


def test_the_fixture_leaves_cloudinary_url_empty(fake_cloudinary, settings):
    """viztube.urls reads it when the URLconf loads: set here, /media/ could vanish for good."""
    assert settings.CLOUDINARY_URL == ""


def test_settings_are_back_to_local_files_after_the_fixture(settings):
    """Runs after the tests above (file order): the fixture restored what it changed."""
    assert settings.STORAGES["videos"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert settings.CLOUDINARY_URL == ""
