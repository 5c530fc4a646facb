"""The live notifications WebSocket (/ws/notifications), driven through the project's ASGI
application: how it authenticates (cookie, first message, within the deadline, from a trusted
origin), when it closes (4401, 4400, 1009), and that a socket, however it ends, leaves nothing
behind (no group membership, no task)."""

import asyncio
import json
import time

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services as account_services
from accounts import user_cache
from notifications import live
from tests.factories import UserFactory
from tests.notifications.live_support import (  # noqa: F401 (fixtures)
    _connections_kept,
    access_token,
    closed_with,
    groups,
    live_layer,
    message,
    nothing_more,
    opened,
    other_tasks,
    run,
    socket,
)
from viztube.routing import application

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_layer")]

UNREAD_ZERO = {"type": "unreadCount", "data": {"unreadCount": 0}}


def test_the_access_cookie_authenticates_and_the_socket_leaves_its_group_when_it_ends():
    user = UserFactory()

    async def scenario():
        communicator = await opened(socket(token=access_token(user)))
        # Authenticated: the unread count comes at once, and the socket is in its user's group.
        assert await message(communicator) == UNREAD_ZERO
        assert groups() == {live.user_group(user.pk): 1}
        await communicator.disconnect()
        await communicator.wait(1)
        assert groups() == {}
        assert other_tasks() == []

    run(scenario)


def test_a_first_auth_message_authenticates():
    user = UserFactory()

    async def scenario():
        communicator = await opened(socket())
        await nothing_more(communicator)
        assert groups() == {}
        await communicator.send_json_to({"type": "auth", "token": access_token(user)})
        assert await message(communicator) == UNREAD_ZERO
        assert groups() == {live.user_group(user.pk): 1}
        await communicator.disconnect()
        await communicator.wait(1)
        assert groups() == {}

    run(scenario)


@pytest.mark.parametrize(
    "first",
    [
        json.dumps({"type": "auth", "token": "not.a.token"}),
        json.dumps({"type": "auth", "token": ""}),
        json.dumps({"type": "auth"}),
        json.dumps({"type": "auth", "token": 12}),
        json.dumps({"token": "x"}),
        json.dumps(["auth"]),
        "hello",
        "{",
    ],
    ids=[
        "bad token",
        "empty token",
        "no token",
        "token not a string",
        "no type",
        "a list",
        "not JSON",
        "broken JSON",
    ],
)
def test_a_first_message_that_does_not_authenticate_closes_4401(first):
    async def scenario():
        communicator = await opened(socket())
        await communicator.send_to(text_data=first)
        assert await closed_with(communicator) == 4401
        assert groups() == {}
        assert other_tasks() == []

    run(scenario)


def test_a_binary_first_message_closes_4401():
    async def scenario():
        communicator = await opened(socket())
        await communicator.send_to(bytes_data=b"\x00\x01")
        assert await closed_with(communicator) == 4401

    run(scenario)


def test_a_refresh_token_is_no_access_token():
    refresh = str(RefreshToken.for_user(UserFactory()))

    async def scenario():
        communicator = await opened(socket(token=refresh))
        await communicator.send_json_to({"type": "auth", "token": refresh})
        assert await closed_with(communicator) == 4401
        assert groups() == {}

    run(scenario)


def test_without_authentication_the_socket_closes_4401_at_the_deadline(settings):
    settings.WEBSOCKET_AUTH_SECONDS = 0.3

    async def scenario():
        started = time.monotonic()
        communicator = await opened(socket())
        assert await closed_with(communicator, timeout=3) == 4401
        took = time.monotonic() - started
        assert 0.3 <= took < 2, took
        assert groups() == {}
        assert other_tasks() == []

    run(scenario)


def test_an_authenticated_socket_outlives_the_deadline(settings):
    settings.WEBSOCKET_AUTH_SECONDS = 0.2
    user = UserFactory()

    async def scenario():
        communicator = await opened(socket())
        await communicator.send_json_to({"type": "auth", "token": access_token(user)})
        assert await message(communicator) == UNREAD_ZERO
        await nothing_more(communicator, timeout=0.5)
        await communicator.disconnect()

    run(scenario)


