"""Helpers of the notification tests.

The suite has no broker: a task runs inline where it is enqueued, which for a notification is
an ``on_commit`` callback of the change it announces. ``delivered`` runs the callbacks of what
its block commits (pytest-django wraps each test in a transaction, whose commit never comes),
so the notifications of that block are delivered when it ends, as a worker would deliver them.
"""

import contextlib

import pytest

from notifications import live
from notifications.models import Notification
from tests.conftest import bearer_client
from tests.factories import SubscriptionFactory, UserFactory

NOTIFICATIONS = "/api/v1/notifications"
READ = f"{NOTIFICATIONS}/read"
SETTINGS = f"{NOTIFICATIONS}/settings"


@pytest.fixture
def delivered(django_capture_on_commit_callbacks):
    """``with delivered():`` runs what the block commits, the deliveries it enqueues included."""

    @contextlib.contextmanager
    def run():
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            yield callbacks

    return run


@pytest.fixture
def pushed(monkeypatch):
    """What the notifications app hands to the live side: ``pushed.notifications`` (one list
    per call) and ``pushed.counts`` (``(user_id, count)`` per call)."""

    class Pushed:
        notifications = []
        counts = []

    monkeypatch.setattr(live, "push_notifications", lambda rows: Pushed.notifications.append(rows))
    monkeypatch.setattr(
        live, "push_unread_count", lambda user_id, count: Pushed.counts.append((user_id, count))
    )
    return Pushed


def subscribers_of(channel, count):
    return [SubscriptionFactory(channel=channel).subscriber for _ in range(count)]


def rows(**filters):
    """``(recipient_id, type, actor_id, video_id, comment_id, tweet_id)`` of the notifications
    matching ``filters``, as a set."""
    return set(
        Notification.objects.filter(**filters).values_list(
            "recipient_id", "type", "actor_id", "video_id", "comment_id", "tweet_id"
        )
    )


def client_of(user):
    return bearer_client(user)


@pytest.fixture
def channel(db):
    return UserFactory()
