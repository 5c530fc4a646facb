"""POST /videos on local storage: validation before anything is stored, no orphans, no temp files."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from PIL import Image

from tests.conftest import files_under, image_bytes, image_upload, media_bytes, video_upload
from tests.factories import VideoFactory
from tests.videos.conftest import VIDEOS, error, iso, person, publish
from videos.models import Video

pytestmark = pytest.mark.django_db


def assert_nothing_stored(media_root, temp_dir):
    assert Video.objects.count() == 0
    assert files_under(media_root) == []
    assert files_under(temp_dir) == []


def test_publish_stores_both_files_and_answers_201_with_the_video(
    auth_client, user, media_root, temp_dir
):
    response = publish(auth_client)

    assert response.status_code == 201
    body = response.json()
    video = Video.objects.select_related("owner").get()
    assert body == {
        "statusCode": 201,
        "data": {
            "id": str(video.pk),
            "title": "My first video",  # trimmed
            "description": "All about things.",
            "videoFileUrl": f"http://testserver/media/{video.video_file.name}",
            "thumbnailUrl": f"http://testserver/media/{video.thumbnail.name}",
            "duration": video.duration,
            "views": 0,
            "isPublished": True,
            "visibility": "public",
            "publishAt": None,
            "publishedAt": iso(video.published_at),
            "status": "ready",
            "failureReason": None,
            "streamingUrl": None,
            "userId": str(user.pk),
            "createdAt": iso(video.created_at),
            "updatedAt": iso(video.updated_at),
            "user": person(user),
        },
        "message": "Video published successfully",
        "success": True,
    }
    assert video.owner == user
    assert video.duration == pytest.approx(1.0, abs=0.1)
    assert video.video_file.name.startswith("videos/") and video.video_file.name.endswith(".mp4")
    assert video.thumbnail.name.startswith("thumbnails/")
    assert video.thumbnail.name.endswith(".png")
    assert files_under(media_root) == sorted([video.video_file.name, video.thumbnail.name])
    # The stored video is the uploaded bytes, untouched.
    assert (media_root / video.video_file.name).read_bytes() == media_bytes("sample.mp4")
    assert files_under(temp_dir) == []


@pytest.mark.parametrize(
    ("name", "content_type", "extension"),
    [
        ("sample.webm", "video/webm", "webm"),
        ("sample.mkv", "video/x-matroska", "mkv"),
        ("sample.mov", "video/quicktime", "mov"),
    ],
)
def test_publish_accepts_webm_matroska_and_quicktime(
    auth_client, media_root, name, content_type, extension
):
    response = publish(auth_client, videoFile=video_upload(name, content_type))

    assert response.status_code == 201, response.json()
    video = Video.objects.get()
    assert video.video_file.name.endswith(f".{extension}")
    assert video.duration > 0
    assert response.json()["data"]["duration"] == video.duration


def test_the_type_comes_from_the_bytes_not_the_name(auth_client):
    # A real WebM sent as "clip.mp4" with an MP4 content type is stored as what it is.
    upload = SimpleUploadedFile("clip.mp4", media_bytes("sample.webm"), content_type="video/mp4")
    response = publish(auth_client, videoFile=upload)

    assert response.status_code == 201
    assert Video.objects.get().video_file.name.endswith(".webm")


def test_large_uploads_are_spooled_to_disk_and_no_temp_file_is_left(
    auth_client, settings, media_root, temp_dir
):
    # Every file part goes through Django's temporary-file handler (as a real video would).
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0

    response = publish(auth_client)

    assert response.status_code == 201
    assert len(files_under(media_root)) == 2
    assert files_under(temp_dir) == []


def test_rejected_upload_spooled_to_disk_leaves_no_temp_file(
    auth_client, settings, media_root, temp_dir
):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    html = SimpleUploadedFile("movie.mp4", b"<html>" + b"x" * 5000, content_type="video/mp4")

    response = publish(auth_client, videoFile=html)

    assert response.status_code == 422
    assert_nothing_stored(media_root, temp_dir)


def test_html_file_named_mp4_is_422_and_nothing_is_stored(auth_client, media_root, temp_dir):
    html = SimpleUploadedFile(
        "movie.mp4", b"<!doctype html><html><body>hi</body></html>", content_type="video/mp4"
    )
    response = publish(auth_client, videoFile=html)

    assert response.status_code == 422
    body = error(response)
    assert body["message"] == "Validation failed"
    assert body["fields"] == {"videoFile": ["Must be an MP4, WebM, Matroska or QuickTime video."]}
    assert_nothing_stored(media_root, temp_dir)


def test_truncated_mp4_is_422_and_nothing_is_stored(auth_client, media_root, temp_dir):
    data = media_bytes("sample.mp4")
    truncated = SimpleUploadedFile("cut.mp4", data[: len(data) // 2], content_type="video/mp4")

    response = publish(auth_client, videoFile=truncated)

    assert response.status_code == 422
    assert list(error(response)["fields"]) == ["videoFile"]
    assert_nothing_stored(media_root, temp_dir)


def test_audio_without_a_video_track_is_422(auth_client, media_root, temp_dir):
    audio = SimpleUploadedFile("song.mp4", media_bytes("audio_only.m4a"), content_type="video/mp4")

    response = publish(auth_client, videoFile=audio)

    assert response.status_code == 422
    assert list(error(response)["fields"]) == ["videoFile"]
    assert_nothing_stored(media_root, temp_dir)


def test_oversized_video_is_413_and_nothing_is_stored(auth_client, settings, media_root, temp_dir):
    settings.SINGLE_UPLOAD_MAX_MB = 1
    # A real MP4 header followed by padding: over the cap by one byte.
    data = media_bytes("sample.mp4")
    big = data + b"\0" * (1024 * 1024 + 1 - len(data))
    response = publish(auth_client, videoFile=SimpleUploadedFile("big.mp4", big, "video/mp4"))

    assert response.status_code == 413
    assert error(response)["message"] == "videoFile is larger than 1 MB"
    assert_nothing_stored(media_root, temp_dir)


def test_oversized_thumbnail_is_413_and_nothing_is_stored(
    auth_client, settings, media_root, temp_dir
):
    settings.IMAGE_MAX_UPLOAD_MB = 1
    png = image_bytes("PNG", (8, 8))
    big = SimpleUploadedFile("big.png", png + b"\0" * (1024 * 1024 + 1 - len(png)), "image/png")

    response = publish(auth_client, thumbnail=big)

    assert response.status_code == 413
    assert error(response)["message"] == "thumbnail is larger than 1 MB"
    assert_nothing_stored(media_root, temp_dir)


def test_a_missing_video_is_422_naming_the_field(auth_client, media_root, temp_dir):
    response = publish(auth_client, videoFile=None)

    assert response.status_code == 422
    body = error(response)
    assert body["fields"] == {
        "videoFile": [
            "Video file is required: send videoFile, or the uploadId of a complete upload"
        ]
    }
    assert_nothing_stored(media_root, temp_dir)


def test_without_a_thumbnail_a_frame_of_the_video_becomes_it(auth_client, media_root, temp_dir):
    response = publish(auth_client, thumbnail=None)

    assert response.status_code == 201, response.json()
    video = Video.objects.get()
    data = response.json()["data"]
    assert (data["status"], video.status) == ("ready", "ready")
    assert video.thumbnail.name.startswith("thumbnails/") and video.thumbnail.name.endswith(".jpg")
    assert data["thumbnailUrl"] == f"http://testserver/media/{video.thumbnail.name}"
    with Image.open(media_root / video.thumbnail.name) as frame:
        assert (frame.format, frame.size) == ("JPEG", (64, 64))
        # Cleaned like an uploaded thumbnail: pixels only, no metadata.
        assert "exif" not in frame.info
    assert files_under(media_root) == sorted([video.video_file.name, video.thumbnail.name])
    assert files_under(temp_dir) == []


def test_a_video_whose_frames_cannot_be_decoded_needs_a_thumbnail(
    auth_client, media_root, temp_dir, monkeypatch
):
    from media import frames

    def no_frame(path, *, duration, field="thumbnail"):
        raise frames.NoFrame("broken stream")

    monkeypatch.setattr("videos.services.extract_frame", no_frame)

    response = publish(auth_client, thumbnail=None)

    assert response.status_code == 422
    assert error(response)["fields"] == {
        "videoFile": ["No frame of the video could be decoded for its thumbnail: send a thumbnail"]
    }
    assert_nothing_stored(media_root, temp_dir)


def test_thumbnail_that_is_not_an_image_is_422(auth_client, media_root, temp_dir):
    text = SimpleUploadedFile("thumb.png", b"just some text, not a picture", "image/png")

    response = publish(auth_client, thumbnail=text)

    assert response.status_code == 422
    assert error(response)["fields"] == {"thumbnail": ["Must be a JPEG, PNG or WebP image."]}
    assert_nothing_stored(media_root, temp_dir)


def test_bad_video_and_bad_thumbnail_are_reported_together(auth_client, media_root, temp_dir):
    response = publish(
        auth_client,
        videoFile=SimpleUploadedFile("a.mp4", b"<html></html>", "video/mp4"),
        thumbnail=SimpleUploadedFile("a.png", b"nope", "image/png"),
    )

    assert response.status_code == 422
    assert set(error(response)["fields"]) == {"videoFile", "thumbnail"}
    assert_nothing_stored(media_root, temp_dir)


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"title": None}, {"title": ["Title is required"]}),
        ({"title": "   "}, {"title": ["Title is required"]}),
        ({"title": "x" * 101}, {"title": ["Title must be at most 100 characters"]}),
        (
            {"description": "x" * 5001},
            {"description": ["Description must be at most 5000 characters"]},
        ),
    ],
)
def test_bad_text_fields_are_422_and_nothing_is_stored(
    auth_client, media_root, temp_dir, overrides, fields
):
    response = publish(auth_client, **overrides)

    assert response.status_code == 422
    assert error(response)["fields"] == fields
    assert_nothing_stored(media_root, temp_dir)


def test_title_of_exactly_100_characters_and_no_description_are_accepted(auth_client):
    response = publish(auth_client, title="t" * 100, description=None)

    assert response.status_code == 201
    video = Video.objects.get()
    assert (video.title, video.description) == ("t" * 100, "")


def test_fields_a_client_may_not_set_are_ignored(auth_client, user, other_user):
    response = publish(
        auth_client,
        views="1000",
        isPublished="false",
        userId=str(other_user.pk),
        owner=str(other_user.pk),
        duration="999",
        likesCount="50",
    )

    assert response.status_code == 201
    video = Video.objects.get()
    assert (video.owner_id, video.views, video.is_published) == (user.pk, 0, True)
    assert (video.likes_count, video.duration < 10) == (0, True)


def test_a_json_body_without_an_upload_is_422(auth_client, media_root):
    response = auth_client.post(VIDEOS, {"title": "No files"}, format="json")

    assert response.status_code == 422
    assert list(error(response)["fields"]) == ["videoFile"]
    assert Video.objects.count() == 0


def test_a_form_encoded_body_is_415(auth_client, media_root):
    response = auth_client.post(
        VIDEOS, "title=No+files", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 415
    assert error(response)["message"] == (
        "Publishing a video needs a multipart/form-data body, or a JSON one with an uploadId"
    )
    assert Video.objects.count() == 0


def test_anonymous_cannot_publish_and_nothing_is_stored(api_client, media_root, temp_dir):
    response = publish(api_client)

    assert response.status_code == 401
    assert error(response)["message"] == "Unauthorized request"
    assert_nothing_stored(media_root, temp_dir)


def test_staff_publishes_as_themselves(staff_client, staff_user):
    response = publish(staff_client)

    assert response.status_code == 201
    assert Video.objects.get().owner == staff_user


def test_thumbnail_storage_failure_is_502_and_the_stored_video_is_deleted(
    auth_client, media_root, temp_dir
):
    # A plain file where the thumbnails folder should be: the video is stored, then the
    # thumbnail save fails for real (the storage cannot create its folder).
    media_root.mkdir(parents=True, exist_ok=True)
    (media_root / "thumbnails").write_text("in the way")

    response = publish(auth_client)

    assert response.status_code == 502
    assert error(response)["message"] == "The media storage service failed; nothing was saved"
    assert Video.objects.count() == 0
    assert files_under(media_root) == ["thumbnails"]
    assert files_under(temp_dir) == []


def test_database_failure_after_storing_deletes_both_files(
    auth_client, monkeypatch, media_root, temp_dir
):
    def failing_insert(video, *args, **kwargs):
        raise IntegrityError("simulated failure of the insert")

    monkeypatch.setattr(Video, "save", failing_insert)

    response = publish(auth_client)

    assert response.status_code == 500
    assert error(response)["message"] == "Internal server error"
    assert files_under(media_root) == []
    assert files_under(temp_dir) == []


def test_a_second_publish_does_not_touch_the_first(auth_client, media_root):
    first = VideoFactory()
    assert publish(auth_client, thumbnail=image_upload("t.jpg", "JPEG")).status_code == 201

    assert Video.objects.count() == 2
    assert Video.objects.get(pk=first.pk).title == first.title
    assert Video.objects.exclude(pk=first.pk).get().thumbnail.name.endswith(".jpg")


def test_publishing_has_its_own_rate_limit_and_a_throttled_upload_stores_nothing(
    auth_client, api_client, settings, media_root
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "upload": "2/h"}

    statuses = [publish(auth_client).status_code for _ in range(3)]

    assert statuses == [201, 201, 429]
    assert Video.objects.count() == 2
    assert len(files_under(media_root)) == 4
    # Reading is not an upload: the list still answers.
    assert api_client.get(VIDEOS).status_code == 200
