"""Resumable uploads on local media: POST /uploads, PUT / GET / DELETE /uploads/:uploadId."""

import io
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from media import services, tasks, uploads
from media.models import UploadSession
from ops.deletion import users_delete
from tests.factories import UploadSessionFactory
from tests.media.conftest import (
    UPLOADS,
    conflict,
    error,
    put_bytes,
    put_chunk,
    sha256,
    start_upload,
    started,
    status_query,
    upload_in_chunks,
    upload_url,
)
from tests.shapes import iso

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


# --- POST /uploads ---------------------------------------------------------------------------------


def test_start_answers_201_with_the_session_and_its_location(auth_client, user):
    before = timezone.now()
    response = start_upload(auth_client, 123_456, filename="Holiday 2026.mov", contentType="")

    assert response.status_code == 201
    session = UploadSession.objects.get()
    assert response["Location"] == f"/api/v1/uploads/{session.pk}"
    assert response.json() == {
        "statusCode": 201,
        "data": {
            "uploadId": str(session.pk),
            "size": 123_456,
            "offset": 0,
            "expiresAt": iso(session.expires_at),
        },
        "message": "Upload started",
        "success": True,
    }
    assert session.owner == user
    assert (session.filename, session.content_type) == ("Holiday 2026.mov", "")
    assert (session.received, session.is_remote, session.is_complete) == (0, False, False)
    lifetime = session.expires_at - before
    assert timedelta(hours=24) <= lifetime < timedelta(hours=24, minutes=1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"size": 10, "contentType": "video/mp4"}, "filename"),
        ({"filename": "", "size": 10, "contentType": "video/mp4"}, "filename"),
        ({"filename": "x" * 256, "size": 10, "contentType": "video/mp4"}, "filename"),
        ({"filename": "a.mp4", "contentType": "video/mp4"}, "size"),
        ({"filename": "a.mp4", "size": 0, "contentType": "video/mp4"}, "size"),
        ({"filename": "a.mp4", "size": -5, "contentType": "video/mp4"}, "size"),
        ({"filename": "a.mp4", "size": "lots", "contentType": "video/mp4"}, "size"),
        ({"filename": "a.mp4", "size": 10}, "contentType"),
        ({"filename": "a.mp4", "size": 10, "contentType": "mp4"}, "contentType"),
    ],
)
def test_start_refuses_bad_fields_with_422_and_opens_nothing(auth_client, body, field):
    response = auth_client.post(UPLOADS, body, format="json")

    assert response.status_code == 422
    assert field in error(response)["fields"]
    assert UploadSession.objects.count() == 0


def test_start_takes_json_only(auth_client):
    response = auth_client.post(
        UPLOADS, {"filename": "a.mp4", "size": 10, "contentType": "video/mp4"}, format="multipart"
    )

    assert response.status_code == 415
    assert UploadSession.objects.count() == 0


def test_a_size_over_the_cap_is_413_and_the_cap_itself_is_allowed(auth_client, settings):
    settings.VIDEO_MAX_UPLOAD_MB = 3

    over = start_upload(auth_client, 3 * MB + 1)
    at_cap = start_upload(auth_client, 3 * MB)

    assert over.status_code == 413
    assert error(over)["message"] == "size is larger than 3 MB"
    assert at_cap.status_code == 201
    assert UploadSession.objects.get().size == 3 * MB


def test_the_default_cap_is_2048_mb_for_sessions_and_100_mb_in_one_request(settings):
    assert settings.VIDEO_MAX_UPLOAD_MB == 2048
    assert settings.SINGLE_UPLOAD_MAX_MB == 100


