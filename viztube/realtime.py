"""Messages to the channel layer's groups, sent from synchronous code (a request, a task).

What the open WebSockets of the ASGI server processes receive is sent from elsewhere: a gunicorn
request, a Celery task, the periodic thread. ``send_to_groups`` is cheap for its caller and
never fails it:

- nothing is sent before the caller's transaction commits (a rolled back change pushes nothing);
- then the messages are handed to a sender and the caller goes on: it neither waits for the
  layer nor hears of its failures. The sender logs a failure (Redis down, too slow) and drops
  those messages: live delivery is a courtesy on top of what is stored, never a reason for a
  request or a task to fail;
- the sender of a process sends what was handed over in order (an unread count sent after
  another arrives after it): what waits is sent together, the groups concurrently, each
  group's messages one after the other;
- at most ``PENDING_LIMIT`` messages wait in a process; past that new ones are dropped (logged),
  so a layer that hangs cannot make a process grow.

Where the sender runs: with Redis (production), an event loop in a daemon thread of each process
that sends (started on first use, again in a forked child). With the in-memory layer (``make
run``, the tests), the sockets live on the event loop of this process's ASGI server, and so does
the sender: a process that serves no socket (no such loop) has nobody to send to.
"""

import asyncio
import atexit
import functools
import logging
import os
import threading
import time

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

# A hand-over's groups are sent to this many at a time; each such step gets this long.
CONCURRENT_GROUPS = 64
# Messages of hand-overs that waited, sent together at most.
MERGED_MAX = 5_000
STEP_TIMEOUT_SECONDS = 5
PENDING_LIMIT = 10_000
# A failing layer is reported at most once per this many seconds (with the count dropped since).
REPORT_EVERY_SECONDS = 60

_serving_loop = None
_state_lock = threading.Lock()
_pending = 0
_drained = threading.Condition(_state_lock)
_senders = {}  # by owner: a pid (its thread), or a serving loop
_report_lock = threading.Lock()
_failures = {"last_report": 0.0, "dropped": 0}


def send_to_groups(messages):
    """Send ``[(group, message), ...]`` once the current transaction commits (at once outside
    one). Returns at once; never raises."""
    messages = list(messages)
    if messages:
        transaction.on_commit(functools.partial(_hand_over, messages), robust=True)


def serving(application):
    """Wrap the ASGI application of the WebSockets: remembers the event loop that serves them
    (for the in-memory layer's sender)."""

    async def remembering_loop(scope, receive, send):
        global _serving_loop
        _serving_loop = asyncio.get_running_loop()
        return await application(scope, receive, send)

    return remembering_loop


def flush(timeout):
    """Wait until every message handed over so far is sent or dropped; whether it was, within
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    with _drained:
        while _pending:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            _drained.wait(left)
    return True


def _hand_over(messages):
    global _pending
    try:
        layer = get_channel_layer()
        sender = _sender_for(layer)
        if sender is None:
            return
        with _state_lock:
            if _pending + len(messages) > PENDING_LIMIT:
                over_limit = True
            else:
                over_limit = False
                _pending += len(messages)
                sender.pending += len(messages)
        if over_limit:
            _report_failure(len(messages), "too many messages waiting")
            return
        try:
            sender.loop.call_soon_threadsafe(sender.queue_put, (layer, messages))
        except RuntimeError:  # its loop closed in between
            sender.done(len(messages))
    except Exception:
        logger.exception("Live messages not handed over; dropped")


def _sender_for(layer):
    """The sender of this process (for the in-memory layer: of its serving loop, or ``None``)."""
    if isinstance(layer, InMemoryChannelLayer):
        owner = _serving_loop
        if owner is None or owner.is_closed():
            return None
    else:
        owner = os.getpid()
    stale = []
    with _state_lock:
        sender = _senders.get(owner)
        if sender is None:
            # Senders of another pid (a forked child inherits its parent's) or of a closed
            # serving loop: what waited there will never be sent.
            for key in list(_senders):
                gone = key != os.getpid() if isinstance(key, int) else key.is_closed()
                if gone:
                    stale.append(_senders.pop(key))
            sender = _senders[owner] = _Sender(owner)
    for old in stale:
        old.done(old.pending)
    return sender


def _thread_loop():
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name="viztube-live-sender", daemon=True).start()
    # Messages still waiting when the process exits normally get a moment to leave.
    atexit.register(flush, 2)
    return loop


class _Sender:
    """One queue of hand-overs on an event loop, worked through in order by one task."""

    def __init__(self, owner):
        self.owner = owner
        self.loop = _thread_loop() if isinstance(owner, int) else owner
        self.pending = 0
        self.queue = None

    def queue_put(self, item):
        # Runs on the loop: the queue and its worker are made there, on first use.
        if self.queue is None:
            self.queue = asyncio.Queue()
            self.task = self.loop.create_task(self._work())
        self.queue.put_nowait(item)

    async def _work(self):
        carried = None
        while True:
            layer, messages = carried or await self.queue.get()
            carried = None
            # What else waits goes along (the requests of a busy process each hand over a
            # message or two): one step sends to many groups at once, each group's messages
            # still in the order they were handed over.
            messages = list(messages)
            while not self.queue.empty() and len(messages) < MERGED_MAX:
                next_layer, next_messages = self.queue.get_nowait()
                if next_layer is not layer:
                    carried = (next_layer, next_messages)
                    break
                messages.extend(next_messages)
            try:
                await _send(layer, messages)
            except Exception as exc:
                first = exc.exceptions[0] if isinstance(exc, ExceptionGroup) else exc
                _report_failure(len(messages), repr(first))
            finally:
                self.done(len(messages))

    def done(self, count):
        global _pending
        with _drained:
            count = min(count, self.pending)
            self.pending -= count
            _pending -= count
            if not _pending:
                _drained.notify_all()


async def _send(layer, messages):
    by_group = {}
    for group, message in messages:
        by_group.setdefault(group, []).append(message)
    groups = list(by_group.items())

    async def send_in_order(group, group_messages):
        for message in group_messages:
            await layer.group_send(group, message)

    for start in range(0, len(groups), CONCURRENT_GROUPS):
        # One failure (the layer is down) cancels the step and drops the rest of the hand-over:
        # no storm of retries against a layer that is down.
        async with asyncio.timeout(STEP_TIMEOUT_SECONDS), asyncio.TaskGroup() as step:
            for group, group_messages in groups[start : start + CONCURRENT_GROUPS]:
                step.create_task(send_in_order(group, group_messages))


def _report_failure(count, reason):
    now = time.monotonic()
    with _report_lock:
        _failures["dropped"] += count
        if _failures["last_report"] and now - _failures["last_report"] < REPORT_EVERY_SECONDS:
            return
        dropped, _failures["dropped"], _failures["last_report"] = _failures["dropped"], 0, now
    logger.warning("Live messages not sent (%s): %s dropped", reason, dropped)
