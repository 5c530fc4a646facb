"""Helpers shared by the video tests."""

import pytest

from tests.conftest import image_upload, video_upload

VIDEOS = "/api/v1/videos"
HISTORY = "/api/v1/user/watch-history"


def video_url(video_or_id):
    return f"{VIDEOS}/{getattr(video_or_id, 'pk', video_or_id)}"


def toggle_url(video_or_id):
    return f"{VIDEOS}/toggle/publish/{getattr(video_or_id, 'pk', video_or_id)}"


def publish_payload(**overrides):
    """A valid publish form; pass ``field=None`` to leave a field out."""
    payload = {
        "title": "  My first video  ",
        "description": "All about things.",
        "videoFile": video_upload("sample.mp4", "video/mp4"),
        "thumbnail": image_upload("thumb.png", "PNG", (16, 9)),
    }
    payload.update(overrides)
    return {name: value for name, value in payload.items() if value is not None}


def publish(client, **overrides):
    return client.post(VIDEOS, publish_payload(**overrides), format="multipart")


def person(user):
    return {
        "id": str(user.pk),
        "username": user.username,
        "fullname": user.fullname,
        "avatar": f"/media/{user.avatar.name}" if user.avatar else "",
    }


def iso(moment):
    """A datetime as the API writes it: UTC, milliseconds, Z."""
    return moment.astimezone(__import__("datetime").UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def video_shape(video):
    """The exact list shape of ``video`` as the API must answer it."""
    return {
        "id": str(video.pk),
        "title": video.title,
        "description": video.description,
        "videoFileUrl": f"/media/{video.video_file.name}",
        "thumbnailUrl": f"/media/{video.thumbnail.name}",
        "duration": video.duration,
        "views": video.views,
        "isPublished": video.is_published,
        "userId": str(video.owner_id),
        "createdAt": iso(video.created_at),
        "updatedAt": iso(video.updated_at),
        "user": person(video.owner),
    }


def error(response):
    """Assert the error envelope and return it."""
    body = response.json()
    assert body["statusCode"] == response.status_code
    assert body["success"] is False
    assert body["data"] is None
    assert body["errors"]
    return body


@pytest.fixture
def media_root(settings):
    from pathlib import Path

    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def temp_dir(settings):
    from pathlib import Path

    return Path(settings.FILE_UPLOAD_TEMP_DIR)
