"""The delivery of notifications, in the background (``notifications.services`` does the
work). Enqueued by ``notifications.receivers`` after the commit of what they announce.

Every task here is idempotent (the unique indexes of ``Notification`` skip what was delivered
already), so a task delivered twice (acks_late: a worker that died mid-task) or retried after
a database error does no harm, and each checks its subject when it runs, so a task that runs
after its subject was hidden or deleted delivers nothing.

A fan-out runs batch after batch for at most ``FAN_OUT_SLICE_SECONDS``, then hands the rest to a
new task with the position reached: a channel of any size never holds one task past the time
limits, and a redelivered task repeats one slice at most.
"""

import logging
import time

from django.db import DatabaseError

from notifications import services
from notifications.models import NotificationType
from viztube.celery import app

logger = logging.getLogger(__name__)

FAN_OUT_SLICE_SECONDS = 30
# A database error (a deadlock with a concurrent delete, a restart) is tried again after 1 s,
# 2 s, 4 s ... up to a minute apart; the repeat skips what was delivered.
MAX_RETRIES = 8
RETRY_BACKOFF_MAX_SECONDS = 60
_RETRYING = {
    "autoretry_for": (DatabaseError,),
    "retry_backoff": True,
    "retry_backoff_max": RETRY_BACKOFF_MAX_SECONDS,
    "retry_jitter": True,
    "max_retries": MAX_RETRIES,
}


def _fan_out(task, type_, subject_id, after):
    """Batches of ``type_``'s fan-out from ``after`` for one slice; the rest in a new task."""
    channel_id = services.fan_out_subject(type_=type_, subject_id=subject_id)
    if channel_id is None:
        return 0
    position = services.decode_position(after)
    started, delivered = time.monotonic(), 0
    while True:
        batch = services.fan_out_batch(
            type_=type_, subject_id=subject_id, channel_id=channel_id, after=position
        )
        delivered += len(batch.delivered)
        if batch.done:
            return delivered
        position = batch.after
        # Inline (no broker) the whole fan-out runs here: a new task would only nest.
        if not task.request.is_eager and time.monotonic() - started > FAN_OUT_SLICE_SECONDS:
            task.apply_async(
                args=[subject_id], kwargs={"after": services.encode_position(position)}
            )
            return delivered


@app.task(bind=True, **_RETRYING)
def fan_out_video(self, video_id, after=None):
    """``videoPublished`` to every subscriber of the video's channel (``after``: where a previous
    slice stopped). Returns how many notifications this slice delivered."""
    return _fan_out(self, NotificationType.VIDEO_PUBLISHED, video_id, after)


@app.task(bind=True, **_RETRYING)
def fan_out_tweet(self, tweet_id, after=None):
    """``tweetPosted`` to every subscriber of the tweet's author."""
    return _fan_out(self, NotificationType.TWEET_POSTED, tweet_id, after)


@app.task(**_RETRYING)
def notify_comment(comment_id):
    """``videoCommented`` or ``commentReplied`` for a new comment."""
    return len(services.deliver_comment(comment_id=comment_id))


@app.task(**_RETRYING)
def notify_heart(comment_id):
    """``commentHearted`` to the author of a hearted comment."""
    return len(services.deliver_heart(comment_id=comment_id))


@app.task(**_RETRYING)
def notify_subscription(subscriber_id, channel_id):
    """``channelSubscribed`` to a channel that gained a subscriber."""
    return len(services.deliver_subscription(subscriber_id=subscriber_id, channel_id=channel_id))
