"""Reads of notifications: a recipient's list (a cursor walk, newest first), the unread count,
and the settings.

A notification is shown while its recipient may still reach what it is about
(``videos.selectors.reachable_videos_q``): one whose video (or whose comment's video) was made
private since is left out of the list and of the count, and comes back if the video is shown
again. Deleted subjects take their notifications with them (the foreign keys cascade).

``unreadCount`` is counted, not kept: at most ``UNREAD_COUNT_CAP`` rows of the partial index of
unread notifications are read, so it costs the same for a user with 100,000 unread
notifications as for one with 100; ``UNREAD_COUNT_CAP`` means "that many or more" (a client
shows "99+"). docs/benchmark.md compares it with an exact counter.
"""

from django.contrib.auth import get_user_model
from django.db.models import F, IntegerField, OuterRef, Q, Subquery

from notifications.models import Notification, NotificationSettings
from videos.selectors import reachable_videos_q
from viztube.api.cursor import Position

NOTIFICATIONS_LIST = "notifications"
UNREAD_COUNT_CAP = 100
_PERSON = ("actor__id", "actor__username", "actor__fullname", "actor__avatar")
_VIDEO = ("id", "title", "thumbnail")


def shown_q(user_id):
    """A ``Q`` keeping the notifications of ``user_id`` whose video (its own, or its comment's)
    the user may reach; a tweet or a channel is always shown. ``user_id`` may be an expression
    (``F("recipient_id")``: each row's own recipient)."""
    return (Q(video__isnull=True) | reachable_videos_q(user_id, prefix="video__")) & (
        Q(comment__isnull=True) | reachable_videos_q(user_id, prefix="comment__video__")
    )


def _with_subjects(queryset):
    """The columns the notification shape shows, its subjects joined (one query)."""
    return queryset.select_related("actor", "video", "comment__video", "tweet").only(
        "id",
        "recipient",
        "type",
        "is_read",
        "created_at",
        "actor",
        *_PERSON,
        "video",
        *(f"video__{name}" for name in _VIDEO),
        "comment",
        "comment__content",
        "comment__video",
        *(f"comment__video__{name}" for name in _VIDEO),
        "tweet",
        "tweet__content",
    )


def notification_page(*, user, page, unread=False):
    """The rows of ``page`` (a ``viztube.api.cursor.CursorRequest``) of ``user``'s shown
    notifications, newest first (``(created_at, id)``), up to ``page.fetch``; ``unread`` keeps
    the unread ones. A seek on the index ``notification_recent`` (or ``notification_unread``)."""
    at, pk = page.older_than.at, page.older_than.id
    queryset = Notification.objects.filter(recipient_id=user.pk).filter(
        Q(created_at__lte=page.snapshot)
        & Q(created_at__lte=at)
        & (Q(created_at__lt=at) | Q(pk__lt=pk))
    )
    if unread:
        queryset = queryset.filter(is_read=False)
    queryset = _with_subjects(queryset.filter(shown_q(user.pk)))
    return list(queryset.order_by("-created_at", "-id")[: page.fetch])


def notification_position(notification):
    """The cursor position after ``notification`` (``cursor_body``'s ``key``)."""
    return Position(at=notification.created_at, id=notification.pk)


def notifications_by_ids(ids):
    """The notifications ``ids`` in the API's shape (``NotificationSerializer``), for the live
    side: whoever their recipients are; those gone or no longer shown are left out."""
    queryset = Notification.objects.filter(pk__in=list(ids)).filter(shown_q(F("recipient_id")))
    return list(_with_subjects(queryset).order_by("-created_at", "-id"))


def unread_count(*, user_id):
    """How many of ``user_id``'s shown notifications are unread, counted up to
    ``UNREAD_COUNT_CAP`` (see the module docstring)."""
    unread = Notification.objects.filter(recipient_id=user_id, is_read=False)
    return unread.filter(shown_q(user_id))[:UNREAD_COUNT_CAP].count()


class _CountOf(Subquery):
    """``count(*)`` of a subquery's rows, its ``LIMIT`` kept (a capped count)."""

    template = "(SELECT count(*) FROM (%(subquery)s) capped)"
    output_field = IntegerField()


def unread_counts(*, user_ids):
    """``unread_count`` of each of ``user_ids`` (``{user_id: count}``), in one query: for the
    live side, whose sockets each need their user's count after a push."""
    capped = (
        Notification.objects.filter(recipient_id=OuterRef("pk"), is_read=False)
        .filter(shown_q(F("recipient_id")))
        .values("pk")[:UNREAD_COUNT_CAP]
    )
    return dict(
        get_user_model()
        .objects.filter(pk__in=list(user_ids))
        .annotate(unread=_CountOf(capped))
        .values_list("pk", "unread")
    )


def notification_settings(*, user):
    """``user``'s settings: the stored row, or the defaults (every type on) when none is."""
    row = NotificationSettings.objects.filter(user_id=user.pk).first()
    return row if row is not None else NotificationSettings(user_id=user.pk)
