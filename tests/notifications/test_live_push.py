"""What an open socket is pushed: a notification in the API's shape and the unread count after
an HTTP action (a subscription, a tweet, marking read from another tab), only to the
recipient's sockets, only after the commit, in order; and what a channel layer that is down
costs a request (nothing but a log line)."""

import logging
import time
import uuid

import pytest
import redis
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from notifications import live
from tests.conftest import bearer_client
from tests.factories import SubscriptionFactory, UserFactory
from tests.notifications.conftest import NOTIFICATIONS, READ
from tests.notifications.live_support import (  # noqa: F401 (fixtures)
    _connections_kept,
    access_token,
    closed_with,
    groups,
    live_layer,
    message,
    nothing_more,
    opened,
    run,
    socket,
)
from viztube import realtime
from viztube.settings import redis_channel_layer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_connections_kept")]

# The Redis database of this module's channel layer (emptied before and after).
LAYER_URL = "redis://127.0.0.1:6379/13"


def unread(count):
    return {"type": "unreadCount", "data": {"unreadCount": count}}


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``committed(function)``: run it as a request would commit (its after-commit callbacks,
    the pushes among them, run when it ends), in the test's thread; for ``database_sync_to_async``."""

    def call(function):
        def committing():
            with django_capture_on_commit_callbacks(execute=True):
                return function()

        return database_sync_to_async(committing)

    return call


@pytest.mark.usefixtures("live_layer")
def test_a_subscription_pushes_the_notification_in_the_api_shape_then_the_count(committed):
    channel, fan = UserFactory(), UserFactory()
    subscribe = committed(lambda: bearer_client(fan).post(f"/api/v1/subscriptions/c/{channel.pk}"))
    listed = database_sync_to_async(
        lambda: bearer_client(channel).get(NOTIFICATIONS).json()["data"]["docs"]
    )

    async def scenario():
        communicator = await opened(socket(token=access_token(channel)))
        assert await message(communicator) == unread(0)
        response = await subscribe()
        assert response.status_code == 200, response.content

        pushed = await message(communicator)
        assert pushed["type"] == "notification"
        # Exactly what GET /notifications shows (same host: the same absolute media URLs).
        assert [pushed["data"]] == await listed()
        assert pushed["data"]["type"] == "channelSubscribed"
        assert pushed["data"]["actor"]["id"] == str(fan.pk)
        assert pushed["data"]["actor"]["avatar"].startswith("http://testserver/media/")
        # The count once: the app's own count push of this delivery says the same, not resent.
        assert await message(communicator) == unread(1)
        await nothing_more(communicator)
        await communicator.disconnect()

    run(scenario)


@pytest.mark.usefixtures("live_layer")
def test_marking_read_in_another_tab_pushes_the_count_to_every_tab(committed):
    channel = UserFactory()
    for _ in range(3):
        SubscriptionFactory(channel=channel)
    from notifications.models import Notification

    for subscriber in UserFactory.create_batch(3):
        Notification.objects.create(recipient=channel, type="channelSubscribed", actor=subscriber)
    mark_all_read = committed(lambda: bearer_client(channel).post(READ, {"all": True}))

    async def scenario():
        tabs = [await opened(socket(token=access_token(channel))) for _ in range(2)]
        for tab in tabs:
            assert await message(tab) == unread(3)
        response = await mark_all_read()
        assert response.status_code == 200
        assert response.json()["data"] == {"unreadCount": 0}
        for tab in tabs:
            assert await message(tab) == unread(0)
            await nothing_more(tab)
            await tab.disconnect()

    run(scenario)


@pytest.mark.usefixtures("live_layer")
def test_a_tweet_fans_out_to_each_connected_subscriber_with_its_count(committed):
    author, bystander = UserFactory(), UserFactory()
    subscribers = [SubscriptionFactory(channel=author).subscriber for _ in range(2)]
    tweet = committed(lambda: bearer_client(author).post("/api/v1/tweets", {"content": "hi all"}))

    async def scenario():
        sockets = [await opened(socket(token=access_token(u))) for u in [*subscribers, bystander]]
        for each in sockets:
            assert await message(each) == unread(0)
        response = await tweet()
        assert response.status_code in (200, 201), response.content
        tweet_id = response.json()["data"]["id"]
        for each in sockets[:2]:
            pushed = await message(each)
            assert (pushed["type"], pushed["data"]["type"]) == ("notification", "tweetPosted")
            assert pushed["data"]["tweet"] == {"id": tweet_id, "content": "hi all"}
            # A fan-out sends no count of its own: each socket counted for itself.
            assert await message(each) == unread(1)
        # Not a subscriber: nothing.
        await nothing_more(sockets[2])
        for each in sockets:
            await each.disconnect()

    run(scenario)


@pytest.mark.usefixtures("live_layer")
def test_a_notification_gone_before_its_push_sends_nothing():
    user = UserFactory()

    async def scenario():
        communicator = await opened(socket(token=access_token(user)))
        assert await message(communicator) == unread(0)
        await get_channel_layer().group_send(
            live.user_group(user.pk), {"type": live.NOTIFICATION, "id": str(uuid.uuid4())}
        )
        # Neither a notification nor a count (the same as the last one sent).
        await nothing_more(communicator)
        await communicator.disconnect()

    run(scenario)


