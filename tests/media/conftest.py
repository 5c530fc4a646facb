"""Helpers shared by the resumable upload tests."""

import hashlib
from pathlib import Path

import pytest

from media import uploads
from tests.videos.conftest import error  # noqa: F401 (re-exported)

UPLOADS = "/api/v1/uploads"


def upload_url(upload_id):
    return f"{UPLOADS}/{upload_id}"


def start_upload(client, size, **overrides):
    body = {"filename": "holiday.mp4", "size": size, "contentType": "video/mp4", **overrides}
    return client.post(UPLOADS, body, format="json")


def started(client, size, **overrides):
    """The uploadId of a new session (asserting it was created)."""
    response = start_upload(client, size, **overrides)
    assert response.status_code == 201, response.json()
    return response.json()["data"]["uploadId"]


def put_bytes(client, upload_id, body, content_range, **extra):
    """PUT ``body`` to the upload with this ``Content-Range`` (None: no such header)."""
    if content_range is not None:
        extra["HTTP_CONTENT_RANGE"] = content_range
    extra.setdefault("content_type", "application/octet-stream")
    return client.put(upload_url(upload_id), body, **extra)


def put_chunk(client, upload_id, data, first, size, **extra):
    """PUT ``data`` as the bytes ``first``... of a file of ``size`` bytes."""
    return put_bytes(
        client, upload_id, data, f"bytes {first}-{first + len(data) - 1}/{size}", **extra
    )


def status_query(client, upload_id, size):
    return put_bytes(client, upload_id, b"", f"bytes */{size}")


def upload_in_chunks(client, upload_id, data, chunk_size, *, size=None):
    """Send ``data`` chunk after chunk, as the start of a file of ``size`` bytes (default: all
    of it); returns the answers."""
    size = len(data) if size is None else size
    return [
        put_chunk(client, upload_id, data[first : first + chunk_size], first, size)
        for first in range(0, len(data), chunk_size)
    ]


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def conflict(response):
    """Assert a 409 of the upload protocol and return the offset it reports."""
    assert response.status_code == 409, response.json()
    body = response.json()
    assert body["success"] is False
    assert set(body["data"]) == {"offset"}
    return body["data"]["offset"]


@pytest.fixture
def part_of(settings):
    """``part_of(upload_id)``: the local part file of a session."""

    def part(upload_id):
        return uploads.part_file(upload_id)

    return part


@pytest.fixture
def sessions_folder(settings):
    return Path(settings.MEDIA_ROOT) / uploads.SESSIONS_FOLDER