def test_a_stale_cookie_is_no_credential_but_a_first_message_still_is(settings):
    user = UserFactory()

    async def scenario():
        communicator = await opened(socket(token=access_token(user, seconds=-30)))
        await nothing_more(communicator)
        assert groups() == {}
        await communicator.send_json_to({"type": "auth", "token": access_token(user)})
        assert await message(communicator) == UNREAD_ZERO
        await communicator.disconnect()

    run(scenario)


def test_an_expired_token_in_the_first_message_closes_4401():
    user = UserFactory()

    async def scenario():
        communicator = await opened(socket())
        await communicator.send_json_to({"type": "auth", "token": access_token(user, seconds=-1)})
        assert await closed_with(communicator) == 4401
        assert groups() == {}

    run(scenario)


def test_the_socket_closes_4401_when_its_token_expires():
    user = UserFactory()

    async def scenario():
        communicator = await opened(socket(token=access_token(user, seconds=1)))
        assert await message(communicator) == UNREAD_ZERO
        assert groups() == {live.user_group(user.pk): 1}
        started = time.monotonic()
        assert await closed_with(communicator, timeout=3) == 4401
        assert time.monotonic() - started < 2.5
        assert groups() == {}
        assert other_tasks() == []

    run(scenario)


@pytest.mark.parametrize(
    "origin",
    [b"https://attacker.example", b"null", b"http://localhost:3000.attacker.example"],
)
def test_an_untrusted_origin_closes_4401_even_with_a_valid_cookie(origin):
    user = UserFactory()

    async def scenario():
        communicator = await opened(socket(token=access_token(user), origin=origin))
        assert await closed_with(communicator) == 4401
        assert groups() == {}
        # The first message cannot make up for it either.
        communicator = await opened(socket(origin=origin))
        assert await closed_with(communicator) == 4401

    run(scenario)


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        (None, b"testserver"),  # not a browser: no ambient cookie of a victim
        (b"http://localhost:3000", b"testserver"),  # CSRF_TRUSTED_ORIGINS
        (b"HTTP://LOCALHOST:3000", b"testserver"),  # origins compare case-insensitively
        (b"http://testserver", b"testserver"),  # the server's own pages
        (b"http://127.0.0.1:8000", b"127.0.0.1:8000"),
    ],
)
def test_a_trusted_or_absent_origin_is_let_in(origin, host):
    user = UserFactory()

    async def scenario():
        communicator = await opened(socket(token=access_token(user), origin=origin, host=host))
        assert await message(communicator) == UNREAD_ZERO
        await communicator.disconnect()

    run(scenario)


def test_the_same_origin_counts_only_for_an_allowed_host():
    user = UserFactory()

    async def scenario():
        # Host and Origin both the attacker's: a host this server does not serve.
        communicator = await opened(
            socket(token=access_token(user), origin=b"http://evil.example", host=b"evil.example")
        )
        assert await closed_with(communicator) == 4401

    run(scenario)


def test_a_deactivated_user_gets_no_push_and_the_socket_closes_4401():
    user = UserFactory()

    async def scenario():
        communicator = await opened(socket(token=access_token(user)))
        assert await message(communicator) == UNREAD_ZERO
        await deactivate(user)
        await get_channel_layer().group_send(
            live.user_group(user.pk), {"type": live.UNREAD_COUNT, "unreadCount": 7}
        )
        assert await closed_with(communicator) == 4401
        assert groups() == {}

    deactivate = database_sync_to_async(
        lambda u: account_services.user_deactivate_many(user_ids=[u.pk])
    )
    run(scenario)


def test_a_password_change_revokes_the_socket_at_the_next_push():
    user = UserFactory(password="old-password-123")

    async def scenario():
        communicator = await opened(socket(token=access_token(user)))
        assert await message(communicator) == UNREAD_ZERO
        await change_password()
        await get_channel_layer().group_send(
            live.user_group(user.pk), {"type": live.UNREAD_COUNT, "unreadCount": 7}
        )
        assert await closed_with(communicator) == 4401

    change_password = database_sync_to_async(
        lambda: account_services.user_change_password(
            user=user, old_password="old-password-123", new_password="a-new-password-456"
        )
    )
    run(scenario)


