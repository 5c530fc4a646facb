"""Resumable uploads with Cloudinary (the fake, through the real SDK): each full part goes on
into Cloudinary's chunked upload as soon as it is staged, whatever the client's chunk size."""

import io
import os

import pytest
from django.utils import timezone

from media import services, uploads
from media.models import UploadSession
from tests.conftest import media_bytes
from tests.media.conftest import (
    conflict,
    error,
    put_chunk,
    sha256,
    started,
    status_query,
    upload_in_chunks,
    upload_url,
)

pytestmark = pytest.mark.django_db

PART = 2000
# A real video, padded to span several parts: Cloudinary (the fake) checks the finished file.
VIDEO = media_bytes("sample.mp4")


@pytest.fixture
def cloud(fake_cloudinary, settings):
    """The fake with parts of PART bytes, which it holds to Cloudinary's rule: every part but
    the last at least that big."""
    settings.CLOUDINARY_UPLOAD_CHUNK_BYTES = PART
    fake_cloudinary.min_part_bytes = PART
    return fake_cloudinary


def staged(upload_id):
    folder = uploads.staging_folder(upload_id)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_session_goes_into_one_chunked_upload_and_the_asset_is_byte_identical(
    auth_client, cloud, settings
):
    upload_id = started(auth_client, len(VIDEO))
    session = UploadSession.objects.get()
    assert session.is_remote and session.part_bytes == PART
    assert session.stored_name == f"media/uploads/{session.pk.hex}"

    # Client chunks of 700 bytes: smaller than a part, and never aligned with one.
    answers = upload_in_chunks(auth_client, upload_id, VIDEO, 700)

    assert [a.status_code for a in answers] == [308] * (len(answers) - 1) + [200]
    assert answers[-1].json()["data"] == {
        "uploadId": upload_id,
        "size": len(VIDEO),
        "offset": len(VIDEO),
        "complete": True,
    }
    asset = cloud.assets[session.stored_name]
    assert asset.resource_type == "video"
    assert sha256(asset.read()) == sha256(VIDEO)
    parts = cloud.uploads
    whole = len(VIDEO) // PART
    assert [p.content_range for p in parts] == [
        *(f"bytes {i * PART}-{i * PART + PART - 1}/{len(VIDEO)}" for i in range(whole)),
        f"bytes {whole * PART}-{len(VIDEO) - 1}/{len(VIDEO)}",
    ]
    assert {p.upload_id for p in parts} == {session.remote_upload_id}
    assert all(p.status == 200 for p in parts)
    assert {p.params["public_id"] for p in parts} == {session.stored_name}
    # Nothing is left on the app server's disk, and no local media was written.
    assert not uploads.staging_folder(upload_id).exists()
    assert not uploads.part_file(upload_id).exists()
    assert auth_client.get(upload_url(upload_id)).json()["data"]["complete"] is True


def test_a_part_goes_on_as_soon_as_it_is_full_so_little_stays_on_disk(auth_client, cloud):
    upload_id = started(auth_client, len(VIDEO))

    # One chunk of two and a half parts: two parts go on at once, half a part waits.
    response = put_chunk(auth_client, upload_id, VIDEO[: 2 * PART + 500], 0, len(VIDEO))

    assert response.status_code == 308
    assert response["Range"] == f"bytes=0-{2 * PART + 499}"
    assert len(cloud.uploads) == 2
    assert staged(upload_id) == ["2.part"]
    assert uploads.staged_part(upload_id, 2).read_bytes() == VIDEO[2 * PART : 2 * PART + 500]
    session = UploadSession.objects.get()
    assert (session.received, session.forwarded) == (2 * PART + 500, 2 * PART)


def test_a_part_cloudinary_could_not_take_stays_staged_and_goes_with_the_next_chunk(
    auth_client, cloud
):
    upload_id = started(auth_client, len(VIDEO))
    cloud.fail_upload(n=1)  # the first part's request fails

    first = put_chunk(auth_client, upload_id, VIDEO[: PART + 100], 0, len(VIDEO))

    # The client's bytes are safe on disk: the chunk is stored all the same.
    assert first.status_code == 308
    assert UploadSession.objects.get().forwarded == 0
    assert staged(upload_id) == ["0.part", "1.part"]

    rest = put_chunk(auth_client, upload_id, VIDEO[PART + 100 :], PART + 100, len(VIDEO))

    assert rest.status_code == 200
    assert sha256(cloud.assets[UploadSession.objects.get().stored_name].read()) == sha256(VIDEO)
    assert cloud.uploads[0].status == 500


def test_a_failed_last_part_is_a_502_and_a_status_query_finishes_the_upload(auth_client, cloud):
    upload_id = started(auth_client, len(VIDEO))
    upload_in_chunks(auth_client, upload_id, VIDEO[:-10], 3000, size=len(VIDEO))
    whole = len(VIDEO) // PART
    cloud.fail_upload(n=1)

    last = put_chunk(auth_client, upload_id, VIDEO[-10:], len(VIDEO) - 10, len(VIDEO))

    assert last.status_code == 502, last.json()
    assert error(last)["message"] == services.NOT_CONFIRMED
    standing = auth_client.get(upload_url(upload_id)).json()["data"]
    assert (standing["offset"], standing["complete"]) == (len(VIDEO), False)
    assert staged(upload_id) == [f"{whole}.part"]
    assert cloud.assets == {}

    finished = status_query(auth_client, upload_id, len(VIDEO))

    assert finished.status_code == 200
    assert finished.json()["data"]["complete"] is True
    assert sha256(cloud.assets[UploadSession.objects.get().stored_name].read()) == sha256(VIDEO)
    assert not uploads.staging_folder(upload_id).exists()


