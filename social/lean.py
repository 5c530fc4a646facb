"""The lean paths (``viztube.compiled``) of social's busiest reads: a video's comments and a
thread's replies, a page of each in one statement with its total and the visibility check; a
channel's profile; and a page of the subscription feed with its videos and tweets, in one
statement.

Each answers what the serializer path answers (``social.views`` keeps that path for SQLite and
as the reference; tests/social/test_lean_comments.py proves them equal): the querysets, rules
and orders are ``social.selectors``'s and ``videos.selectors``'s, the shapes
``social.serializers``'s. Only the glue is written here: the head row (the total, and the 404
when there is none) joined to its page (``LATERAL``), the page read by id first as every
deep page is (``viztube.compiled.paged``), in list order (``ROW_NUMBER``, so the order does
not rest on the join's).
"""

import uuid

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import UUIDField, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, RowNumber

from social import feed
from social.models import Comment
from social.selectors import (
    CHANNEL_NOT_FOUND,
    COMMENT_NOT_FOUND,
    REPLY_ORDER,
    THREAD_ORDER,
    channel_username,
    channels_for,
    liked_by_id,
    video_threads_total,
)
from social.serializers import CHANNEL_PROFILE_SHAPE, COMMENT_SHAPE, TWEET_SHAPE
from videos.models import Video
from videos.selectors import VIDEO_NOT_FOUND, reachable_videos_q
from videos.serializers import VIDEO_SHAPE
from viztube import errors
from viztube.api.cursor import Position, cursor_body
from viztube.api.pagination import page_body
from viztube.compiled import ApiDateTime, Parameter, Statement, compiled, paged

User = get_user_model()

_VIEWER = Parameter("viewer", UUIDField())
_VIDEO = Parameter("video", UUIDField())
_COMMENT = Parameter("comment", UUIDField())


def _comments(viewer_id):
    return Comment.objects.annotate(is_liked=liked_by_id(viewer_id, "comment"))


def _head_and_page(head, page, order):
    """``head`` (one row or none, its first column ``total``) with the rows of ``page`` in
    ``order``: ``[total, *COMMENT_SHAPE columns, position]`` per row; one row with a NULL page
    when the page is empty, none when the head is missing."""
    head = Statement.of(head.order_by())
    position = Window(RowNumber(), order_by=list(order))
    page = Statement.of(COMMENT_SHAPE.select(page.order_by(), position=position))
    # MATERIALIZED: a head pulled up into the join would compute its total once per page row.
    return Statement(
        f"WITH head AS MATERIALIZED ({head.sql}) SELECT head.total, page.* FROM head "  # noqa: S608
        f"LEFT JOIN LATERAL ({page.sql}) AS page ON true ORDER BY page.position",
        [*head.params, *page.params],
    )


@compiled
def _comment_list_statement(signed_in):
    """``social.selectors.comment_list_for_video`` in one statement."""
    viewer_id = _VIEWER if signed_in else None
    head = (
        Video.objects.filter(reachable_videos_q(viewer_id), pk=_VIDEO)
        .annotate(total=video_threads_total())
        .values_list("total")
    )
    threads = Comment.objects.filter(video_id=_VIDEO, parent__isnull=True).order_by(*THREAD_ORDER)
    page = _comments(viewer_id).filter(pk__in=paged(threads.values("pk")))
    return _head_and_page(head, page, THREAD_ORDER)


@compiled
def _reply_list_statement(signed_in):
    """``social.selectors.comment_reply_list`` in one statement: the head is the comment
    (under its video's visibility) with its thread and the thread's ``replies_count``."""
    viewer_id = _VIEWER if signed_in else None
    head = (
        Comment.objects.filter(reachable_videos_q(viewer_id, prefix="video__"), pk=_COMMENT)
        .annotate(
            total=Coalesce("parent__replies_count", "replies_count"),
            thread=Coalesce("parent_id", "pk"),
        )
        .values_list("total", "thread")
    )
    quote = connection.ops.quote_name
    thread = RawSQL(f"{quote('head')}.{quote('thread')}", ())  # noqa: S611 (names only)
    replies = Comment.objects.filter(parent_id=thread).order_by(*REPLY_ORDER)
    page = _comments(viewer_id).filter(pk__in=paged(replies.values("pk")))
    return _head_and_page(head, page, REPLY_ORDER)


def _page(statement, not_found, page, viewer, **values):
    signed_in = viewer is not None and viewer.is_authenticated
    if signed_in:
        values["viewer"] = viewer.pk
    rows = statement(signed_in).rows(limit=page.limit, offset=page.offset, **values)
    if not rows:
        raise errors.NotFound(not_found)
    docs = [COMMENT_SHAPE.read(row, 1) for row in rows if row[1] is not None]
    return page_body(docs, rows[0][0], page)


