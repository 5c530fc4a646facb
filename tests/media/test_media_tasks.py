"""media.tasks.delete_media: files made useless by a committed change are deleted by a task,
retried with a capped exponential backoff until the storage confirms; when the broker cannot
take the task, the file is deleted inline and the request still succeeds."""

import logging
import random
from pathlib import Path

import pytest
from celery.exceptions import Retry
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from media import tasks
from media.services import media_delete_after_commit
from media.tasks import INLINE_ATTEMPTS, MAX_RETRIES, RETRY_BACKOFF_MAX_SECONDS, delete_media
from tests.conftest import files_under
from tests.videos.conftest import publish, video_url

DAY = 86_400
# Nothing listens on port 1: a broker that is down.
DOWN_BROKER = "redis://127.0.0.1:1/8"


class _Refusing:
    """A storage that answers False to every delete, as a failing Cloudinary storage does."""

    def __init__(self):
        self.calls = []

    def delete(self, name):
        self.calls.append(name)
        return False


def _countdown_after_a_failure(monkeypatch, retries):
    """The countdown ``delete_media`` asks for when its attempt number ``retries + 1`` fails
    in a worker (not inline)."""
    asked = {}

    def retry(exc=None, countdown=None, **kwargs):
        asked["countdown"] = countdown
        return Retry(exc=exc, when=countdown)

    monkeypatch.setattr(tasks, "storage_for", lambda alias: _Refusing())
    monkeypatch.setattr(delete_media, "retry", retry)
    delete_media.push_request(retries=retries, is_eager=False)
    try:
        with pytest.raises(Retry):
            delete_media.run("default", "thumbnails/a.png")
    finally:
        delete_media.pop_request()
    return asked["countdown"]


def test_the_backoff_doubles_from_one_second_and_stops_at_ten_minutes(monkeypatch):
    # Each wait is drawn at random up to its bound (full jitter); take the bound itself.
    monkeypatch.setattr(random, "randrange", lambda stop: stop - 1)

    bounds = [_countdown_after_a_failure(monkeypatch, retries) for retries in range(13)]

    assert bounds == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600, 600]
    assert RETRY_BACKOFF_MAX_SECONDS == 600


def test_each_wait_is_drawn_at_random_up_to_its_bound(monkeypatch):
    waits = {_countdown_after_a_failure(monkeypatch, 20) for _ in range(30)}

    assert all(0 <= wait <= RETRY_BACKOFF_MAX_SECONDS for wait in waits)
    assert len(waits) > 1


def test_the_retries_of_a_worker_last_days_and_inline_ones_a_few_attempts():
    delete_media.push_request(is_eager=False)
    try:
        assert delete_media.max_retries == MAX_RETRIES
    finally:
        delete_media.pop_request()
    delete_media.push_request(is_eager=True)
    try:
        assert delete_media.max_retries == INLINE_ATTEMPTS - 1
    finally:
        delete_media.pop_request()
    # The average wait is half its bound: the whole budget covers a storage outage of days.
    average_total = sum(min(RETRY_BACKOFF_MAX_SECONDS, 2**n) for n in range(MAX_RETRIES)) / 2
    assert 3 * DAY < average_total < 4 * DAY


def test_deleting_a_file_that_is_already_gone_succeeds(settings):
    name = default_storage.save("thumbnails/a.png", ContentFile(b"png"))

    first = delete_media.apply(args=("default", name))
    again = delete_media.apply(args=("default", name))

    assert first.successful() and again.successful()
    assert files_under(settings.MEDIA_ROOT) == []


def test_a_delete_that_keeps_failing_inline_is_logged_as_an_orphan(monkeypatch, caplog):
    storage = _Refusing()
    monkeypatch.setattr(tasks, "storage_for", lambda alias: storage)

    with caplog.at_level(logging.WARNING, logger="media.tasks"):
        result = delete_media.delay("videos", "videos/c.mp4")

    assert result.failed()
    assert storage.calls == ["videos/c.mp4"] * INLINE_ATTEMPTS
    [record] = [r for r in caplog.records if r.name == "media.tasks"]
    assert record.getMessage().startswith(
        f"Deleting media videos/c.mp4 failed after {INLINE_ATTEMPTS} attempt(s) (videos storage"
    )
    assert "orphan" in record.getMessage()


@pytest.mark.django_db
def test_nothing_is_deleted_when_the_change_rolls_back(
    settings, django_capture_on_commit_callbacks
):
    name = default_storage.save("thumbnails/a.png", ContentFile(b"png"))

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        media_delete_after_commit((default_storage, name))
        raise RuntimeError("the change fails")

    assert callbacks == []
    assert files_under(settings.MEDIA_ROOT) == [name]


@pytest.mark.django_db
def test_with_the_broker_down_the_files_are_deleted_inline_and_the_request_succeeds(
    auth_client, settings, celery_broker, caplog, django_capture_on_commit_callbacks
):
    published = publish(auth_client)
    assert published.status_code == 201
    video = published.json()["data"]
    media_root = Path(settings.MEDIA_ROOT)
    assert len(files_under(media_root)) == 2
    celery_broker(DOWN_BROKER)

    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        response = auth_client.delete(video_url(video["id"]))

    assert response.status_code == 200
    assert files_under(media_root) == []
    fallbacks = [r.getMessage() for r in caplog.records if "deleting it inline" in r.getMessage()]
    assert len(fallbacks) == 2
    assert all(message.startswith("Could not queue the deletion of media") for message in fallbacks)
