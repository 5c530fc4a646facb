"""Every write of notifications: their delivery (run by the tasks), marking them read, and a
user's settings.

Delivery inserts with ``INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING``: the
statement itself decides, when it runs, whether there is anything to deliver (the subject still
exists and the recipient may see it, the recipient is not the actor, the recipient's settings
want the type), and the unique indexes of ``Notification`` make a repeat deliver nothing. So a
task that runs twice, or late, or after its subject was hidden or deleted, is harmless: the
rows it returns are exactly what it delivered, and only those go to the live side
(``notifications.live``), after the commit.

A fan-out (``videoPublished``, ``tweetPosted``: one row per subscriber of the channel) is cut
into batches of ``FAN_OUT_BATCH`` subscriptions, read in ``(created_at, id)`` order from the
channel's subscription index, one statement per batch; each batch checks the subject again, so
a video hidden or deleted in the middle of a fan-out stops it at the next batch.

On PostgreSQL each delivery is one statement built around querysets (the visibility rules are
``videos.selectors``'s); elsewhere (the local SQLite run) the same rows are read with the ORM
and inserted with ``bulk_create(ignore_conflicts=True)``.
"""

import datetime
import uuid
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import F, Q, UUIDField, Value
from django.db.models.functions import Cast
from django.utils import timezone

from notifications import live
from notifications.models import (
    SETTING_OF_TYPE,
    Notification,
    NotificationSettings,
    NotificationType,
)
from notifications.selectors import unread_count
from social.models import Comment, Subscription, Tweet
from videos.models import Video
from videos.selectors import listed_videos_q, reachable_videos_q
from viztube import errors

# Subscriptions read, and rows inserted, per statement of a fan-out: large enough that a
# channel with 100,000 subscribers takes 20 statements, small enough that one statement holds
# its locks (the foreign keys' KEY SHARE on the rows it names) for well under a second.
FAN_OUT_BATCH = 5000
NOTHING_TO_MARK = "Send 'ids' (a list of notification ids) or 'all': true"
# A typed NULL: a bare one is text to PostgreSQL in a CTE.
_NO_ID = Cast(Value(None), output_field=UUIDField())
# A UUIDv7 made by PostgreSQL (its own uuidv7() arrives in version 18): the milliseconds since
# the epoch in the first 48 bits of a random UUID, whose version nibble becomes 7 (bits 52 and
# 53 set on the 4 of gen_random_uuid()); the variant bits stay as they are.
_UUID7_SQL = (
    "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing "
    "substring(int8send((extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) "
    "from 1 for 6), 52, 1), 53, 1), 'hex')::uuid"
)
# The columns a delivery's source query selects, in this order.
_SOURCE_COLUMNS = ("recipient_id", "actor_id", "video_id", "comment_id", "tweet_id")


@dataclass(frozen=True)
class FanOutBatch:
    """What one batch of a fan-out did: ``delivered`` ``(id, recipient_id)`` pairs;
    ``after``, the position of the last subscription read (None when none was); ``done``
    when no subscription is left or the subject is gone or hidden (``cancelled``)."""

    delivered: list = field(default_factory=list)
    after: tuple | None = None
    done: bool = True
    cancelled: bool = False


# --- The statements ------------------------------------------------------------------------


def _quote(name):
    return connection.ops.quote_name(name)


def _sql(queryset):
    sql, params = queryset.query.sql_with_params()
    return sql, list(params)


