"""The lean paths (``viztube.compiled``) of social's busiest reads: a video's comments and a
thread's replies, a page of each in one statement with its total and the visibility check; a
channel's profile.

Each answers what the serializer path answers (``social.views`` keeps that path for SQLite and
as the reference; tests/social/test_lean_comments.py proves them equal): the querysets, rules
and orders are ``social.selectors``'s and ``videos.selectors``'s, the shapes
``social.serializers``'s. Only the glue is written here: the head row (the total, and the 404
when there is none) joined to its page (``LATERAL``), the page read by id first as every
deep page is (``viztube.compiled.paged``), in list order (``ROW_NUMBER``, so the order does
not rest on the join's).
"""

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import UUIDField, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, RowNumber

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
from social.serializers import CHANNEL_PROFILE_SHAPE, COMMENT_SHAPE
from videos.models import Video
from videos.selectors import VIDEO_NOT_FOUND, reachable_videos_q
from viztube import errors
from viztube.api.pagination import page_body
from viztube.compiled import Parameter, Statement, compiled, paged

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