@pytest.mark.usefixtures("live_layer")
def test_a_rolled_back_change_pushes_nothing(django_capture_on_commit_callbacks):
    user = UserFactory()

    def rolled_back():
        with django_capture_on_commit_callbacks(execute=True):
            try:
                with transaction.atomic():
                    live.push_unread_count(user.pk, 5)
                    raise RuntimeError("rolled back")
            except RuntimeError:
                pass

    async def scenario():
        communicator = await opened(socket(token=access_token(user)))
        assert await message(communicator) == unread(0)
        await database_sync_to_async(rolled_back)()
        await nothing_more(communicator)
        await communicator.disconnect()

    run(scenario)


@pytest.mark.usefixtures("live_layer")
def test_counts_arrive_in_the_order_they_were_pushed(committed):
    user = UserFactory()

    @committed
    def push_many():
        for count in range(1, 41):
            live.push_unread_count(user.pk, count)

    async def scenario():
        communicator = await opened(socket(token=access_token(user)))
        assert await message(communicator) == unread(0)
        await push_many()
        received = [(await message(communicator))["data"]["unreadCount"] for _ in range(40)]
        assert received == list(range(1, 41))
        await communicator.disconnect()

    run(scenario)


# --- Through Redis, as in production ----------------------------------------------------------


@pytest.fixture
def redis_layer(settings):
    client = redis.Redis.from_url(LAYER_URL)
    client.flushdb()
    settings.CHANNEL_LAYERS = {"default": redis_channel_layer(LAYER_URL)}
    yield client
    assert realtime.flush(5)
    client.flushdb()
    client.close()


def subscribed(client):
    """``{Redis channel: subscribers}`` of the layer (``viztube13``: named after database 13)."""
    channels = client.pubsub_channels("viztube13*")
    return {name.decode(): count for name, count in client.pubsub_numsub(*channels)}


def test_through_redis_pushes_from_a_request_reach_the_socket_in_order(redis_layer, committed):
    user = UserFactory()

    @committed
    def push_many():
        for count in range(1, 21):
            live.push_unread_count(user.pk, count)

    async def scenario():
        communicator = await opened(socket(token=access_token(user)))
        assert await message(communicator) == unread(0)
        # This process subscribed to its user's group, and to the socket's own channel.
        channels = subscribed(redis_layer)
        assert channels.pop(f"viztube13__group__{live.user_group(user.pk)}") == 1
        assert list(channels.values()) == [1]
        assert next(iter(channels)).startswith("viztube13specific.")
        # Sent from this thread by the sender's own loop (another thread), as from gunicorn.
        await push_many()
        received = [(await message(communicator))["data"]["unreadCount"] for _ in range(20)]
        assert received == list(range(1, 21))
        await communicator.disconnect()
        await communicator.wait(1)
        assert subscribed(redis_layer) == {}
        # Nothing is stored in Redis either.
        assert redis_layer.keys("*") == []

    run(scenario)


def test_a_layer_that_is_down_costs_a_request_a_log_line_only(
    settings, caplog, django_capture_on_commit_callbacks
):
    # Nothing listens on port 9 of this machine: every connection is refused.
    settings.CHANNEL_LAYERS = {"default": redis_channel_layer("redis://127.0.0.1:9/0")}
    user = UserFactory()
    from notifications.models import Notification

    Notification.objects.create(recipient=user, type="channelSubscribed", actor=UserFactory())
    client = bearer_client(user)

    with caplog.at_level(logging.WARNING, logger="viztube.realtime"):
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(READ, {"all": True})
        took = time.monotonic() - started
        assert realtime.flush(5)

    assert response.status_code == 200
    assert response.json()["data"] == {"unreadCount": 0}
    assert not Notification.objects.filter(is_read=False).exists()
    assert took < 1
    warnings = [r.getMessage() for r in caplog.records if r.name == "viztube.realtime"]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("Live messages not sent (")
    assert warnings[0].endswith(": 1 dropped")


def test_a_socket_whose_layer_is_down_closes_1011(settings):
    settings.CHANNEL_LAYERS = {"default": redis_channel_layer("redis://127.0.0.1:9/0")}
    user = UserFactory()

    async def scenario():
        communicator = await opened(socket(token=access_token(user)))
        assert await closed_with(communicator) == 1011

    run(scenario)


def test_too_many_messages_waiting_are_dropped_and_logged(
    monkeypatch, redis_layer, caplog, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(realtime, "PENDING_LIMIT", 0)
    with caplog.at_level(logging.WARNING, logger="viztube.realtime"):
        with django_capture_on_commit_callbacks(execute=True):
            live.push_unread_count(uuid.uuid4(), 1)
        assert realtime.flush(1)
    assert [r.getMessage() for r in caplog.records if r.name == "viztube.realtime"] == [
        "Live messages not sent (too many messages waiting): 1 dropped"
    ]