def _insert_sql(type_, source):
    """``INSERT`` the rows of the CTE ``source`` (its columns ``_SOURCE_COLUMNS``) as
    notifications of ``type_``, for the recipients whose settings want it, skipping every row a
    unique index already holds; ``RETURNING id, recipient_id``."""
    table = _quote(Notification._meta.db_table)
    settings_table = _quote(NotificationSettings._meta.db_table)
    setting = _quote(NotificationSettings._meta.get_field(SETTING_OF_TYPE[type_]).column)
    columns = ", ".join(_quote(column) for column in _SOURCE_COLUMNS)
    picked = ", ".join(f"source.{_quote(column)}" for column in _SOURCE_COLUMNS)
    return (
        f"INSERT INTO {table} (id, type, is_read, created_at, {columns}) "  # noqa: S608
        f"SELECT {_UUID7_SQL}, %s, false, statement_timestamp(), {picked} "
        f"FROM {source} AS source "
        f"LEFT JOIN {settings_table} AS wanted ON wanted.user_id = source.recipient_id "
        f"WHERE wanted.{setting} IS NOT FALSE AND source.recipient_id <> source.actor_id "
        "ON CONFLICT DO NOTHING RETURNING id, recipient_id"
    ), [type_]


def _deliver_postgres(type_, source):
    """Deliver the rows of the queryset ``source`` (``values_list`` of ``_SOURCE_COLUMNS``)."""
    source_sql, source_params = _sql(source)
    insert_sql, insert_params = _insert_sql(type_, "source")
    sql = f"WITH source ({', '.join(_SOURCE_COLUMNS)}) AS ({source_sql}) {insert_sql}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*source_params, *insert_params])
        return [tuple(row) for row in cursor.fetchall()]


def _deliver_portable(type_, rows):
    """The same delivery through the ORM: ``rows`` are the source's tuples."""
    setting = SETTING_OF_TYPE[type_]
    recipients = {row[0] for row in rows}
    unwanted = set(
        NotificationSettings.objects.filter(user_id__in=recipients, **{setting: False}).values_list(
            "user_id", flat=True
        )
    )
    now = timezone.now()
    candidates = [
        Notification(type=type_, created_at=now, **dict(zip(_SOURCE_COLUMNS, row, strict=True)))
        for row in rows
        if row[0] not in unwanted and row[0] != row[1]
    ]
    with transaction.atomic():
        Notification.objects.bulk_create(candidates, ignore_conflicts=True)
    # A row skipped for a conflict was not inserted under the id it was given.
    return list(
        Notification.objects.filter(pk__in=[n.pk for n in candidates]).values_list(
            "pk", "recipient_id"
        )
    )


def _deliver(type_, source):
    if connection.vendor == "postgresql":
        delivered = _deliver_postgres(type_, source)
    else:
        delivered = _deliver_portable(type_, list(source))
    _announce(delivered, single=True)
    return delivered


def _announce(delivered, *, single):
    """Hand what was delivered to the live side, after the commit (it has committed when the
    delivery ran in autocommit, as the tasks run it)."""
    if not delivered:
        return

    def push():
        live.push_notifications(delivered)
        if single:
            for recipient_id in {recipient for _, recipient in delivered}:
                live.push_unread_count(recipient_id, unread_count(user_id=recipient_id))

    transaction.on_commit(push, robust=True)


# --- Single-recipient deliveries -----------------------------------------------------------


def deliver_comment(*, comment_id):
    """A new comment: ``videoCommented`` to the video's owner for a top-level comment,
    ``commentReplied`` to the thread's author for a reply. Nothing when the comment is gone,
    when the recipient wrote it, or when the recipient can no longer see the video (a video
    made private: its owner always sees it). Returns the ``(id, recipient_id)`` delivered."""
    top_level = Comment.objects.filter(pk=comment_id, parent__isnull=True).filter(
        reachable_videos_q(F("video__owner_id"), prefix="video__")
    )
    delivered = _deliver(
        NotificationType.VIDEO_COMMENTED,
        top_level.values_list("video__owner_id", "author_id", _NO_ID, "pk", _NO_ID),
    )
    reply = Comment.objects.filter(pk=comment_id, parent__isnull=False).filter(
        reachable_videos_q(F("parent__author_id"), prefix="video__")
    )
    delivered += _deliver(
        NotificationType.COMMENT_REPLIED,
        reply.values_list("parent__author_id", "author_id", _NO_ID, "pk", _NO_ID),
    )
    return delivered


