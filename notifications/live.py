"""The live delivery of notifications: where what the notifications app commits is handed to
the connected clients (the WebSocket consumer, ``notifications.consumers``).

Both functions are called after the commit of what they announce, from the web process
(``POST /notifications/read``) or from a Celery worker (the delivery tasks). They stay cheap and
never raise: each hands messages for the recipients' groups to ``viztube.realtime``, which
sends them through the channel layer in the background (and logs, and drops them, when the layer
is down). A live push is best effort: the rows are the truth, and a client that missed a push
reads ``GET /notifications`` when it reconnects.

What travels is small: a notification's id (the consumer of each connected recipient reads it
in the API's shape, with media URLs for the host the socket came to, so a fan-out batch whose
recipients are mostly offline reads and encodes nothing for them), or an unread count.
"""

import logging

from viztube import realtime

logger = logging.getLogger(__name__)

# The consumer's handlers of these message types: NotificationsConsumer.live_notification and
# .live_unread_count.
NOTIFICATION = "live.notification"
UNREAD_COUNT = "live.unread_count"


def user_group(user_id):
    """The channel layer group of ``user_id``'s open sockets (every tab, every device)."""
    return f"notifications.{user_id}"


def push_notifications(notifications):
    """Announce notifications that were just delivered.

    ``notifications``: a list of ``(notification_id, recipient_id)`` pairs of ``uuid.UUID``,
    the rows one delivery statement inserted (what ``INSERT ... RETURNING`` gives, so a fan-out
    to thousands of subscribers builds no model instance), at most
    ``notifications.services.FAN_OUT_BATCH`` of them per call; never empty. The rows are
    committed when this is called; one may already be gone again (its subject deleted
    meanwhile). ``notifications.selectors.notifications_by_ids`` reads them in the API's shape
    (``NotificationSerializer``).

    The unread count of each recipient grew. For a single recipient (a comment, a reply, a
    heart, a subscriber) ``push_unread_count`` follows with the new count; for a fan-out batch
    it does not (counting for thousands of recipients per batch would cost more than the
    insert): the live side counts for the recipients it has connected
    (``notifications.selectors.unread_count``).

    Each recipient's group gets the id; each connected socket reads its notification (left out
    when gone or no longer shown) and sends it, then the unread count it counts then.
    """
    try:
        realtime.send_to_groups(
            (user_group(recipient_id), {"type": NOTIFICATION, "id": str(notification_id)})
            for notification_id, recipient_id in notifications
        )
    except Exception:
        logger.exception("Live push of %d notification(s) failed", len(notifications))


def push_unread_count(user_id, unread_count):
    """Announce ``user_id``'s unread count, ``unread_count`` (an ``int``, capped as the API's
    ``unreadCount`` is: 100 means 100 or more). Called after ``POST /notifications/read``
    committed, and after a notification for that one recipient was delivered."""
    try:
        realtime.send_to_groups(
            [(user_group(user_id), {"type": UNREAD_COUNT, "unreadCount": int(unread_count)})]
        )
    except Exception:
        logger.exception("Live push of the unread count of %s failed", user_id)
