"""Helpers of the live notification tests: sockets driven through the project's ASGI
application in this process (channels' WebsocketCommunicator), on a fresh in-memory layer.

The suite has no pytest-asyncio: a test is a plain function that runs its scenario with
``run(scenario)`` (asgiref's ``async_to_sync``). Database work of the consumer then runs in the
test's own thread, inside the test's transaction, so it sees the rows the test made.
"""

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from rest_framework_simplejwt.tokens import AccessToken

from viztube import realtime

PATH = "/ws/notifications"
TRUSTED = settings.CSRF_TRUSTED_ORIGINS[0].encode()


def run(scenario, *args):
    return async_to_sync(scenario)(*args)


def access_token(user, seconds=None):
    token = AccessToken.for_user(user)
    if seconds is not None:
        from datetime import timedelta

        token.set_exp(lifetime=timedelta(seconds=seconds))
    return str(token)


def headers(*, token=None, origin=TRUSTED, host=b"testserver"):
    found = [(b"host", host)]
    if origin is not None:
        found.append((b"origin", origin))
    if token is not None:
        found.append((b"cookie", f"other=1; accessToken={token}".encode()))
    return found


def socket(path=PATH, **kwargs):
    from viztube.routing import application

    return WebsocketCommunicator(application, path, headers=headers(**kwargs))


async def opened(communicator):
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def message(communicator, timeout=2):
    return json.loads(await communicator.receive_from(timeout))


async def closed_with(communicator, timeout=2):
    """The close code the server sent (every frame before it is a failure)."""
    output = await communicator.receive_output(timeout)
    assert output["type"] == "websocket.close", output
    # The consumer ended by itself: its task is done, nothing of it is left running.
    await communicator.wait(timeout)
    return output.get("code")


async def nothing_more(communicator, timeout=0.3):
    assert await communicator.receive_nothing(timeout)


def groups():
    """``{group: number of sockets}`` of the in-memory layer."""
    layer = get_channel_layer()
    return {name: len(members) for name, members in layer.groups.items() if members}


def other_tasks():
    """Tasks of the running loop besides the caller's (a consumer's timer or worker left over
    would show here)."""
    current = asyncio.current_task()
    return [
        task
        for task in asyncio.all_tasks()
        if task is not current and not task.done() and "remembering_loop" not in repr(task)
    ]


@pytest.fixture(autouse=True)
def _connections_kept(monkeypatch):
    """The consumer's database work (``database_sync_to_async``) closes obsolete connections
    before and after, as a request does; inside a test's transaction Django counts the test's
    own connection as one (autocommit off) and would close it. Django's test client skips that
    step for requests the same way. Also: each test's failures of the layer are reported anew
    (the sender reports once a minute)."""
    import channels.db

    monkeypatch.setattr(channels.db, "close_old_connections", lambda: None)
    monkeypatch.setattr(realtime, "_failures", {"last_report": 0.0, "dropped": 0})


@pytest.fixture
def live_layer(settings):
    """A fresh in-memory channel layer for the test (the setting change drops the old one)."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    yield get_channel_layer()
    # Messages handed over by the test are sent (or dropped) before the next test.
    assert realtime.flush(5)