def test_one_session_more_than_the_limit_is_429_until_one_expires(auth_client, user, settings):
    settings.UPLOAD_SESSIONS_MAX = 2
    first = UploadSessionFactory(owner=user, expires_at=timezone.now() + timedelta(hours=3))
    UploadSessionFactory(owner=user)
    # Neither an expired session nor another user's counts.
    UploadSessionFactory(owner=user, expires_at=timezone.now() - timedelta(seconds=1))
    UploadSessionFactory()

    refused = start_upload(auth_client, 10)

    assert refused.status_code == 429
    assert error(refused)["message"] == (
        "You have 2 uploads open (at most 2): finish, cancel or let one expire first"
    )
    # Until the first one expires.
    assert 3 * 3600 - 60 < int(refused["Retry-After"]) <= 3 * 3600
    assert UploadSession.objects.filter(owner=user).count() == 3

    auth_client.delete(upload_url(first.pk))
    assert start_upload(auth_client, 10).status_code == 201


def test_opening_sessions_counts_in_the_upload_rate_limit_and_chunks_do_not(auth_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "upload": "2/h"}
    upload_id = started(auth_client, 10)
    data = os.urandom(10)

    # Ten chunk requests and status queries, all answered (none is throttled).
    answers = [put_chunk(auth_client, upload_id, data[i : i + 1], i, 10) for i in range(9)]
    answers.append(status_query(auth_client, upload_id, 10))
    assert [a.status_code for a in answers] == [308] * 10
    assert started(auth_client, 10)
    third = start_upload(auth_client, 10)
    assert third.status_code == 429
    assert "Retry-After" in third


@pytest.mark.parametrize("method", ["post", "get", "put", "delete"])
def test_every_upload_route_needs_a_token(api_client, method):
    url = UPLOADS if method == "post" else upload_url(UploadSessionFactory().pk)

    response = getattr(api_client, method)(url)

    assert response.status_code == 401
    error(response)


# --- PUT: chunks -----------------------------------------------------------------------------------


def test_chunks_answer_308_with_the_range_then_200_and_the_file_is_byte_identical(
    auth_client, part_of
):
    data = os.urandom(10_000)
    upload_id = started(auth_client, len(data))

    answers = upload_in_chunks(auth_client, upload_id, data, 3000)

    assert [a.status_code for a in answers] == [308, 308, 308, 200]
    assert [a.get("Range") for a in answers[:3]] == [
        "bytes=0-2999",
        "bytes=0-5999",
        "bytes=0-8999",
    ]
    assert answers[1].json() == {
        "statusCode": 308,
        "data": {"uploadId": upload_id, "size": 10_000, "offset": 6000},
        "message": "Chunk stored",
        "success": True,
    }
    assert answers[3].json() == {
        "statusCode": 200,
        "data": {"uploadId": upload_id, "size": 10_000, "offset": 10_000, "complete": True},
        "message": "Upload complete",
        "success": True,
    }
    assert "Range" not in answers[3]
    assert sha256(part_of(upload_id).read_bytes()) == sha256(data)
    session = UploadSession.objects.get()
    assert (session.received, session.is_complete, session.writer) == (10_000, True, None)


def test_a_chunk_may_have_any_content_type_or_none(auth_client, part_of):
    upload_id = started(auth_client, 6)

    first = put_chunk(auth_client, upload_id, b"abc", 0, 6, content_type="text/html")
    second = auth_client.generic(
        "PUT", upload_url(upload_id), b"def", content_type="", HTTP_CONTENT_RANGE="bytes 3-5/6"
    )

    assert (first.status_code, second.status_code) == (308, 200)
    assert part_of(upload_id).read_bytes() == b"abcdef"


def test_the_whole_file_in_one_chunk_completes_at_once(auth_client, part_of):
    data = os.urandom(4 * MB)  # over DATA_UPLOAD_MAX_MEMORY_SIZE: a chunk is not a JSON body
    upload_id = started(auth_client, len(data))

    response = put_chunk(auth_client, upload_id, data, 0, len(data))

    assert response.status_code == 200
    assert sha256(part_of(upload_id).read_bytes()) == sha256(data)