def test_a_last_part_whose_answer_was_lost_is_adopted_when_sent_again(auth_client, cloud, settings):
    # Cloudinary stored the asset but its answer came too late: the status query sends the
    # last part again, and Cloudinary answers with the asset it holds under the session's id.
    settings.CLOUDINARY_TIMEOUT_SECONDS = 1
    upload_id = started(auth_client, len(VIDEO))
    upload_in_chunks(auth_client, upload_id, VIDEO[:-10], 3000, size=len(VIDEO))
    cloud.delay(2)
    timed_out = put_chunk(auth_client, upload_id, VIDEO[-10:], len(VIDEO) - 10, len(VIDEO))
    cloud.delay(0)
    stored_name = UploadSession.objects.get().stored_name
    assert timed_out.status_code == 502
    assert list(cloud.assets) == [stored_name]

    finished = status_query(auth_client, upload_id, len(VIDEO))

    assert finished.status_code == 200
    assert list(cloud.assets) == [stored_name]
    assert sha256(cloud.assets[stored_name].read()) == sha256(VIDEO)


def test_a_file_cloudinary_refuses_is_a_422_and_the_upload_is_gone(
    auth_client, cloud, django_capture_on_commit_callbacks
):
    not_a_video = os.urandom(3 * PART + 17)
    upload_id = started(auth_client, len(not_a_video))

    with django_capture_on_commit_callbacks(execute=True):
        answers = upload_in_chunks(auth_client, upload_id, not_a_video, 2500)

    assert [a.status_code for a in answers[:-1]] == [308] * (len(answers) - 1)
    refused = answers[-1]
    assert refused.status_code == 422
    assert error(refused)["message"].startswith("The media storage refused the file:")
    assert UploadSession.objects.count() == 0
    assert not uploads.staging_folder(upload_id).exists()
    assert cloud.assets == {}


def test_an_out_of_order_chunk_is_409_and_nothing_goes_to_cloudinary(auth_client, cloud):
    upload_id = started(auth_client, len(VIDEO))
    put_chunk(auth_client, upload_id, VIDEO[:500], 0, len(VIDEO))

    ahead = put_chunk(auth_client, upload_id, VIDEO[3000:5000], 3000, len(VIDEO))

    assert conflict(ahead) == 500
    assert cloud.uploads == []
    assert staged(upload_id) == ["0.part"]
    assert uploads.staged_part(upload_id, 0).read_bytes() == VIDEO[:500]


def test_a_chunk_cut_short_keeps_its_staged_prefix_and_the_asset_is_byte_identical(
    auth_client, cloud
):
    upload_id = started(auth_client, len(VIDEO))
    cut = put_chunk(
        auth_client,
        upload_id,
        VIDEO[:4000],
        0,
        len(VIDEO),
        **{"wsgi.input": io.BytesIO(VIDEO[: PART + 321])},
    )
    assert cut.status_code == 308
    offset = cut.json()["data"]["offset"]
    assert offset == PART + 321
    assert len(cloud.uploads) == 1  # the one full part

    done = put_chunk(auth_client, upload_id, VIDEO[offset:], offset, len(VIDEO))

    assert done.status_code == 200
    assert sha256(cloud.assets[UploadSession.objects.get().stored_name].read()) == sha256(VIDEO)


def test_cancelling_removes_the_staged_parts_and_a_finished_asset(
    auth_client, cloud, django_capture_on_commit_callbacks
):
    unfinished = started(auth_client, len(VIDEO))
    put_chunk(auth_client, unfinished, VIDEO[: PART + 10], 0, len(VIDEO))
    finished = started(auth_client, len(VIDEO))
    upload_in_chunks(auth_client, finished, VIDEO, 4000)
    assert len(cloud.assets) == 1

    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.delete(upload_url(unfinished)).status_code == 200
    # Cloudinary holds no asset for an upload whose last part was never sent: nothing to destroy.
    assert cloud.destroys == []
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.delete(upload_url(finished)).status_code == 200

    assert cloud.assets == {}
    assert [d.status for d in cloud.destroys] == [200]
    assert not uploads.sessions_root().exists() or list(uploads.sessions_root().iterdir()) == []


def test_the_periodic_task_destroys_the_asset_of_an_expired_complete_upload(
    auth_client, cloud, django_capture_on_commit_callbacks
):
    upload_id = started(auth_client, len(VIDEO))
    upload_in_chunks(auth_client, upload_id, VIDEO, 4000)
    UploadSession.objects.update(expires_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        assert services.upload_sessions_expire() == 1

    assert cloud.assets == {}
    assert UploadSession.objects.count() == 0


def test_consuming_a_complete_upload_keeps_the_asset_under_its_name(
    auth_client, user, cloud, settings
):
    settings.CLOUDINARY_STORAGE = {"SECURE": False}  # delivery URLs the fake serves
    upload_id = started(auth_client, len(VIDEO))
    upload_in_chunks(auth_client, upload_id, VIDEO, 4000)
    stored_name = UploadSession.objects.get().stored_name

    completed = services.upload_session_completed(upload_id=upload_id, owner=user)
    with completed.open() as file:
        assert sha256(file.read()) == sha256(VIDEO)
    name = services.upload_session_consume(upload_id=upload_id, owner=user, name="videos/x.mp4")

    assert name == stored_name
    assert list(cloud.assets) == [stored_name]
    assert UploadSession.objects.count() == 0
