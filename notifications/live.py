"""The live delivery of notifications: where what the notifications app commits is handed to
the connected clients (the WebSocket side fills these two functions in; nothing else here).

Both are called after the commit of what they announce, never inside a transaction, from the
web process (``POST /notifications/read``) or from a Celery worker (the delivery tasks). They
must stay cheap and must not raise: a live push is best effort, the rows are the truth, and a
client that missed a push reads ``GET /notifications`` when it reconnects. Until the WebSocket
side exists they only log, at debug level.
"""

import logging

logger = logging.getLogger(__name__)


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
    """
    logger.debug("%d notification(s) delivered", len(notifications))


def push_unread_count(user_id, unread_count):
    """Announce ``user_id``'s unread count, ``unread_count`` (an ``int``, capped as the API's
    ``unreadCount`` is: 100 means 100 or more). Called after ``POST /notifications/read``
    committed, and after a notification for that one recipient was delivered."""
    logger.debug("Unread count of %s: %d", user_id, unread_count)