class _RecordingStream(io.BytesIO):
    """A request body that records the size of every read."""

    def __init__(self, data):
        super().__init__(data)
        self.reads = []

    def read(self, size=-1):
        self.reads.append(size)
        return super().read(size)


def test_the_body_is_read_a_block_at_a_time_never_whole(auth_client, part_of):
    data = os.urandom(3 * uploads.READ_BLOCK_BYTES + 5)
    upload_id = started(auth_client, len(data))
    body = _RecordingStream(data)

    response = put_chunk(auth_client, upload_id, data, 0, len(data), **{"wsgi.input": body})

    assert response.status_code == 200
    assert body.reads and max(body.reads) == uploads.READ_BLOCK_BYTES
    assert -1 not in body.reads and None not in body.reads
    assert sha256(part_of(upload_id).read_bytes()) == sha256(data)


def test_a_status_query_answers_where_the_upload_stands(auth_client):
    upload_id = started(auth_client, 100)

    empty = status_query(auth_client, upload_id, 100)
    put_chunk(auth_client, upload_id, b"x" * 40, 0, 100)
    partway = status_query(auth_client, upload_id, 100)
    put_chunk(auth_client, upload_id, b"y" * 60, 40, 100)
    done = status_query(auth_client, upload_id, 100)

    assert empty.status_code == 308
    assert "Range" not in empty  # no byte stored yet
    assert empty.json()["data"] == {"uploadId": upload_id, "size": 100, "offset": 0}
    assert partway.status_code == 308
    assert partway["Range"] == "bytes=0-39"
    assert partway.json()["data"]["offset"] == 40
    assert done.status_code == 200
    assert done.json()["data"] == {
        "uploadId": upload_id,
        "size": 100,
        "offset": 100,
        "complete": True,
    }


def test_a_status_query_with_a_body_is_400(auth_client, part_of):
    upload_id = started(auth_client, 100)

    response = put_bytes(auth_client, upload_id, b"abc", "bytes */100")

    assert response.status_code == 400
    assert (
        error(response)["message"] == "A status query (Content-Range: bytes */<size>) has no body"
    )
    assert not part_of(upload_id).exists()


def test_an_out_of_order_chunk_is_409_with_the_offset_and_nothing_is_written(auth_client, part_of):
    upload_id = started(auth_client, 100)
    put_chunk(auth_client, upload_id, b"a" * 30, 0, 100)

    ahead = put_chunk(auth_client, upload_id, b"b" * 30, 50, 100)

    assert conflict(ahead) == 30
    assert (
        ahead.json()["message"] == "The upload stands at byte 30: send the chunk that starts there"
    )
    assert part_of(upload_id).read_bytes() == b"a" * 30
    assert UploadSession.objects.get().received == 30


def test_a_chunk_sent_again_is_409_with_the_offset_and_the_stored_bytes_stay(auth_client, part_of):
    # A client whose answer got lost sends the chunk again: it learns where to go on, and the
    # bytes it sent are not even read.
    upload_id = started(auth_client, 100)
    put_chunk(auth_client, upload_id, b"a" * 30, 0, 100)
    put_chunk(auth_client, upload_id, b"b" * 30, 30, 100)

    again = put_chunk(auth_client, upload_id, b"X" * 30, 30, 100)
    overlapping = put_chunk(auth_client, upload_id, b"Y" * 30, 45, 100)

    assert conflict(again) == 60
    assert conflict(overlapping) == 60
    assert part_of(upload_id).read_bytes() == b"a" * 30 + b"b" * 30