def test_a_deleted_user_is_closed_at_the_next_push():
    user = UserFactory()
    user_id = user.pk

    async def scenario():
        communicator = await opened(socket(token=access_token(user)))
        assert await message(communicator) == UNREAD_ZERO
        await delete()
        await get_channel_layer().group_send(
            live.user_group(user_id), {"type": live.UNREAD_COUNT, "unreadCount": 7}
        )
        assert await closed_with(communicator) == 4401

    def delete_user():
        user_cache.forget(user.pk)
        user.delete()

    delete = database_sync_to_async(delete_user)
    run(scenario)


def test_a_message_after_authentication_closes_4400():
    user = UserFactory()

    async def scenario():
        for extra in ("hello", json.dumps({"type": "ping"}), json.dumps({"type": "auth"})):
            communicator = await opened(socket(token=access_token(user)))
            assert await message(communicator) == UNREAD_ZERO
            await communicator.send_to(text_data=extra)
            assert await closed_with(communicator) == 4400, extra
            assert groups() == {}

    run(scenario)


def test_only_one_auth_message_is_taken():
    user = UserFactory()

    async def scenario():
        communicator = await opened(socket())
        await communicator.send_json_to({"type": "auth", "token": access_token(user)})
        assert await message(communicator) == UNREAD_ZERO
        await communicator.send_json_to({"type": "auth", "token": access_token(user)})
        assert await closed_with(communicator) == 4400
        assert groups() == {}

    run(scenario)


def test_a_cookie_socket_may_take_a_first_auth_message_of_the_same_user_only():
    user, other = UserFactory(), UserFactory()

    async def scenario():
        communicator = await opened(socket(token=access_token(user)))
        assert await message(communicator) == UNREAD_ZERO
        # The same user's token, with a later expiry: taken (no close, the socket stays).
        await communicator.send_json_to({"type": "auth", "token": access_token(user)})
        await nothing_more(communicator)
        assert groups() == {live.user_group(user.pk): 1}
        await communicator.disconnect()

        communicator = await opened(socket(token=access_token(user)))
        assert await message(communicator) == UNREAD_ZERO
        await communicator.send_json_to({"type": "auth", "token": access_token(other)})
        assert await closed_with(communicator) == 4401
        assert groups() == {}

    run(scenario)


def test_the_first_message_s_token_sets_the_expiry():
    user = UserFactory()

    async def scenario():
        communicator = await opened(socket(token=access_token(user)))
        assert await message(communicator) == UNREAD_ZERO
        await communicator.send_json_to({"type": "auth", "token": access_token(user, seconds=1)})
        assert await closed_with(communicator, timeout=3) == 4401

    run(scenario)


@pytest.mark.parametrize("authenticated", [False, True])
def test_a_message_over_the_cap_closes_1009(settings, authenticated):
    user = UserFactory()

    async def scenario():
        token = access_token(user) if authenticated else None
        communicator = await opened(socket(token=token))
        if authenticated:
            assert await message(communicator) == UNREAD_ZERO
        huge = json.dumps({"type": "auth", "token": "x" * settings.WEBSOCKET_MAX_MESSAGE_BYTES})
        await communicator.send_to(text_data=huge)
        assert await closed_with(communicator) == 1009
        assert groups() == {}

    run(scenario)


def test_a_client_that_leaves_before_authenticating_leaves_nothing(settings):
    settings.WEBSOCKET_AUTH_SECONDS = 30

    async def scenario():
        communicator = await opened(socket())
        await communicator.disconnect()
        await communicator.wait(1)
        # The deadline's timer went with it: the loop holds nothing of the socket.
        assert other_tasks() == []
        loop_timers = [
            handle
            for handle in asyncio.get_running_loop()._scheduled
            if not handle.cancelled() and "put_nowait" in repr(handle)
        ]
        assert loop_timers == []

    run(scenario)


def test_another_path_is_refused_at_the_handshake():
    async def scenario():
        for path in ("/ws/other", "/ws/notifications/extra", "/ws/"):
            communicator = WebsocketCommunicator(application, path)
            connected, _ = await communicator.connect()
            assert not connected, path

    run(scenario)


def test_the_path_answers_with_a_trailing_slash_too():
    user = UserFactory()

    async def scenario():
        communicator = await opened(socket("/ws/notifications/", token=access_token(user)))
        assert await message(communicator) == UNREAD_ZERO
        await communicator.disconnect()

    run(scenario)
