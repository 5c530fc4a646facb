"""A video published from an upload session, processed by a real Celery worker (``celery
worker``, a process of its own) on the real Redis broker, against the test database and media
folder: the worker makes it ready; and a worker SIGKILLed in the middle of the task loses
nothing: the task, acknowledged only once it has run (acks_late), is delivered again to the next
worker once the broker's visibility timeout has passed, and the video still ends ready with
nothing left behind.

Redis database 10 is this module's queue (emptied before and after). The test database is used
by the worker too, so the test commits (``transaction=True``).
"""

import os
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.db import connection, transaction

from tests.conftest import files_under, media_bytes
from tests.faults.test_celery_worker import READY_SECONDS, Worker
from tests.videos.test_video_processing import publish_upload, uploaded
from videos import processing
from videos.models import Video

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BROKER_URL = "redis://127.0.0.1:6379/10"
DONE_SECONDS = 60
# The second worker hands back a task unacknowledged for this long (production: an hour).
VISIBILITY_TIMEOUT = 2


@pytest.fixture
def queue():
    client = redis.Redis.from_url(BROKER_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def _database_url():
    database = connection.settings_dict
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    return (
        f"postgres://{database['USER']}{password}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )


@pytest.fixture
def start_worker(queue, settings):
    """``start_worker(visibility_timeout=None)``: a worker on this test's database, media and
    queue; stopped (or found killed) after the test."""
    started = []
    environment = {
        **os.environ,
        "CELERY_BROKER_URL": BROKER_URL,
        "DATABASE_URL": _database_url(),
        "MEDIA_ROOT": settings.MEDIA_ROOT,
        "FILE_UPLOAD_TEMP_DIR": settings.FILE_UPLOAD_TEMP_DIR,
        "DEBUG": "0",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("REDIS_URL", "CLOUDINARY_URL", "TEST_VISIBILITY_TIMEOUT"):
        environment.pop(name, None)

    def start(visibility_timeout=None):
        env = dict(environment)
        if visibility_timeout:
            env["TEST_VISIBILITY_TIMEOUT"] = str(visibility_timeout)
        worker = Worker(env, app="tests.faults.worker_app")
        started.append(worker)
        assert worker.wait_for(" ready.", READY_SECONDS), worker.log
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_for_status(video_id, status, seconds=DONE_SECONDS):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if Video.objects.filter(pk=video_id, status=status).exists():
            return True
        time.sleep(0.1)
    return False


def waiting_for_a_row_lock():
    """Whether a session of the test database waits for a lock (the worker's task, in
    ``video_mark_ready``'s SELECT ... FOR UPDATE)."""
    with connection.cursor() as cursor:
        # Asked inside the transaction that holds the lock, where PostgreSQL would otherwise
        # answer from the snapshot of the activity it took at the first question.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def test_the_worker_makes_a_session_publish_ready(
    start_worker, celery_broker, auth_client, settings
):
    worker = start_worker()
    upload_id = uploaded(auth_client, media_bytes("sample.webm"))
    celery_broker(BROKER_URL)  # this process enqueues; the worker runs the task

    published = time.monotonic()
    response = publish_upload(auth_client, upload_id)

    assert response.status_code == 201, response.json()
    assert response.json()["data"]["status"] == "processing"
    video_id = response.json()["data"]["id"]
    assert wait_for_status(video_id, "ready"), worker.log
    took = time.monotonic() - published
    video = Video.objects.get(pk=video_id)
    assert video.thumbnail.name == processing.frame_name(video.pk)
    assert video.duration == pytest.approx(1.0, abs=0.1)
    assert files_under(settings.MEDIA_ROOT) == sorted([video.video_file.name, video.thumbnail.name])
    assert worker.wait_for("] succeeded in ", 5), worker.log
    assert worker.count("Task videos.tasks.process_video[") == 2, worker.log  # received, done
    print(f"video ready {took:.2f} s after the 201")


def test_a_task_whose_worker_is_killed_is_delivered_again_and_the_video_ends_ready(
    start_worker, celery_broker, auth_client, settings, queue
):
    upload_id = uploaded(auth_client, media_bytes("sample.mp4"))
    celery_broker(BROKER_URL)

    # Published while no worker runs: the task waits in the queue, the video in processing.
    response = publish_upload(auth_client, upload_id)
    assert response.status_code == 201, response.json()
    video_id = response.json()["data"]["id"]
    assert Video.objects.get(pk=video_id).status == "processing"
    assert queue.llen("celery") == 1

    with transaction.atomic():
        # Hold the video's row: the first worker's task checks the bytes, stores the frame,
        # then waits here for the lock, in the middle of its work.
        Video.objects.select_for_update().get(pk=video_id)
        first = start_worker()
        deadline = time.monotonic() + DONE_SECONDS
        while not waiting_for_a_row_lock() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert waiting_for_a_row_lock(), first.log
        assert first.count("Task videos.tasks.process_video[") == 1, first.log  # received only
        first.kill()
    frame = Path(settings.MEDIA_ROOT) / processing.frame_name(uuid.UUID(video_id))
    # Killed mid-task: the frame stored, the video not marked.
    assert frame.exists()
    assert Video.objects.get(pk=video_id).status == "processing"

    killed_at = time.monotonic()
    second = start_worker(visibility_timeout=VISIBILITY_TIMEOUT)
    assert wait_for_status(video_id, "ready"), second.log
    took = time.monotonic() - killed_at

    assert second.wait_for("] succeeded in ", 5), second.log
    video = Video.objects.get(pk=video_id)
    assert (video.failure_reason, video.thumbnail.name) == (None, processing.frame_name(video.pk))
    assert frame.exists()
    # The frame the killed run stored was replaced, not left beside the new one.
    assert files_under(settings.MEDIA_ROOT) == sorted([video.video_file.name, video.thumbnail.name])
    print(f"redelivered and ready {took:.1f} s after the kill")
