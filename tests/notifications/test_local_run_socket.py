"""The local run (`make run`: runserver on SQLite, no Redis) serves the live notifications
WebSocket on the same port as the API, and an HTTP action's push reaches the socket through the
in-memory channel layer of that one process."""

import asyncio
import json
import socket as sockets
import time
import urllib.request

import pytest

from bench import ws_client
from tests.sqlite_run import SqliteRun

pytestmark = pytest.mark.slow

SETUP = r"""
import json
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.tokens import RefreshToken

User = get_user_model()
channel, fan = (
    User.objects.create_user(username=name, email=f"{name}@example.com", fullname=name.title(),
        password="Quantum-Marmalade-1987")
    for name in ("channel", "fan")
)
print("SETUP " + json.dumps({"channel": str(channel.pk),
    "channel_token": str(RefreshToken.for_user(channel).access_token),
    "fan_token": str(RefreshToken.for_user(fan).access_token)}))
"""


def free_port():
    with sockets.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_listening(port, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            sockets.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def test_make_run_serves_the_socket_on_the_api_port_and_pushes_an_http_action(tmp_path):
    run = SqliteRun(tmp_path)
    run.manage("migrate", "--noinput")
    made = run.shell(SETUP, "SETUP")
    port = free_port()
    server = run.server(port)
    try:
        assert wait_listening(port, 60)

        async def scenario():
            socket = await ws_client.connect(
                "127.0.0.1",
                port,
                headers=[
                    ("Origin", f"http://127.0.0.1:{port}"),
                    ("Cookie", f"accessToken={made['channel_token']}"),
                ],
            )
            assert json.loads(await socket.receive()) == {
                "type": "unreadCount",
                "data": {"unreadCount": 0},
            }
            # The same port answers HTTP: a subscription, delivered inline (no broker).
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/subscriptions/c/{made['channel']}",
                method="POST",
                headers={"Authorization": f"Bearer {made['fan_token']}"},
            )
            status = await asyncio.to_thread(lambda: urllib.request.urlopen(request).status)
            assert status == 200
            pushed = json.loads(await socket.receive(10))
            assert (pushed["type"], pushed["data"]["type"]) == ("notification", "channelSubscribed")
            assert pushed["data"]["actor"]["username"] == "fan"
            assert json.loads(await socket.receive(10)) == {
                "type": "unreadCount",
                "data": {"unreadCount": 1},
            }
            await socket.close()

        asyncio.run(scenario())
    finally:
        server.terminate()
        server.wait(timeout=20)
