"""A real ASGI server process (daphne, started as production starts it for /ws/) on the Redis
channel layer: a socket opened there receives the pushes of HTTP actions served by another
process (this one's live server, in gunicorn's place), the close codes cross the wire, and a
client that misbehaves is closed by the server without leaving its group behind in Redis.

Redis database 13 is this module's channel layer (emptied before and after)."""

import asyncio
import json
import os
import socket as sockets
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from bench import ws_client
from notifications import live
from notifications.models import Notification
from tests.conftest import tokens_for
from tests.factories import UserFactory
from viztube import realtime
from viztube.settings import redis_channel_layer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
LAYER_URL = "redis://127.0.0.1:6379/13"
# The server pings an idle socket after 1 s and drops it 2 s later without a pong.
PING_INTERVAL, PING_TIMEOUT = 1, 2


def free_port():
    with sockets.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Daphne:
    def __init__(self, port, environment):
        self.port = port
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("daphne")),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "--ping-interval",
                str(PING_INTERVAL),
                "--ping-timeout",
                str(PING_TIMEOUT),
                "--websocket-max-message-size",
                str(settings.WEBSOCKET_MAX_MESSAGE_BYTES),
                "--websocket-max-frame-size",
                str(settings.WEBSOCKET_MAX_MESSAGE_BYTES),
                "viztube.asgi:application",
            ],
            cwd=REPO,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def log(self):
        return "\n".join(self.lines)

    def wait_listening(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                sockets.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return True
            except OSError:
                time.sleep(0.1)
        return False

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._reader.join(timeout=5)


@pytest.fixture
def layer(settings):
    """Redis database 13, for the server's sockets and for this process's pushes alike."""
    client = redis.Redis.from_url(LAYER_URL)
    client.flushdb()
    settings.CHANNEL_LAYERS = {"default": redis_channel_layer(LAYER_URL)}
    yield client
    assert realtime.flush(5)
    client.flushdb()
    client.close()


@pytest.fixture
def daphne(layer):
    database = connection.settings_dict
    environment = {
        **os.environ,
        # The test database, which this test commits to.
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "CHANNEL_LAYER_URL": LAYER_URL,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        environment.pop(name, None)
    server = Daphne(free_port(), environment)
    try:
        assert server.wait_listening(60), server.log
        yield server
    finally:
        server.stop()


def post(url, token, body=None):
    request = urllib.request.Request(
        url,
        data=json.dumps(body or {}).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def groups(client):
    """The groups the server subscribed to, each with its subscribers (processes)."""
    channels = client.pubsub_channels("viztube13__group__*")
    return {name.decode(): count for name, count in client.pubsub_numsub(*channels)}


def test_a_socket_on_the_asgi_server_receives_the_pushes_of_http_actions(
    daphne, layer, live_server
):
    channel, fan = UserFactory(), UserFactory()
    channel_token, _ = tokens_for(channel)
    fan_token, _ = tokens_for(fan)
    origin = ("Origin", settings.CSRF_TRUSTED_ORIGINS[0])

    pushes = []

    async def scenario():
        started = time.monotonic()
        socket = await ws_client.connect(
            "127.0.0.1", daphne.port, headers=[origin, ("Cookie", f"accessToken={channel_token}")]
        )
        assert json.loads(await socket.receive()) == {
            "type": "unreadCount",
            "data": {"unreadCount": 0},
        }
        group = f"viztube13__group__{live.user_group(channel.pk)}"
        assert groups(layer) == {group: 1}

        # A subscription, served by another process: the notification crosses Redis.
        status, _ = await asyncio.to_thread(
            post, f"{live_server.url}/api/v1/subscriptions/c/{channel.pk}", fan_token
        )
        assert status == 200
        sent_at = time.monotonic()
        pushed = json.loads(await socket.receive(5))
        took = time.monotonic() - sent_at
        pushes.append(pushed)
        assert pushed["type"] == "notification"
        assert pushed["data"]["type"] == "channelSubscribed"
        assert pushed["data"]["actor"]["id"] == str(fan.pk)
        # Media URLs for the host the socket came to.
        assert pushed["data"]["actor"]["avatar"].startswith(f"http://127.0.0.1:{daphne.port}/")
        assert json.loads(await socket.receive(5)) == {
            "type": "unreadCount",
            "data": {"unreadCount": 1},
        }

        # Marked read in another tab (another process again): the count follows.
        status, body = await asyncio.to_thread(
            post, f"{live_server.url}/api/v1/notifications/read", channel_token, {"all": True}
        )
        assert (status, body["data"]) == (200, {"unreadCount": 0})
        assert json.loads(await socket.receive(5)) == {
            "type": "unreadCount",
            "data": {"unreadCount": 0},
        }

        # The server's connection to Redis is cut (a Redis restart, a network blip): it
        # connects again and subscribes again, and pushes reach the socket again.
        killed = [
            client["id"]
            for client in layer.client_list(_type="pubsub")
            if client["name"] == "viztube-live"
        ]
        assert len(killed) == 1
        layer.client_kill_filter(_id=killed[0])
        await wait_until(lambda: groups(layer) == {group: 1}, 10)
        await asyncio.to_thread(live.push_unread_count, channel.pk, 5)
        assert json.loads(await socket.receive(5)) == {
            "type": "unreadCount",
            "data": {"unreadCount": 5},
        }

        await socket.close()
        await wait_until(lambda: groups(layer) == {}, 5)
        print(f"push {took * 1000:.1f} ms after the response, {time.monotonic() - started:.1f} s")

    asyncio.run(scenario())
    assert pushes[0]["data"]["id"] == str(Notification.objects.get(recipient=channel).pk)


def test_the_server_closes_what_misbehaves_and_nothing_stays_in_redis(daphne, layer):
    user = UserFactory()
    token, _ = tokens_for(user)
    cookie = ("Cookie", f"accessToken={token}")

    async def closed(socket):
        try:
            while True:
                await socket.receive(10)
        except ws_client.Closed as closed:
            return closed.code

    async def scenario():
        # An untrusted Origin: 4401 over the wire, even with a valid cookie.
        socket = await ws_client.connect(
            "127.0.0.1", daphne.port, headers=[("Origin", "https://attacker.example"), cookie]
        )
        assert await closed(socket) == 4401

        # No authentication: 4401 (the first message is not an auth message).
        socket = await ws_client.connect("127.0.0.1", daphne.port)
        await socket.send_text("hello")
        assert await closed(socket) == 4401

        # A frame over the cap: daphne drops it before reading it whole (1009, or a reset
        # while the client was still writing).
        socket = await ws_client.connect("127.0.0.1", daphne.port, headers=[cookie])
        await socket.send_text("x" * (settings.WEBSOCKET_MAX_MESSAGE_BYTES * 4))
        assert await closed(socket) in (1009, None)

        # Another path: refused at the handshake.
        with pytest.raises(ws_client.HandshakeRefused):
            await ws_client.connect("127.0.0.1", daphne.port, "/ws/other")

        # A client that never reads (so never answers the server's pings): dropped by the
        # server, and its membership with it.
        silent = await ws_client.connect("127.0.0.1", daphne.port, headers=[cookie])
        key = f"viztube13__group__{live.user_group(user.pk)}"
        await wait_until(lambda: groups(layer) == {key: 1}, 5)
        started = time.monotonic()
        await wait_until(lambda: groups(layer) == {}, PING_INTERVAL + PING_TIMEOUT + 5)
        assert time.monotonic() - started <= PING_INTERVAL + PING_TIMEOUT + 3
        # Dropped without a close handshake (there was nobody to answer it).
        assert await closed(silent) is None

        assert groups(layer) == {}
        # Nothing else of the sockets either: no channel subscribed, nothing stored.
        assert layer.pubsub_channels("viztube13*") == []
        assert layer.keys("*") == []

    asyncio.run(scenario())
    assert "Traceback" not in daphne.log, daphne.log


async def wait_until(condition, seconds):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)
