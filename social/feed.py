"""The subscription feed: the listed videos and the tweets of the channels a user subscribes to,
newest first, a video at its ``published_at`` (when it first became public), a tweet at its
``created_at``. Walked with cursors (``viztube.api.cursor``): each page is a seek on
``(at, id)``.

How a page is read on PostgreSQL, in one statement whatever the number of subscriptions: for
each followed channel, its newest ``fetch`` items older than the cursor's position, read from the
index that holds the channel's items in ``(at, id)`` order (``video_listed_owner_published``,
``tweet_author_created``) and stopped after ``fetch`` rows (a ``LATERAL`` join: ``fetch`` index
entries per channel, not the channel's whole history); then the ``fetch`` newest of those. The
page's rows cannot come from anywhere else: an item that is not among its own channel's
``fetch`` newest has ``fetch`` newer items before it. Nothing sorts the whole history of the
followed channels, so a channel with 12,000 videos costs what one with twelve does.

The ORM has no ``LATERAL``: the per-channel reads are querysets (the listed rule is
``videos.selectors.listed_videos_q``, the columns come from the models), compiled once per
process with placeholders for the request's values (``viztube.compiled``), and only the glue around
them (the join, the union, the final order) is written here. The values reach PostgreSQL inlined
(psycopg's client-side binding, Django's default), so the planner sees ``visibility = 'public'``
and reads the partial index. Elsewhere than on PostgreSQL (the local SQLite run path) a page takes
one ORM query per kind of item, merged in Python (``_positions_portable``): the same rows, without
the per-channel plan.

The page's rows are then loaded as the other lists load them, one query per kind of item on the
page: videos with their owners, tweets with their authors and the caller's ``is_liked``. A row
that changed between the two reads (a video hidden, a tweet deleted) is left out of the page; the
cursor still stands after the last row read, so the next page neither repeats nor skips.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db import connection
from django.db.models import DateTimeField, IntegerField, Q, UUIDField
from django.db.models.expressions import RawSQL

from social.models import Subscription, Tweet
from social.selectors import tweets_with_counts
from videos.models import Video
from videos.selectors import listed_videos_q, with_owner
from viztube.api.cursor import Position
from viztube.compiled import Parameter, Slot, Statement, compiled

VIDEO, TWEET = "video", "tweet"
KINDS = (VIDEO, TWEET)
FEED_LIST = "feed"


@dataclass(frozen=True)
class _Source:
    """One kind of feed item: its listed rows, the field naming its channel and its time."""

    listed: Callable
    channel: str
    at: str


_SOURCES = {
    VIDEO: _Source(lambda: Video.objects.filter(listed_videos_q()), "owner", "published_at"),
    TWEET: _Source(lambda: Tweet.objects.all(), "author", "created_at"),
}


@dataclass(frozen=True)
class FeedRow:
    """A feed item before it is loaded: what the seek read."""

    type: str
    id: UUID
    at: datetime


@dataclass(frozen=True)
class FeedItem:
    """A feed item with its video or tweet (``FeedItemSerializer``)."""

    type: str
    id: UUID
    at: datetime
    target: object


def _older_than(source, values):
    """Items of ``source`` at or before the snapshot and strictly older than the position
    (``values["at"]``, ``values["id"]``) in ``(at, id)`` order. Spelt ``at <= A AND (at < A OR
    id < I)`` rather than as a row comparison: the index range starts at ``A`` either way, and
    the ORM can say this one."""
    at = source.at
    return (
        Q(**{f"{at}__lte": values["snapshot"]})
        & Q(**{f"{at}__lte": values["at"]})
        & (Q(**{f"{at}__lt": values["at"]}) | Q(pk__lt=values["id"]))
    )


def _newest(source, channel_condition, values):
    """``(id, at)`` of the newest items of ``source`` matching ``channel_condition``, older
    than the position in ``values`` (real values, or the ``_PLACEHOLDERS``)."""
    return (
        source.listed()
        .filter(channel_condition, _older_than(source, values))
        .order_by(f"-{source.at}", "-pk")
        .values_list("pk", source.at)
    )


# --- PostgreSQL: one statement ---------------------------------------------------------------


_PLACEHOLDERS = {
    "viewer": Parameter("viewer", UUIDField()),
    "snapshot": Parameter("snapshot", DateTimeField()),
    "at": Parameter("at", DateTimeField()),
    "id": Parameter("id", UUIDField()),
}
_FETCH = Slot("fetch", IntegerField())


@compiled
def positions_statement(kinds):
    """The page read for ``kinds`` (see the module docstring): ``(kind, id, at)`` rows, newest
    first; its slots are ``page_values``'s."""
    quote = connection.ops.quote_name
    followed = Statement.of(
        Subscription.objects.filter(subscriber_id=_PLACEHOLDERS["viewer"]).values_list("channel_id")
    )
    # The followed channel of the LATERAL join's outer row (names from the model, quoted).
    followed_channel = RawSQL(  # noqa: S611
        f"{quote('followed')}.{quote(Subscription._meta.get_field('channel').column)}", ()
    )
    parts, params = [], []
    for kind in kinds:
        source = _SOURCES[kind]
        channel_id = source.listed().model._meta.get_field(source.channel).attname
        newest = Statement.of(_newest(source, Q(**{channel_id: followed_channel}), _PLACEHOLDERS))
        parts.append(
            f"SELECT %s AS kind, item.id, item.at FROM ({followed.sql}) AS followed "  # noqa: S608
            f"CROSS JOIN LATERAL ({newest.sql} LIMIT %s) AS item (id, at)"
        )
        params += [kind, *followed.params, *newest.params, _FETCH]
    union = " UNION ALL ".join(parts)
    sql = f"SELECT kind, id, at FROM ({union}) AS feed ORDER BY at DESC, id DESC LIMIT %s"  # noqa: S608
    return Statement(sql, [*params, _FETCH])