def test_a_chunk_for_a_complete_upload_is_409(auth_client, part_of):
    upload_id = started(auth_client, 10)
    put_chunk(auth_client, upload_id, b"0123456789", 0, 10)

    response = put_chunk(auth_client, upload_id, b"9", 9, 10)

    assert conflict(response) == 10
    assert response.json()["message"] == "The upload is complete: nothing more can be written to it"
    assert part_of(upload_id).read_bytes() == b"0123456789"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "bytes 0-9",
        "bytes=0-9/100",
        "bytes 0-9/*",
        "items 0-9/100",
        "bytes -9/100",
        "bytes 0-9/100, 20-29/100",
        "bytes 9-0/100",
        "bytes 0-9/" + "9" * 20,
    ],
)
def test_a_malformed_content_range_is_400_and_nothing_is_written(auth_client, part_of, header):
    upload_id = started(auth_client, 100)

    response = put_bytes(auth_client, upload_id, b"x" * 10, header)

    assert response.status_code == 400
    assert error(response)["message"].startswith("Content-Range")
    assert not part_of(upload_id).exists()
    assert UploadSession.objects.get().received == 0


@pytest.mark.parametrize(
    ("header", "body", "message"),
    [
        (
            "bytes 0-9/99",
            b"x" * 10,
            "Content-Range gives the file 99 bytes; this upload is 100 bytes",
        ),
        ("bytes */99", b"", "Content-Range gives the file 99 bytes; this upload is 100 bytes"),
        (
            "bytes 95-104/100",
            b"x" * 10,
            "Content-Range ends at byte 104, past the last byte of the file (99)",
        ),
        ("bytes 0-9/100", b"x" * 9, "The body is 9 bytes; Content-Range announces 10"),
        ("bytes 0-9/100", b"x" * 11, "The body is 11 bytes; Content-Range announces 10"),
        ("bytes 0-9/100", b"", "The body is 0 bytes; Content-Range announces 10"),
    ],
)
def test_a_range_that_does_not_fit_is_400_and_nothing_is_written(
    auth_client, part_of, header, body, message
):
    upload_id = started(auth_client, 100)

    response = put_bytes(auth_client, upload_id, body, header, CONTENT_LENGTH=str(len(body)))

    assert response.status_code == 400
    assert error(response)["message"] == message
    assert not part_of(upload_id).exists()
    assert UploadSession.objects.get().received == 0


def test_a_chunk_without_content_length_is_400(auth_client, part_of):
    upload_id = started(auth_client, 10)

    response = put_bytes(auth_client, upload_id, b"0123456789", "bytes 0-9/10", CONTENT_LENGTH="")

    assert response.status_code == 400
    assert error(response)["message"] == services.LENGTH_REQUIRED
    assert not part_of(upload_id).exists()


def test_a_chunk_longer_than_the_largest_session_is_413_before_it_is_read(
    auth_client, settings, part_of
):
    settings.VIDEO_MAX_UPLOAD_MB = 1
    upload_id = started(auth_client, MB)
    body = _RecordingStream(b"")

    response = put_bytes(
        auth_client,
        upload_id,
        b"",
        f"bytes 0-{MB}/{MB + 1}",
        CONTENT_LENGTH=str(MB + 1),
        **{"wsgi.input": body},
    )

    assert response.status_code == 413
    assert body.reads == []
    assert not part_of(upload_id).exists()


# --- Interrupted chunks ----------------------------------------------------------------------------


def test_a_chunk_cut_short_keeps_what_arrived_and_the_upload_resumes_byte_identical(
    auth_client, part_of
):
    data = os.urandom(5000)
    upload_id = started(auth_client, len(data))
    put_chunk(auth_client, upload_id, data[:1000], 0, len(data))

    # The client said 3000 bytes but its connection died after 1234 of them.
    cut = put_bytes(
        auth_client,
        upload_id,
        b"",
        f"bytes 1000-3999/{len(data)}",
        CONTENT_LENGTH="3000",
        **{"wsgi.input": io.BytesIO(data[1000:2234])},
    )

    assert cut.status_code == 308
    assert cut["Range"] == "bytes=0-2233"
    assert cut.json()["data"]["offset"] == 2234
    assert part_of(upload_id).read_bytes() == data[:2234]
    offset = status_query(auth_client, upload_id, len(data)).json()["data"]["offset"]
    assert offset == 2234
    finish = put_chunk(auth_client, upload_id, data[offset:], offset, len(data))
    assert finish.status_code == 200
    assert sha256(part_of(upload_id).read_bytes()) == sha256(data)