def deliver_heart(*, comment_id):
    """The video's owner hearted a comment: ``commentHearted`` to its author, if the heart is
    still there, the author is not the owner, and the author can still see the video."""
    hearted = Comment.objects.filter(pk=comment_id, is_hearted=True).filter(
        reachable_videos_q(F("author_id"), prefix="video__")
    )
    return _deliver(
        NotificationType.COMMENT_HEARTED,
        hearted.values_list("author_id", "video__owner_id", _NO_ID, "pk", _NO_ID),
    )


def deliver_subscription(*, subscriber_id, channel_id):
    """``channelSubscribed`` to the channel, if the subscription still stands."""
    subscription = Subscription.objects.filter(subscriber_id=subscriber_id, channel_id=channel_id)
    return _deliver(
        NotificationType.CHANNEL_SUBSCRIBED,
        subscription.values_list("channel_id", "subscriber_id", _NO_ID, _NO_ID, _NO_ID),
    )


# --- Fan-out to a channel's subscribers --------------------------------------------------


@dataclass(frozen=True)
class _FanOut:
    """One kind of fan-out: ``subject(id)`` selects ``(id, owner)`` of the subject while it may
    be shown to every subscriber; ``column`` is the notification's column naming it."""

    type: str
    subject: object
    column: str


_FAN_OUTS = {
    NotificationType.VIDEO_PUBLISHED: _FanOut(
        NotificationType.VIDEO_PUBLISHED,
        lambda pk: Video.objects.filter(listed_videos_q(), pk=pk).values_list("pk", "owner_id"),
        "video_id",
    ),
    NotificationType.TWEET_POSTED: _FanOut(
        NotificationType.TWEET_POSTED,
        lambda pk: Tweet.objects.filter(pk=pk).values_list("pk", "author_id"),
        "tweet_id",
    ),
}


def _subscriptions_after(channel_id, after, batch_size):
    """The next ``batch_size`` subscriptions to ``channel_id`` after the position ``after``
    (``(created_at, id)`` of the last one read, or None), in that order: a range of the index
    ``sub_channel_recent`` (channel, created_at), read backwards; the spelling is the feed's
    (``created_at >= A AND (created_at > A OR id > I)``), whose first term bounds the range."""
    subscriptions = Subscription.objects.filter(channel_id=channel_id)
    if after is not None:
        at, pk = after
        subscriptions = subscriptions.filter(
            Q(created_at__gte=at) & (Q(created_at__gt=at) | Q(pk__gt=pk))
        )
    return subscriptions.order_by("created_at", "pk").values_list(
        "pk", "subscriber_id", "created_at"
    )[:batch_size]


def _fan_out_postgres(kind, subject_id, channel_id, after, batch_size):
    subject_sql, subject_params = _sql(kind.subject(subject_id))
    batch_sql, batch_params = _sql(_subscriptions_after(channel_id, after, batch_size))
    subject_of = {column: "NULL::uuid" for column in _SOURCE_COLUMNS[2:]}
    subject_of[kind.column] = "subject.id"
    insert_sql, insert_params = _insert_sql(kind.type, "source")
    sql = (
        f"WITH subject (id, owner) AS ({subject_sql}), "  # noqa: S608 (compiled parts)
        f"batch (id, subscriber, at) AS ({batch_sql}), "
        f"source ({', '.join(_SOURCE_COLUMNS)}) AS ("
        f"SELECT batch.subscriber, subject.owner, {', '.join(subject_of.values())} "
        "FROM batch CROSS JOIN subject), "
        f"delivered AS ({insert_sql}) "
        "SELECT 'delivered', id, recipient_id, NULL::timestamptz, NULL::bigint FROM delivered "
        "UNION ALL SELECT 'read', last.id, NULL, last.at, (SELECT count(*) FROM batch) "
        "FROM (SELECT id, at FROM batch ORDER BY at DESC, id DESC LIMIT 1) AS last "
        "UNION ALL SELECT 'shown', NULL, NULL, NULL, NULL FROM subject"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*subject_params, *batch_params, *insert_params])
        rows = cursor.fetchall()
    delivered = [(pk, recipient) for kind_, pk, recipient, _, _ in rows if kind_ == "delivered"]
    shown = any(row[0] == "shown" for row in rows)
    read = next((row for row in rows if row[0] == "read"), None)
    return delivered, shown, read and ((read[3], read[1]), read[4])


