"""Helpers shared by the video tests."""

import pytest

from tests.conftest import image_upload, video_upload
from tests.shapes import iso, person, video_shape  # noqa: F401 (re-exported)

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