class _DroppingStream(io.BytesIO):
    """A body whose connection is reset after ``after`` bytes."""

    def __init__(self, data, after):
        super().__init__(data[:after])

    def read(self, size=-1):
        data = super().read(size)
        if not data:
            raise ConnectionResetError("Connection reset by peer")
        return data


def test_a_connection_reset_mid_chunk_keeps_the_bytes_fully_received(auth_client, part_of):
    data = os.urandom(3 * uploads.READ_BLOCK_BYTES)
    upload_id = started(auth_client, len(data))

    cut = put_chunk(
        auth_client,
        upload_id,
        data,
        0,
        len(data),
        **{"wsgi.input": _DroppingStream(data, after=uploads.READ_BLOCK_BYTES + 77)},
    )

    assert cut.status_code == 308
    assert cut.json()["data"]["offset"] == uploads.READ_BLOCK_BYTES + 77
    assert part_of(upload_id).read_bytes() == data[: uploads.READ_BLOCK_BYTES + 77]


def test_bytes_a_dead_writer_left_past_the_offset_are_overwritten(auth_client, part_of):
    # A worker killed after writing but before committing leaves bytes the session does not
    # count: the next chunk starts at the committed offset and nothing of them survives.
    upload_id = started(auth_client, 20)
    put_chunk(auth_client, upload_id, b"a" * 5, 0, 20)
    with part_of(upload_id).open("ab") as file:
        file.write(b"GARBAGE-FROM-A-DEAD-WRITER")

    put_chunk(auth_client, upload_id, b"b" * 5, 5, 20)

    assert part_of(upload_id).read_bytes() == b"a" * 5 + b"b" * 5


def test_a_part_file_shorter_than_the_offset_is_a_502_and_never_padded(auth_client, part_of):
    upload_id = started(auth_client, 20)
    put_chunk(auth_client, upload_id, b"a" * 10, 0, 20)
    part_of(upload_id).unlink()  # e.g. an app server that does not share MEDIA_ROOT

    response = put_chunk(auth_client, upload_id, b"b" * 10, 10, 20)

    assert response.status_code == 502
    error(response)
    assert part_of(upload_id).read_bytes() == b""
    session = UploadSession.objects.get()
    assert (session.received, session.writer) == (10, None)


def test_a_long_chunk_commits_its_bytes_as_it_goes(auth_client, part_of, monkeypatch):
    # Every CHECKPOINT_BYTES the bytes so far are fsync'd and counted: a crash late in a long
    # chunk keeps what came before.
    monkeypatch.setattr(services, "CHECKPOINT_BYTES", 1000)
    seen = []
    checkpoint = services._checkpoint

    def recording(session, token, **fields):
        seen.append(fields.get("received"))
        return checkpoint(session, token, **fields)

    monkeypatch.setattr(services, "_checkpoint", recording)
    data = os.urandom(2 * uploads.READ_BLOCK_BYTES + 10)
    upload_id = started(auth_client, len(data))

    put_chunk(auth_client, upload_id, data, 0, len(data))

    block = uploads.READ_BLOCK_BYTES
    assert seen == [block, 2 * block, 2 * block + 10, None]  # the last: the completion


# --- Claims: one writer at a time ------------------------------------------------------------------


def test_a_chunk_while_another_request_writes_is_409(auth_client, user, part_of):
    session = UploadSessionFactory(
        owner=user,
        size=10,
        writer="0a0a0a0a-0000-4000-8000-000000000000",
        writer_until=timezone.now() + timedelta(seconds=60),
    )

    response = put_chunk(auth_client, session.pk, b"0123456789", 0, 10)

    assert conflict(response) == 0
    assert response.json()["message"] == services.WRITER_BUSY
    assert not part_of(session.pk).exists()