def _fan_out_portable(kind, subject_id, channel_id, after, batch_size):
    subject = kind.subject(subject_id).first()
    batch = list(_subscriptions_after(channel_id, after, batch_size))
    if subject is None:
        return [], False, None
    last = batch[-1] if batch else None
    rows = []
    for _, subscriber_id, _ in batch:
        row = dict.fromkeys(_SOURCE_COLUMNS)
        row.update(recipient_id=subscriber_id, actor_id=subject[1], **{kind.column: subject[0]})
        rows.append(tuple(row.values()))
    delivered = _deliver_portable(kind.type, rows) if rows else []
    return delivered, True, last and ((last[2], last[0]), len(batch))


def fan_out_batch(*, type_, subject_id, channel_id, after=None, batch_size=None):
    """Deliver ``type_`` (videoPublished or tweetPosted) about ``subject_id`` to the next
    ``batch_size`` (``FAN_OUT_BATCH``) subscribers of ``channel_id`` after ``after`` (the ``FanOutBatch.after`` of
    the previous batch; None for the first). In autocommit: one statement on PostgreSQL.

    Nothing is delivered, and the fan-out is over (``cancelled``), once the subject is gone or
    no longer shown to every subscriber (a video hidden, unlisted or deleted meanwhile)."""
    kind = _FAN_OUTS[type_]
    batch_size = batch_size or FAN_OUT_BATCH
    run = _fan_out_postgres if connection.vendor == "postgresql" else _fan_out_portable
    delivered, shown, read = run(kind, subject_id, channel_id, after, batch_size)
    _announce(delivered, single=False)
    if not shown:
        return FanOutBatch(delivered=delivered, cancelled=True)
    if read is None:
        return FanOutBatch(delivered=delivered)
    position, count = read
    return FanOutBatch(delivered=delivered, after=position, done=count < batch_size)


def fan_out_subject(*, type_, subject_id):
    """The channel whose subscribers hear of ``subject_id``, or None when the subject is not
    (or no longer) shown to them."""
    subject = _FAN_OUTS[type_].subject(subject_id).first()
    return None if subject is None else subject[1]


def encode_position(position):
    """A ``FanOutBatch.after`` as JSON-safe values (a task's arguments)."""
    if position is None:
        return None
    at, pk = position
    return [at.isoformat(), str(pk)]


def decode_position(value):
    if value is None:
        return None
    at, pk = value
    return datetime.datetime.fromisoformat(at), uuid.UUID(pk)


# --- Reading -------------------------------------------------------------------------------


def notifications_mark_read(*, user, ids=None, all_=False):
    """Mark read the caller's notifications ``ids`` (ids of anyone else's, or of none, change
    nothing), or every one of them with ``all_``; returns the caller's unread count after.
    422 when neither is asked for. The live side hears the new count after the commit."""
    if not all_ and not ids:
        raise errors.InvalidInput(NOTHING_TO_MARK)
    with transaction.atomic():
        unread = Notification.objects.filter(recipient=user, is_read=False)
        if not all_:
            unread = unread.filter(pk__in=ids)
        unread.update(is_read=True)
        count = unread_count(user_id=user.pk)
        transaction.on_commit(lambda: live.push_unread_count(user.pk, count), robust=True)
    return count


# --- Settings ------------------------------------------------------------------------------


def notification_settings_update(*, user, fields):
    """Set some of the six switches (``fields``: model field names to booleans); the others
    keep their value (true until set). Returns the settings row."""
    with transaction.atomic():
        row, _ = NotificationSettings.objects.select_for_update().get_or_create(user=user)
        changed = [name for name, value in fields.items() if getattr(row, name) != value]
        for name in changed:
            setattr(row, name, fields[name])
        if changed:
            row.save(update_fields=[*changed, "updated_at"])
    return row
