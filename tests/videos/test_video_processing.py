"""Publishing from an upload session: POST /videos with an uploadId answers 201 with the video
processing, and the processing task (inline here: the suite has no broker) checks the bytes,
takes a frame when there is no thumbnail, and marks the video ready or failed. Reprocessing, the
deadline of a stuck video, and a broker that cannot take the task."""

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from media.errors import MediaStorageError
from media.models import UploadSession
from tests.conftest import files_under, image_upload, media_bytes, video_upload
from tests.factories import VideoFactory
from tests.media.conftest import put_chunk, started, upload_in_chunks
from tests.videos.conftest import VIDEOS, error, video_url
from videos import processing, services, tasks
from videos.models import Video, VideoCatalog

pytestmark = pytest.mark.django_db

DOWN_BROKER = "redis://127.0.0.1:1/10"
NOT_A_VIDEO = (
    "The file is not a video we can read: upload an MP4, WebM, Matroska or QuickTime video"
)
NO_VIDEO_TRACK = "The file has no readable video track: it may be damaged, cut short or sound only"


def uploaded(client, data, chunk=2000):
    """The uploadId of a complete upload of ``data``."""
    upload_id = started(client, len(data))
    answers = upload_in_chunks(client, upload_id, data, chunk)
    assert answers[-1].status_code == 200, answers[-1].json()
    return upload_id


def publish_upload(client, upload_id, *, fmt="json", **fields):
    body = {"title": "From an upload", "uploadId": upload_id, **fields}
    body = {name: value for name, value in body.items() if value is not None}
    return client.post(VIDEOS, body, format=fmt)


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """Run what a request leaves for after its commit (the enqueued task, inline here), as a
    committed request would: the suite's tests run inside a transaction."""

    def run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return run


# --- A publish from a session --------------------------------------------------------------------


def test_a_session_publish_answers_201_processing_then_the_task_makes_it_ready(
    auth_client, user, settings, run_tasks
):
    upload_id = uploaded(auth_client, media_bytes("sample.mp4"))

    response = run_tasks(lambda: publish_upload(auth_client, upload_id))

    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    video = Video.objects.get()
    # The answer is the video as it was inserted: nothing probed in the request.
    assert (data["id"], data["status"], data["failureReason"]) == (
        str(video.pk),
        "processing",
        None,
    )
    assert (data["duration"], data["thumbnailUrl"], data["publishedAt"]) == (0, "", None)
    assert data["streamingUrl"] is None
    # Then the task ran (inline, after the commit).
    assert (video.status, video.failure_reason, video.processing_started_at) == (
        "ready",
        None,
        None,
    )
    assert video.duration == pytest.approx(1.0, abs=0.1)
    assert video.published_at is not None
    assert video.video_file.name.startswith("videos/") and video.video_file.name.endswith(".mp4")
    assert video.thumbnail.name == f"thumbnails/frame-{video.pk.hex}.jpg"
    media_root = Path(settings.MEDIA_ROOT)
    with Image.open(media_root / video.thumbnail.name) as frame:
        assert (frame.format, frame.size) == ("JPEG", (64, 64))
    # The upload's bytes are the video's file; nothing else is left.
    assert (media_root / video.video_file.name).read_bytes() == media_bytes("sample.mp4")
    assert files_under(media_root) == sorted([video.video_file.name, video.thumbnail.name])
    assert UploadSession.objects.count() == 0
    assert VideoCatalog.objects.get().published_videos == 1
    listed = auth_client.get(VIDEOS).json()["data"]
    assert [doc["id"] for doc in listed["docs"]] == [str(video.pk)]
    assert listed["docs"][0]["status"] == "ready"


@pytest.mark.parametrize(
    ("name", "extension"),
    [("sample.webm", "webm"), ("sample.mkv", "mkv"), ("sample.mov", "mov")],
)
def test_a_session_of_every_accepted_type_becomes_ready(auth_client, run_tasks, name, extension):
    upload_id = uploaded(auth_client, media_bytes(name))

    assert run_tasks(lambda: publish_upload(auth_client, upload_id)).status_code == 201

    video = Video.objects.get()
    assert video.status == "ready"
    assert video.video_file.name.endswith(f".{extension}")
    assert video.duration > 0


def test_a_multipart_session_publish_keeps_the_given_thumbnail(auth_client, settings, run_tasks):
    upload_id = uploaded(auth_client, media_bytes("sample.mp4"))

    response = run_tasks(
        lambda: publish_upload(
            auth_client,
            upload_id,
            fmt="multipart",
            thumbnail=image_upload("thumb.png", "PNG", (16, 9)),
            visibility="unlisted",
        )
    )

    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    video = Video.objects.get()
    assert data["thumbnailUrl"] == f"http://testserver/media/{video.thumbnail.name}"
    assert video.thumbnail.name.endswith(".png")
    assert (video.status, video.visibility, video.published_at) == ("ready", "unlisted", None)
    assert files_under(settings.MEDIA_ROOT) == sorted([video.video_file.name, video.thumbnail.name])


