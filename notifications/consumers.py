"""The live notifications WebSocket, ``/ws/notifications`` (protocol in docs/api.md).

One consumer per open socket, on the ASGI server's event loop:

- the handshake is accepted, then the socket is closed with 4401 at once when a present
  ``Origin`` is not trusted (the HTTP side's rule: viztube.origins), and otherwise as soon as
  authentication fails: the ``accessToken`` cookie, else a first message
  ``{"type": "auth", "token": ...}`` within ``WEBSOCKET_AUTH_SECONDS``;
- an authenticated socket joins its user's group (``notifications.live.user_group``), to which
  ``push_notifications`` / ``push_unread_count`` send, and is sent its unread count at once; it
  receives what is sent there, each push only after its token was checked again (not expired;
  its user still exists, is active and has not changed their password: a socket whose token was
  revoked is closed with 4401 instead), and it is closed (4401) when its token expires, by a
  timer. The database work of a push (the check, the notification, the count) is gathered
  with the other sockets' (``notifications.live_reads``);
- the client has one message to send, the optional auth message, first; anything else, or
  anything larger than ``WEBSOCKET_MAX_MESSAGE_BYTES``, closes the socket. So a socket costs the
  server at most one message's work, whatever the client sends;
- however it ends (closed by either side, the layer failing, the server cancelling it), it
  leaves its group and cancels its timer: nothing is left behind.
"""

import asyncio
import json
import logging
import time

from channels.consumer import AsyncConsumer, get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings
from django.http.cookie import parse_cookie
from rest_framework.exceptions import AuthenticationFailed

from accounts.authentication import ACCESS_COOKIE, authenticate_access_token
from notifications import live, live_reads
from viztube import origins
from viztube.api.renderers import dumps

logger = logging.getLogger(__name__)

# Close codes (docs/api.md). 4401: not (or no longer) authenticated, or an untrusted Origin.
CLOSE_UNAUTHENTICATED = 4401
# A message the protocol has no place for (after the first, or not an auth message).
CLOSE_UNEXPECTED_MESSAGE = 4400
# RFC 6455's "message too big" and "internal error" (the channel layer or database failed).
CLOSE_TOO_BIG = 1009
CLOSE_UNAVAILABLE = 1011


def _unread_count_text(count):
    return dumps({"type": "unreadCount", "data": {"unreadCount": count}}).decode()


def _auth_token(text):
    """The token of a well-formed auth message, else ``None``."""
    try:
        message = json.loads(text)
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("type") != "auth":
        return None
    token = message.get("token")
    return token if isinstance(token, str) and token else None


