"""Notifications delivered by a real Celery worker (a process of its own) on the real Redis
broker, against the test database: the request enqueues after its commit, the worker fans out.
The test commits (``transaction=True``), so that the worker sees its rows."""

import time

import pytest

from notifications.models import Notification
from tests.factories import SubscriptionFactory, UserFactory, VideoFactory
from tests.faults.test_processing_worker import (  # noqa: F401 (fixtures)
    BROKER_URL,
    queue,
    start_worker,
)
from tests.notifications.conftest import client_of

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DONE_SECONDS = 60


def wait_for(count, **filters):
    deadline = time.monotonic() + DONE_SECONDS
    while time.monotonic() < deadline:
        if Notification.objects.filter(**filters).count() >= count:
            return True
        time.sleep(0.1)
    return False


def test_a_worker_delivers_the_fan_out_and_a_comment(start_worker, celery_broker):  # noqa: F811
    worker = start_worker()
    channel = UserFactory()
    subscribers = [SubscriptionFactory(channel=channel).subscriber for _ in range(40)]
    video = VideoFactory(owner=channel, is_published=False)
    celery_broker(BROKER_URL)  # this process enqueues; the worker runs the tasks

    response = client_of(channel).patch(f"/api/v1/videos/toggle/publish/{video.pk}")
    assert response.status_code == 200
    comment = client_of(subscribers[0]).post(
        f"/api/v1/comments/{video.pk}", {"content": "First"}, format="json"
    )
    assert comment.status_code == 201

    assert wait_for(40, type="videoPublished", video=video), worker.log
    assert wait_for(1, type="videoCommented", recipient=channel), worker.log
    assert set(
        Notification.objects.filter(type="videoPublished").values_list("recipient_id", flat=True)
    ) == {subscriber.pk for subscriber in subscribers}
    assert Notification.objects.count() == 41