def test_a_scheduled_session_publish_waits_for_its_time(auth_client, run_tasks):
    upload_id = uploaded(auth_client, media_bytes("sample.mp4"))
    publish_at = timezone.now() + timedelta(days=2)

    response = run_tasks(
        lambda: publish_upload(auth_client, upload_id, publishAt=publish_at.isoformat())
    )

    assert response.status_code == 201, response.json()
    video = Video.objects.get()
    assert (video.status, video.visibility, video.publish_at) == ("ready", "private", publish_at)
    assert VideoCatalog.objects.get().published_videos == 0


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x00garbage bytes that are no video at all" * 100, NOT_A_VIDEO),
        (media_bytes("sample.mp4")[:3000], NO_VIDEO_TRACK),
        (media_bytes("audio_only.m4a"), NOT_A_VIDEO),
    ],
    ids=["garbage", "truncated", "audio-only"],
)
def test_bytes_that_are_no_readable_video_end_failed_with_a_reason(
    auth_client, other_client, api_client, settings, run_tasks, data, reason
):
    upload_id = uploaded(auth_client, data)

    response = run_tasks(lambda: publish_upload(auth_client, upload_id))

    assert response.status_code == 201, response.json()
    video = Video.objects.get()
    assert (video.status, video.failure_reason) == ("failed", reason)
    assert (video.published_at, video.thumbnail.name, video.duration) == (None, "", 0)
    # The bytes stay the video's file (its owner may reprocess or delete it); nothing else.
    assert files_under(settings.MEDIA_ROOT) == [video.video_file.name]
    assert UploadSession.objects.count() == 0
    detail = auth_client.get(video_url(video)).json()["data"]
    assert (detail["status"], detail["failureReason"]) == ("failed", reason)
    assert other_client.get(video_url(video)).status_code == 404
    assert api_client.get(video_url(video)).status_code == 404
    assert auth_client.get(VIDEOS).json()["data"]["totalDocs"] == 0
    dashboard = auth_client.get("/api/v1/dashboard/videos").json()["data"]["docs"]
    assert [(doc["status"], doc["failureReason"]) for doc in dashboard] == [("failed", reason)]


def test_deleting_a_failed_video_deletes_its_bytes(auth_client, settings, run_tasks):
    upload_id = uploaded(auth_client, b"\x00not a video" * 300)
    run_tasks(lambda: publish_upload(auth_client, upload_id))
    video = Video.objects.get()

    response = run_tasks(lambda: auth_client.delete(video_url(video)))

    assert response.status_code == 200
    assert files_under(settings.MEDIA_ROOT) == []


# --- Refused publishes change nothing ------------------------------------------------------------


def session_intact(upload_id, settings, size):
    session = UploadSession.objects.get(pk=upload_id)
    part = Path(settings.MEDIA_ROOT) / "uploads" / f"{upload_id}.part"
    return session.is_complete and part.stat().st_size == size


def test_both_a_file_and_an_upload_is_422(auth_client, settings):
    data = media_bytes("sample.mp4")
    upload_id = uploaded(auth_client, data)

    response = publish_upload(
        auth_client,
        upload_id,
        fmt="multipart",
        videoFile=video_upload(),
    )

    assert response.status_code == 422
    assert error(response)["fields"] == {
        "uploadId": ["Send either videoFile or uploadId, not both"]
    }
    assert Video.objects.count() == 0
    assert session_intact(upload_id, settings, len(data))


@pytest.mark.parametrize("upload_id", ["not-a-uuid", None])
def test_a_json_publish_without_a_valid_upload_id_is_422(auth_client, upload_id):
    response = publish_upload(auth_client, upload_id)

    assert response.status_code == 422
    fields = error(response)["fields"]
    assert list(fields) == ["uploadId" if upload_id else "videoFile"]
    assert Video.objects.count() == 0


def test_an_unknown_or_someone_elses_upload_is_422_with_the_thumbnails_problem_too(
    auth_client, other_client, settings
):
    data = media_bytes("sample.mp4")
    theirs = uploaded(other_client, data)

    response = publish_upload(
        auth_client,
        theirs,
        fmt="multipart",
        thumbnail=SimpleUploadedFile("t.png", b"not an image", "image/png"),
    )

    assert response.status_code == 422
    assert error(response)["fields"] == {
        "thumbnail": ["Must be a JPEG, PNG or WebP image."],
        "uploadId": ["No upload with this id: start one with POST /uploads"],
    }
    assert session_intact(theirs, settings, len(data))
    assert Video.objects.count() == 0
    assert files_under(Path(settings.MEDIA_ROOT) / "thumbnails") == []