def test_the_claim_of_a_writer_that_died_lapses(auth_client, user, part_of):
    session = UploadSessionFactory(
        owner=user,
        size=10,
        writer="0a0a0a0a-0000-4000-8000-000000000000",
        writer_until=timezone.now() - timedelta(seconds=1),
    )

    response = put_chunk(auth_client, session.pk, b"0123456789", 0, 10)

    assert response.status_code == 200
    assert part_of(session.pk).read_bytes() == b"0123456789"


# --- Privacy, GET, DELETE --------------------------------------------------------------------------


def test_get_answers_where_the_upload_stands(auth_client):
    upload_id = started(auth_client, 100)
    put_chunk(auth_client, upload_id, b"x" * 25, 0, 100)

    response = auth_client.get(upload_url(upload_id))

    session = UploadSession.objects.get()
    assert response.status_code == 200
    assert response.json() == {
        "statusCode": 200,
        "data": {
            "uploadId": upload_id,
            "size": 100,
            "offset": 25,
            "complete": False,
            "expiresAt": iso(session.expires_at),
        },
        "message": "Upload fetched",
        "success": True,
    }


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_another_users_upload_answers_exactly_like_a_missing_one(
    auth_client, other_client, part_of, method
):
    upload_id = started(auth_client, 10)
    put_chunk(auth_client, upload_id, b"01234", 0, 10)

    def send(upload):
        if method == "get":
            return other_client.get(upload_url(upload))
        if method == "put":
            return put_chunk(other_client, upload, b"56789", 5, 10)
        return other_client.delete(upload_url(upload))

    foreign = send(upload_id)
    missing = send("0190e0f0-0000-7000-8000-000000000000")
    malformed = send("not-an-id")

    assert foreign.status_code == missing.status_code == malformed.status_code == 404
    assert foreign.json() == missing.json() == malformed.json()
    assert error(foreign)["message"] == "Upload not found"
    session = UploadSession.objects.get()
    assert session.received == 5
    assert part_of(upload_id).read_bytes() == b"01234"


def test_delete_cancels_and_frees_the_bytes(
    auth_client, part_of, sessions_folder, django_capture_on_commit_callbacks
):
    upload_id = started(auth_client, 10)
    put_chunk(auth_client, upload_id, b"01234", 0, 10)
    assert part_of(upload_id).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.delete(upload_url(upload_id))

    assert response.status_code == 200
    assert response.json() == {
        "statusCode": 200,
        "data": {},
        "message": "Upload cancelled",
        "success": True,
    }
    assert UploadSession.objects.count() == 0
    assert list(sessions_folder.iterdir()) == []
    assert auth_client.get(upload_url(upload_id)).status_code == 404
    assert put_chunk(auth_client, upload_id, b"56789", 5, 10).status_code == 404


def test_the_bytes_of_a_session_are_never_served_as_media(auth_client, client, part_of):
    upload_id = started(auth_client, 10)
    put_chunk(auth_client, upload_id, b"0123456789", 0, 10)
    assert part_of(upload_id).exists()

    response = client.get(f"/media/uploads/{upload_id}.part")

    assert response.status_code == 404
    assert b"0123456789" not in response.content


# --- Expiry ----------------------------------------------------------------------------------------


def test_an_expired_session_is_gone_for_its_owner_at_once(auth_client, user):
    session = UploadSessionFactory(owner=user, expires_at=timezone.now() - timedelta(seconds=1))

    assert auth_client.get(upload_url(session.pk)).status_code == 404
    assert put_chunk(auth_client, session.pk, b"x" * 10, 0, 1000).status_code == 404
    assert status_query(auth_client, session.pk, 1000).status_code == 404