class NotificationsConsumer(AsyncConsumer):
    async def __call__(self, scope, receive, send):
        self.scope = scope
        self.base_send = send
        self.token = None  # the validated access token, once authenticated
        self.user_id = None
        self.group = None  # the group joined
        self.messages_received = 0
        self.unread_count_sent = None
        self.media_base = ""
        self.closed = False
        self._timer = None
        # Timers put their events here; the dispatch loop handles them in turn with the rest.
        self._events = asyncio.Queue()
        self.channel_layer = get_channel_layer()
        try:
            self.channel_name = await self.channel_layer.new_channel()
        except Exception:
            # The layer is down (pub/sub subscribes a new channel at once): accepted, then
            # closed with 1011 (try again later), rather than a handshake that fails.
            logger.exception("Live notifications socket failed: no channel layer")
            if (await receive())["type"] == "websocket.connect":
                await send({"type": "websocket.accept"})
                await send({"type": "websocket.close", "code": CLOSE_UNAVAILABLE})
            return
        try:
            await await_many_dispatch([receive, self._from_layer, self._events.get], self.dispatch)
        except StopConsumer:
            pass
        except Exception:
            if self.closed:
                # Ending anyway; the layer's receive in progress failed as it was cancelled.
                logger.debug("Live notifications socket: error while ending", exc_info=True)
            else:
                # The channel layer (or the database) failed: say so to the client, then end.
                logger.exception("Live notifications socket failed")
                await self._send_close(CLOSE_UNAVAILABLE)
        finally:
            await self._leave()

    def _from_layer(self):
        return self.channel_layer.receive(self.channel_name)

    async def dispatch(self, message):
        # Unlike channels' own dispatch, no database connection sweep per message: the work
        # that touches the database runs in database_sync_to_async, which does its own.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            logger.warning("Live notifications socket: no handler for %r", message.get("type"))
            return
        await handler(message)

    # --- From the client --------------------------------------------------------------------

    async def websocket_connect(self, message):
        await self.base_send({"type": "websocket.accept"})
        if not origins.scope_origin_is_trusted(self.scope):
            await self._close(CLOSE_UNAUTHENTICATED)
        cookie_token = self._cookie_token()
        if cookie_token:
            try:
                user, token = await database_sync_to_async(authenticate_access_token)(cookie_token)
            except AuthenticationFailed:
                # A stale cookie is no credential (as for HTTP reads); a first message may still
                # authenticate the socket.
                pass
            else:
                await self._authenticated(user, token)
                return
        self._set_timer(settings.WEBSOCKET_AUTH_SECONDS, "auth.deadline")

    async def websocket_receive(self, message):
        if self.closed:
            return
        text, data = message.get("text"), message.get("bytes")
        size = len(text.encode()) if text is not None else len(data or b"")
        if size > settings.WEBSOCKET_MAX_MESSAGE_BYTES:
            await self._close(CLOSE_TOO_BIG)
        self.messages_received += 1
        raw_token = _auth_token(text) if text is not None else None
        if self.token is None:
            if raw_token is None:
                await self._close(CLOSE_UNAUTHENTICATED)
        elif raw_token is None or self.messages_received > 1:
            await self._close(CLOSE_UNEXPECTED_MESSAGE)
        try:
            user, token = await database_sync_to_async(authenticate_access_token)(raw_token)
        except AuthenticationFailed:
            await self._close(CLOSE_UNAUTHENTICATED)
        if self.token is None:
            await self._authenticated(user, token)
        elif user.pk != self.user_id:
            # A cookie of one user and a token of another: neither is taken.
            await self._close(CLOSE_UNAUTHENTICATED)
        else:
            # The same user, with the token the client chose: its expiry now applies.
            self.token = token
            self._set_timer(self._seconds_left(), "token.expired")

    async def websocket_disconnect(self, message):
        # Leave at once, before the dispatch loop winds down (it waits for the layer's receive
        # in progress to finish cancelling).
        self.closed = True
        await self._leave()
        raise StopConsumer()

    # --- Timers -----------------------------------------------------------------------------

    async def auth_deadline(self, message):
        if self.token is None:
            await self._close(CLOSE_UNAUTHENTICATED)

    async def token_expired(self, message):
        if self.token is not None and self._seconds_left() <= 0:
            await self._close(CLOSE_UNAUTHENTICATED)

    # --- From the channel layer (notifications.live) ----------------------------------------

    async def live_notification(self, message):
        """A notification of this user's: read in the API's shape and sent, then the unread
        count, once the token is checked again."""
        await self._push(message["id"])

    async def live_unread_count(self, message):
        await self._push(None, unread_count=message["unreadCount"])

    async def _push(self, notification_id, unread_count=None):
        if not self._open_and_unexpired():
            await self._close(CLOSE_UNAUTHENTICATED)
        found = await live_reads.read(
            live_reads.Read(
                token=self.token,
                user_id=self.user_id,
                notification_id=notification_id,
                count=unread_count is None,
                media_base=self.media_base,
            )
        )
        if not found.valid:
            await self._close(CLOSE_UNAUTHENTICATED)
        if found.text is not None:
            await self.base_send({"type": "websocket.send", "text": found.text})
        await self._send_unread_count(found.unread_count if unread_count is None else unread_count)

    # --- Helpers ----------------------------------------------------------------------------

    def _cookie_token(self):
        for name, value in self.scope.get("headers", ()):
            if name == b"cookie":
                return parse_cookie(value.decode("latin-1")).get(ACCESS_COOKIE)
        return None

    async def _authenticated(self, user, token):
        self.token, self.user_id = token, user.pk
        # Media URLs in what this socket is sent are absolute, for the host it came to.
        self.media_base = settings.MEDIA_BASE_URL or origins.scope_own_origin(self.scope) or ""
        group = live.user_group(user.pk)
        await self.channel_layer.group_add(group, self.channel_name)
        self.group = group
        self._set_timer(self._seconds_left(), "token.expired")
        # The count at once: a client needs no other request to be up to date.
        found = await live_reads.read(
            live_reads.Read(token=self.token, user_id=self.user_id, count=True)
        )
        if not found.valid:  # revoked since the handshake's check
            await self._close(CLOSE_UNAUTHENTICATED)
        await self._send_unread_count(found.unread_count)

    async def _send_unread_count(self, count):
        """Send the unread count when it is not the one this socket was sent last."""
        if count == self.unread_count_sent:
            return
        self.unread_count_sent = count
        await self.base_send({"type": "websocket.send", "text": _unread_count_text(count)})

    def _open_and_unexpired(self):
        return not self.closed and self.token is not None and self._seconds_left() > 0

    def _seconds_left(self):
        return self.token["exp"] - time.time()

    def _set_timer(self, delay, event_type):
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(
            max(delay, 0), self._events.put_nowait, {"type": event_type}
        )

    async def _close(self, code):
        """Close from the server's side and end this consumer."""
        await self._leave()
        await self._send_close(code)
        raise StopConsumer()

    async def _send_close(self, code):
        if self.closed:
            return
        self.closed = True
        try:
            await self.base_send({"type": "websocket.close", "code": code})
        except Exception:  # the client is already gone
            logger.debug("Close of a live notifications socket not sent", exc_info=True)

    async def _leave(self):
        """Cancel the timer and leave the group (idempotent; runs however the socket ends)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        group, self.group = self.group, None
        if group is not None:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:
                # The layer is down. This socket is out of the group in this process all the
                # same (what is published to it reaches only the sockets still in it).
                logger.warning("Live notifications socket could not leave its group", exc_info=True)