def comment_list_body(*, video_id, viewer, page):
    """``GET /comments/:videoId``'s data for ``page`` (a ``PageRequest``); 404 as there."""
    return _page(_comment_list_statement, VIDEO_NOT_FOUND, page, viewer, video=video_id)


def comment_reply_list_body(*, comment_id, viewer, page):
    """``GET /comments/c/:commentId/replies``'s data for ``page``; 404 as there."""
    return _page(_reply_list_statement, COMMENT_NOT_FOUND, page, viewer, comment=comment_id)


# --- Channel profile --------------------------------------------------------------------------


@compiled
def _channel_profile_statement(signed_in):
    """``social.selectors.channel_profile_get`` in one statement."""
    username = Parameter("username", User._meta.get_field("username"))
    return CHANNEL_PROFILE_SHAPE.select(
        channels_for(_VIEWER if signed_in else None).filter(username=username)
    )


def channel_profile_data(*, username, viewer):
    """``GET /user/c/:username``'s data; 404 as there. The email is left out unless the caller
    looks at their own channel."""
    signed_in = viewer is not None and viewer.is_authenticated
    values = {"username": channel_username(username)}
    if signed_in:
        values["viewer"] = viewer.pk
    rows = _channel_profile_statement(signed_in).rows(**values)
    if not rows:
        raise errors.NotFound(CHANNEL_NOT_FOUND)
    data = CHANNEL_PROFILE_SHAPE.read(rows[0])
    if not (signed_in and data["id"] == str(viewer.pk)):
        del data["email"]
    return data


# --- The feed ----------------------------------------------------------------------------------

_FEED_SHAPES = {feed.VIDEO: VIDEO_SHAPE, feed.TWEET: TWEET_SHAPE}
# Before each kind's item columns: the position's kind, id and time (the cursor's key).
_FEED_POSITION = 3


def _feed_items(kind):
    items, at = feed.listed_items(kind)
    if kind == feed.TWEET:
        items = items.annotate(is_liked=liked_by_id(_VIEWER, "tweet"))
    return items, at


@compiled
def _feed_statement(kinds):
    """``social.feed``'s page read (its statement, as a CTE) with each item loaded beside its
    position, in the feed's order: ``[kind, id, at]``, then per kind of ``kinds`` its shape's
    columns and its time in the API's format (NULL when the row is of the other kind, or no
    longer shown: that item is left out, the cursor still stands after it, as
    ``social.feed.feed_items`` does)."""
    quote = connection.ops.quote_name
    positions = feed.positions_statement(kinds)
    position_id = RawSQL(f"{quote('feed')}.{quote('id')}", ())  # noqa: S611 (names only)
    columns, joins, params = [], [], [*positions.params]
    for kind in kinds:
        items, at = _feed_items(kind)
        item = Statement.of(
            _FEED_SHAPES[kind].select(items.filter(pk=position_id).order_by(), at=ApiDateTime(at))
        )
        columns.append(f"{quote(kind)}.*")
        joins.append(f"LEFT JOIN LATERAL ({item.sql}) AS {quote(kind)} ON feed.kind = %s")
        params += [*item.params, kind]
    # The position's id and time as text and microseconds: psycopg's (and Django's) loaders of
    # uuid and timestamptz cost more than the rest of the row; only the cursor's row needs them.
    return Statement(
        f"WITH feed AS ({positions.sql}) SELECT feed.kind, feed.id::text, "  # noqa: S608
        "(extract(epoch FROM feed.at) * 1000000)::bigint, "
        f"{', '.join(columns)} FROM feed {' '.join(joins)} ORDER BY feed.at DESC, feed.id DESC",
        params,
    )


def _feed_doc(row, kinds):
    start = _FEED_POSITION
    for kind in kinds:
        shape = _FEED_SHAPES[kind]
        if kind == row[0]:
            if row[start] is None:
                return None
            return {
                "id": row[start],
                "at": row[start + shape.width],
                "type": kind,
                kind: shape.read(row, start),
            }
        start += shape.width + 1
    return None


def feed_body(*, viewer, page, kind=None):
    """``GET /feed``'s data for ``page`` (a ``viztube.api.cursor.CursorRequest``), as
    ``social.feed.feed_rows`` and ``feed_items`` read it, in one statement."""
    kinds = (kind,) if kind else feed.KINDS
    rows = _feed_statement(kinds).rows(**feed.page_values(viewer=viewer, page=page))

    def docs(shown):
        return [doc for doc in (_feed_doc(row, kinds) for row in shown) if doc is not None]

    def key(row):
        return Position.of_microseconds(row[2], uuid.UUID(row[1]))

    return cursor_body(rows, page, key=key, serialize=docs)
