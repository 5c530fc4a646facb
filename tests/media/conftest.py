"""Helpers shared by the resumable upload tests."""

import hashlib
from pathlib import Path

import pytest

from media import uploads

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


def put_chunk(
    client, upload_id, data, first, size, *, content_type="application/octet-stream", **extra
):
    """PUT ``data`` as the bytes ``first``... of a file of ``size`` bytes."""
    headers = {"HTTP_CONTENT_RANGE": f"bytes {first}-{first + len(data) - 1}/{size}", **extra}
    return client.put(upload_url(upload_id), data, content_type=content_type, **headers)


def status_query(client, upload_id, size):
    return client.put(
        upload_url(upload_id),
        b"",
        content_type="application/octet-stream",
        HTTP_CONTENT_RANGE=f"bytes */{size}",
    )


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


def error(response):
    """Assert the error envelope (data null) and return it."""
    body = response.json()
    assert body["statusCode"] == response.status_code
    assert body["success"] is False
    assert body["data"] is None
    assert body["errors"]
    return body


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