def _positions_postgres(values, kinds):
    return [FeedRow(kind, pk, at) for kind, pk, at in positions_statement(kinds).rows(**values)]


# --- Elsewhere: one query per kind -----------------------------------------------------------


def _positions_portable(values, kinds):
    followed = Subscription.objects.filter(subscriber_id=values["viewer"]).values("channel_id")
    rows = []
    for kind in kinds:
        source = _SOURCES[kind]
        newest = _newest(source, Q(**{f"{source.channel}__in": followed}), values)
        rows += [FeedRow(kind, pk, at) for pk, at in newest[: values["fetch"]]]
    rows.sort(key=lambda row: (row.at, row.id), reverse=True)
    return rows[: values["fetch"]]


# --- Reads -----------------------------------------------------------------------------------


def page_values(*, viewer, page):
    """The values a page read needs: the reader's id and ``page``'s (a
    ``viztube.api.cursor.CursorRequest``) snapshot, position and size."""
    return {
        "viewer": viewer.pk,
        "snapshot": page.snapshot,
        "at": page.older_than.at,
        "id": page.older_than.id,
        "fetch": page.fetch,
    }


def feed_rows(*, viewer, page, kind=None):
    """The rows of ``page`` (a ``viztube.api.cursor.CursorRequest``) of ``viewer``'s feed:
    up to ``page.fetch`` ``FeedRow``s, newest first; ``kind`` keeps one kind of item."""
    kinds = (kind,) if kind else KINDS
    values = page_values(viewer=viewer, page=page)
    if connection.vendor == "postgresql":
        return _positions_postgres(values, kinds)
    return _positions_portable(values, kinds)


def listed_items(kind):
    """The items of ``kind`` a feed shows (videos: the listed ones), and the field that is
    their time in the feed."""
    source = _SOURCES[kind]
    return source.listed(), source.at


def feed_items(rows, *, viewer):
    """``rows`` with their videos and tweets (one query per kind present), in the same order;
    a row whose video is no longer listed, or whose tweet is gone, is left out."""
    wanted = {kind: [row.id for row in rows if row.type == kind] for kind in KINDS}
    loaded = {VIDEO: {}, TWEET: {}}
    if wanted[VIDEO]:
        videos = with_owner(_SOURCES[VIDEO].listed()).filter(pk__in=wanted[VIDEO])
        loaded[VIDEO] = {video.pk: video for video in videos}
    if wanted[TWEET]:
        tweets = tweets_with_counts(viewer).filter(pk__in=wanted[TWEET])
        loaded[TWEET] = {tweet.pk: tweet for tweet in tweets}
    return [
        FeedItem(row.type, row.id, row.at, loaded[row.type][row.id])
        for row in rows
        if row.id in loaded[row.type]
    ]


def feed_position(row):
    """The cursor position after ``row`` (``viztube.api.cursor.cursor_body``'s ``key``)."""
    return Position(at=row.at, id=row.id)