def test_a_chunk_pushes_the_expiry_back(auth_client, settings):
    settings.UPLOAD_SESSION_HOURS = 2
    upload_id = started(auth_client, 10)
    UploadSession.objects.update(expires_at=timezone.now() + timedelta(minutes=5))

    before = timezone.now()
    put_chunk(auth_client, upload_id, b"01234", 0, 10)

    expires_at = UploadSession.objects.get().expires_at
    assert before + timedelta(hours=2) <= expires_at < before + timedelta(hours=2, minutes=1)


def test_the_periodic_task_removes_expired_sessions_and_their_bytes(
    auth_client, user, part_of, django_capture_on_commit_callbacks
):
    expired_id = started(auth_client, 10)
    put_chunk(auth_client, expired_id, b"01234", 0, 10)
    kept_id = started(auth_client, 10)
    put_chunk(auth_client, kept_id, b"01234", 0, 10)
    UploadSession.objects.filter(pk=expired_id).update(expires_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        removed = services.upload_sessions_expire()

    assert removed == 1
    assert [str(pk) for pk in UploadSession.objects.values_list("pk", flat=True)] == [kept_id]
    assert not part_of(expired_id).exists()
    assert part_of(kept_id).read_bytes() == b"01234"


def test_the_periodic_task_leaves_a_session_whose_chunk_is_being_written(user):
    writing = UploadSessionFactory(
        owner=user,
        expires_at=timezone.now() - timedelta(seconds=1),
        writer="0a0a0a0a-0000-4000-8000-000000000000",
        writer_until=timezone.now() + timedelta(seconds=60),
    )

    assert services.upload_sessions_expire() == 0
    assert UploadSession.objects.filter(pk=writing.pk).exists()


def test_the_periodic_task_removes_old_bytes_that_no_session_names(user, part_of, sessions_folder):
    alive = UploadSessionFactory(owner=user)
    sessions_folder.mkdir(parents=True)
    orphan = "0190e0f0-0000-7000-8000-000000000001"
    young_orphan = "0190e0f0-0000-7000-8000-000000000002"
    for name in (alive.pk, orphan, young_orphan):
        part_of(name).write_bytes(b"bytes")
    (sessions_folder / orphan).mkdir()  # a Cloudinary session's staged parts
    (sessions_folder / orphan / "0.part").write_bytes(b"bytes")
    (sessions_folder / "notes.txt").write_bytes(b"not ours")
    an_hour_ago = (timezone.now() - timedelta(hours=1, minutes=1)).timestamp()
    for path in (
        part_of(alive.pk),
        part_of(orphan),
        sessions_folder / orphan,
        sessions_folder / "notes.txt",
    ):
        os.utime(path, (an_hour_ago, an_hour_ago))

    services.upload_sessions_expire()

    assert sorted(p.name for p in sessions_folder.iterdir()) == sorted(
        [f"{alive.pk}.part", f"{young_orphan}.part", "notes.txt"]
    )


# --- Using a complete session (the service the publish step builds on) -----------------------------


def test_consuming_a_complete_upload_moves_its_bytes_into_the_video_storage(
    auth_client, user, settings, part_of
):
    data = os.urandom(3000)
    upload_id = started(auth_client, len(data))
    upload_in_chunks(auth_client, upload_id, data, 1000)

    completed = services.upload_session_completed(upload_id=upload_id, owner=user)
    with completed.open() as file:
        assert file.read() == data
    name = services.upload_session_consume(upload_id=upload_id, owner=user, name="videos/v1.mp4")

    assert name == "videos/v1.mp4"
    assert sha256((Path(settings.MEDIA_ROOT) / name).read_bytes()) == sha256(data)
    assert not part_of(upload_id).exists()
    assert UploadSession.objects.count() == 0
    with pytest.raises(services.errors.NotFound):
        services.upload_session_consume(upload_id=upload_id, owner=user, name="videos/v2.mp4")


def test_an_incomplete_or_foreign_upload_cannot_be_consumed(auth_client, user, other_user):
    upload_id = started(auth_client, 10)
    put_chunk(auth_client, upload_id, b"01234", 0, 10)

    with pytest.raises(services.errors.Conflict) as incomplete:
        services.upload_session_consume(upload_id=upload_id, owner=user, name="videos/v.mp4")
    with pytest.raises(services.errors.NotFound):
        services.upload_session_consume(upload_id=upload_id, owner=other_user, name="videos/v.mp4")

    assert incomplete.value.data == {"offset": 5}
    assert UploadSession.objects.count() == 1


def test_deleting_a_user_deletes_their_uploads_and_the_bytes(
    auth_client, user, other_client, part_of, django_capture_on_commit_callbacks
):
    theirs = started(auth_client, 10)
    put_chunk(auth_client, theirs, b"01234", 0, 10)
    kept = started(other_client, 10)
    put_chunk(other_client, kept, b"01234", 0, 10)

    with django_capture_on_commit_callbacks(execute=True):
        users_delete(users=type(user).objects.filter(pk=user.pk))

    assert [str(pk) for pk in UploadSession.objects.values_list("pk", flat=True)] == [kept]
    assert not part_of(theirs).exists()
    assert part_of(kept).exists()


def test_the_beat_schedule_runs_the_expiry_as_a_task(
    auth_client, part_of, django_capture_on_commit_callbacks
):
    upload_id = started(auth_client, 10)
    put_chunk(auth_client, upload_id, b"01234", 0, 10)
    UploadSession.objects.update(expires_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.expire_upload_sessions.apply()

    assert result.get() == 1
    assert UploadSession.objects.count() == 0
    assert not part_of(upload_id).exists()


def test_a_disk_that_fails_mid_chunk_is_a_502_and_the_offset_stays_where_it_was(
    auth_client, part_of, monkeypatch
):
    upload_id = started(auth_client, 20)
    put_chunk(auth_client, upload_id, b"a" * 10, 0, 20)

    def disk_full(self, block):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(uploads.PartFileSink, "write", disk_full)
    response = put_chunk(auth_client, upload_id, b"b" * 10, 10, 20)

    assert response.status_code == 502
    assert error(response)["message"] == services.CHUNK_NOT_STORED
    session = UploadSession.objects.get()
    assert (session.received, session.writer) == (10, None)
    assert part_of(upload_id).read_bytes() == b"a" * 10


class _TakenOverStream(io.BytesIO):
    """A body during which another request takes the upload over (this one's claim lapsed
    while its client stalled): after the first block, the claim is someone else's."""

    def __init__(self, data, upload_id):
        super().__init__(data)
        self.upload_id = upload_id
        self.blocks = 0

    def read(self, size=-1):
        if self.blocks == 1:
            UploadSession.objects.filter(pk=self.upload_id).update(
                writer="0b0b0b0b-0000-4000-8000-000000000000",
                writer_until=timezone.now() + timedelta(seconds=60),
            )
        self.blocks += 1
        return super().read(size)


def test_a_writer_whose_claim_lapsed_writes_nothing_more(auth_client, part_of, monkeypatch):
    # Every block first renews the claim (as after CHECKPOINT_SECONDS without one).
    monkeypatch.setattr(services, "CHECKPOINT_SECONDS", 0)
    block = uploads.READ_BLOCK_BYTES
    data = os.urandom(3 * block)
    upload_id = started(auth_client, len(data))

    response = put_chunk(
        auth_client,
        upload_id,
        data,
        0,
        len(data),
        **{"wsgi.input": _TakenOverStream(data, upload_id)},
    )

    assert conflict(response) == 0
    assert response.json()["message"] == services.WRITER_BUSY
    # The first block was written under its claim (and is not counted); the second never was.
    assert part_of(upload_id).stat().st_size == block
    assert UploadSession.objects.get().received == 0
