"""The database work of the live sockets' pushes, gathered per server process.

A push reaches each of its recipients' sockets, and each socket then has database work to do
before it sends anything: check its token again (the user still exists, is active, has not
changed their password), read its notification in the API's shape, count the unread ones. Done
socket by socket, a fan-out to a thousand connected subscribers costs three thousand queries and
as many hand-offs to the database thread, each query planned on its own (docs/benchmark.md).

So the sockets of an event loop queue their reads here and one worker does them in batches: all
the reads queued while the previous batch ran, in one hand-off to the database thread and one
query per kind (tokens, notifications, counts), whatever the number of sockets. A lone push
waits for nothing (its batch starts at once); a burst shares the cost.
"""

import asyncio
import weakref
from dataclasses import dataclass

from channels.db import database_sync_to_async

from accounts.authentication import tokens_still_valid
from notifications.selectors import notifications_by_ids, unread_counts
from notifications.serializers import NotificationSerializer
from viztube.api.renderers import dumps
from viztube.middleware import media_base_url_as

# Reads done in one batch at most (one query each with this many ids).
BATCH_MAX = 500


@dataclass(frozen=True)
class Read:
    token: object  # the socket's validated access token: checked again
    user_id: object
    notification_id: str | None = None  # the notification to read, if any
    count: bool = False  # whether the user's unread count is wanted
    media_base: str = ""  # what local media URLs start with, for this socket


@dataclass(frozen=True)
class Found:
    valid: bool  # the token is still good; if not, nothing else was read
    text: str | None = None  # the notification's message (None: gone, or no longer shown)
    unread_count: int | None = None


_batchers = weakref.WeakKeyDictionary()


async def read(request):
    """Queue ``request`` (a ``Read``) with the other sockets' and return its ``Found``."""
    loop = asyncio.get_running_loop()
    batcher = _batchers.get(loop)
    if batcher is None:
        batcher = _batchers[loop] = _Batcher(loop)
    return await batcher.read(request)


class _Batcher:
    def __init__(self, loop):
        self.loop = loop
        self.waiting = []
        self.worker = None

    async def read(self, request):
        future = self.loop.create_future()
        self.waiting.append((request, future))
        if self.worker is None or self.worker.done():
            self.worker = self.loop.create_task(self._work())
        return await future

    async def _work(self):
        while self.waiting:
            batch, self.waiting = self.waiting[:BATCH_MAX], self.waiting[BATCH_MAX:]
            # A socket that ended meanwhile (its wait cancelled) is read for no more.
            batch = [(request, future) for request, future in batch if not future.done()]
            if not batch:
                continue
            try:
                found = await database_sync_to_async(read_batch)([r for r, _ in batch])
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for (_, future), result in zip(batch, found, strict=True):
                    if not future.done():
                        future.set_result(result)


def read_batch(requests):
    """The ``Found`` of each ``Read``, in order: one query per kind for all of them."""
    valid = tokens_still_valid(r.token for r in requests)
    live = [r for r, ok in zip(requests, valid, strict=True) if ok]
    texts = _notification_texts(r for r in live if r.notification_id is not None)
    counts = unread_counts(user_ids={r.user_id for r in live if r.count})
    return [
        Found(
            valid=True,
            text=texts.get((r.notification_id, r.media_base)),
            unread_count=counts.get(r.user_id, 0) if r.count else None,
        )
        if ok
        else Found(valid=False)
        for r, ok in zip(requests, valid, strict=True)
    ]


def _notification_texts(requests):
    """``{(notification id, media base): message}`` of the notifications still shown."""
    requests = list(requests)
    if not requests:
        return {}
    found = {str(n.pk): n for n in notifications_by_ids({r.notification_id for r in requests})}
    texts = {}
    for base in {r.media_base for r in requests}:
        wanted = {
            r.notification_id
            for r in requests
            if r.media_base == base and r.notification_id in found
        }
        with media_base_url_as(base):
            for notification_id in wanted:
                data = NotificationSerializer(found[notification_id]).data
                texts[(notification_id, base)] = dumps(
                    {"type": "notification", "data": data}
                ).decode()
    return texts