def test_an_incomplete_upload_is_409_with_its_offset_and_stays(auth_client, settings):
    upload_id = started(auth_client, 100)
    put_chunk(auth_client, upload_id, b"x" * 40, 0, 100)

    response = publish_upload(auth_client, upload_id)

    assert response.status_code == 409
    body = response.json()
    assert (body["success"], body["data"]) == (False, {"offset": 40})
    assert UploadSession.objects.get(pk=upload_id).received == 40
    assert Video.objects.count() == 0


def test_a_bad_schedule_is_422_before_the_upload_is_used(auth_client, settings):
    data = media_bytes("sample.mp4")
    upload_id = uploaded(auth_client, data)

    response = publish_upload(
        auth_client, upload_id, publishAt=(timezone.now() - timedelta(hours=1)).isoformat()
    )

    assert response.status_code == 422
    assert list(error(response)["fields"]) == ["publishAt"]
    assert session_intact(upload_id, settings, len(data))


def test_a_failed_insert_leaves_the_upload_usable_and_deletes_the_thumbnail(
    auth_client, settings, monkeypatch
):
    data = media_bytes("sample.mp4")
    upload_id = uploaded(auth_client, data)

    def failing_insert(self, *args, **kwargs):
        raise RuntimeError("the database went away")

    with monkeypatch.context() as patch:
        patch.setattr(Video, "save", failing_insert)
        response = publish_upload(
            auth_client, upload_id, fmt="multipart", thumbnail=image_upload("t.png")
        )

    assert response.status_code == 500

    assert session_intact(upload_id, settings, len(data))
    assert files_under(Path(settings.MEDIA_ROOT) / "thumbnails") == []
    assert files_under(Path(settings.MEDIA_ROOT) / "videos") == []
    # The same upload publishes afterwards.
    assert publish_upload(auth_client, upload_id).status_code == 201


def test_an_upload_publishes_once(auth_client, run_tasks):
    upload_id = uploaded(auth_client, media_bytes("sample.mp4"))
    assert run_tasks(lambda: publish_upload(auth_client, upload_id)).status_code == 201

    again = publish_upload(auth_client, upload_id)

    assert again.status_code == 422
    assert list(error(again)["fields"]) == ["uploadId"]
    assert Video.objects.count() == 1


# --- The broker, the deadline --------------------------------------------------------------------


def test_with_the_broker_down_the_publish_answers_201_and_the_video_waits(
    auth_client, celery_broker, caplog, run_tasks, settings
):
    upload_id = uploaded(auth_client, media_bytes("sample.mp4"))
    celery_broker(DOWN_BROKER)

    with caplog.at_level(logging.WARNING):
        response = run_tasks(lambda: publish_upload(auth_client, upload_id))

    assert response.status_code == 201
    video = Video.objects.get()
    assert (video.status, video.processing_started_at is not None) == ("processing", True)
    assert UploadSession.objects.count() == 0
    warnings = [r.getMessage() for r in caplog.records if "Could not queue" in r.getMessage()]
    assert len(warnings) == 1 and str(video.pk) in warnings[0]

    # The deadline fails it.
    later = timezone.now() + timedelta(minutes=settings.VIDEO_PROCESSING_DEADLINE_MINUTES + 1)
    assert processing.videos_fail_stuck(now=later) == 1
    video.refresh_from_db()
    assert (video.status, video.failure_reason) == (
        "failed",
        "Processing did not finish within 90 minutes: reprocess the video to try again",
    )
    assert auth_client.get(VIDEOS).json()["data"]["totalDocs"] == 0

    # The broker is back (inline here again): the owner reprocesses it, and it ends ready.
    celery_broker.restore()
    response = run_tasks(lambda: reprocess(auth_client, video))

    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["message"], body["data"]["status"], body["data"]["failureReason"]) == (
        "Video processing again",
        "processing",
        None,
    )
    video.refresh_from_db()
    assert (video.status, video.failure_reason) == ("ready", None)
    assert video.thumbnail.name == f"thumbnails/frame-{video.pk.hex}.jpg"
    assert auth_client.get(VIDEOS).json()["data"]["totalDocs"] == 1


