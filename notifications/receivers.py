"""What the notifications app hears (``videos.signals``, ``social.signals``): each receiver
enqueues a delivery task, nothing more, after the commit of the change it hears of.

A broker that cannot take the task is logged, never raised: the change has committed, and a
missed notification is not worth failing (or slowing) the request that made it.
"""

import logging

from django.dispatch import receiver

from notifications import tasks
from social import signals as social_signals
from videos import signals as video_signals

logger = logging.getLogger(__name__)


def _enqueue(task, *args):
    try:
        task.delay(*[str(arg) for arg in args])
    except Exception as exc:
        logger.warning("Could not queue %s%r (%s): not delivered", task.name, args, exc)


@receiver(video_signals.video_published)
def _video_published(sender, video_id, **kwargs):
    _enqueue(tasks.fan_out_video, video_id)


@receiver(social_signals.tweet_posted)
def _tweet_posted(sender, tweet_id, **kwargs):
    _enqueue(tasks.fan_out_tweet, tweet_id)


@receiver(social_signals.comment_posted)
def _comment_posted(sender, comment_id, **kwargs):
    _enqueue(tasks.notify_comment, comment_id)


@receiver(social_signals.comment_hearted)
def _comment_hearted(sender, comment_id, **kwargs):
    _enqueue(tasks.notify_heart, comment_id)


@receiver(social_signals.channel_subscribed)
def _channel_subscribed(sender, subscriber_id, channel_id, **kwargs):
    _enqueue(tasks.notify_subscription, subscriber_id, channel_id)