def test_the_deadline_fails_only_videos_processing_too_long(settings):
    now = timezone.now()
    deadline = timedelta(minutes=settings.VIDEO_PROCESSING_DEADLINE_MINUTES)
    stuck = VideoFactory(status="processing", processing_started_at=now - deadline - timedelta(1))
    young = VideoFactory(status="processing", processing_started_at=now - deadline / 2)
    unstamped = VideoFactory(status="processing", processing_started_at=None)
    Video.objects.filter(pk=unstamped.pk).update(created_at=now - deadline * 2)
    ready = VideoFactory()
    failed = VideoFactory(status="failed")

    assert tasks.fail_stuck_videos.apply().get() == 2

    statuses = dict(Video.objects.values_list("pk", "status"))
    assert statuses == {
        stuck.pk: "failed",
        young.pk: "processing",
        unstamped.pk: "failed",
        ready.pk: "ready",
        failed.pk: "failed",
    }
    assert Video.objects.get(pk=failed.pk).failure_reason == failed.failure_reason
    assert tasks.fail_stuck_videos.apply().get() == 0


# --- Reprocessing --------------------------------------------------------------------------------


def reprocess(client, video):
    return client.post(f"{video_url(video)}/reprocess")


@pytest.mark.parametrize("status", ["ready", "processing"])
def test_only_a_failed_video_is_reprocessed(auth_client, user, status):
    video = VideoFactory(owner=user, status=status)

    response = reprocess(auth_client, video)

    assert response.status_code == 409
    assert error(response)["message"] == "Only a video whose processing failed can be reprocessed"
    video.refresh_from_db()
    assert video.status == status


def test_others_cannot_reprocess(auth_client, other_client, api_client, user):
    failed = VideoFactory(owner=user, status="failed")
    ready = VideoFactory(owner=user)

    assert reprocess(other_client, failed).status_code == 404
    assert reprocess(api_client, failed).status_code == 401
    assert reprocess(other_client, ready).status_code == 403
    failed.refresh_from_db()
    assert failed.status == "failed"


# --- The task ------------------------------------------------------------------------------------


class UnreadableStorage(FileSystemStorage):
    """A video storage that stores, but whose files cannot be read back (an outage)."""

    def path(self, name):
        raise NotImplementedError

    def _open(self, name, mode="rb"):
        raise MediaStorageError("the storage is unreachable", name=name)


def processing_video(owner, settings, data=None, **fields):
    name = f"videos/{owner.pk.hex}.mp4"
    target = Path(settings.MEDIA_ROOT) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(media_bytes("sample.mp4") if data is None else data)
    fields.setdefault("status", "processing")
    fields.setdefault("thumbnail", "")
    return VideoFactory(owner=owner, video_file=name, duration=0, **fields)


def test_a_second_delivery_replaces_the_frame_a_killed_run_left_and_skips_once_done(user, settings):
    video = processing_video(user, settings)
    left = default_storage.save(processing.frame_name(video.pk), ContentFile(b"half a jpeg"))
    assert left == processing.frame_name(video.pk)

    assert tasks.process_video.apply(args=[str(video.pk)]).get() == "ready"
    assert tasks.process_video.apply(args=[str(video.pk)]).get() == "skipped"

    video.refresh_from_db()
    assert video.thumbnail.name == left
    assert files_under(Path(settings.MEDIA_ROOT) / "thumbnails") == [left.split("/", 1)[1]]
    with Image.open(Path(settings.MEDIA_ROOT) / left) as frame:
        assert frame.format == "JPEG"


def test_a_missing_file_fails_the_video(user, settings):
    video = VideoFactory(owner=user, status="processing", thumbnail="", duration=0)

    assert tasks.process_video.apply(args=[str(video.pk)]).get() == "failed"

    video.refresh_from_db()
    assert video.failure_reason == processing.FILE_MISSING


def test_an_unreadable_storage_is_retried_then_fails_the_video(user, settings, caplog):
    video = processing_video(user, settings)
    settings.STORAGES = {
        **settings.STORAGES,
        "videos": {"BACKEND": "tests.videos.test_video_processing.UnreadableStorage"},
    }

    with caplog.at_level(logging.ERROR):
        tasks.process_video.apply(args=[str(video.pk)])

    video.refresh_from_db()
    assert (video.status, video.failure_reason) == ("failed", processing.STORAGE_UNREACHABLE)
    errors = [r.getMessage() for r in caplog.records if "Processing video" in r.getMessage()]
    assert len(errors) == 1
    assert errors[0].startswith(
        f"Processing video {video.pk} failed after {tasks.INLINE_ATTEMPTS} attempt(s): "
        "MediaStorageError("
    )


def test_a_video_deleted_while_it_processed_leaves_no_frame(
    user, settings, monkeypatch, django_capture_on_commit_callbacks
):
    video = processing_video(user, settings)
    real_mark_ready = services.video_mark_ready

    def deleted_meanwhile(**kwargs):
        Video.objects.filter(pk=video.pk).delete()
        return real_mark_ready(**kwargs)

    monkeypatch.setattr(services, "video_mark_ready", deleted_meanwhile)

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.process_video.apply(args=[str(video.pk)]).get() == "skipped"

    assert files_under(Path(settings.MEDIA_ROOT) / "thumbnails") == []
