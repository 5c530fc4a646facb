"""Cursor pagination for infinite lists, newest first (the subscription feed; any list whose
items carry a time and an id).

A client asks for ``limit`` items and gets ``{docs, limit, nextCursor}``; it sends
``nextCursor`` back as ``cursor`` for the next page, until ``nextCursor`` is null. Unlike the
numbered pages of ``viztube.api.pagination`` there is no total and no jumping ahead: a page is a
*seek* (keyset) read, the items strictly older than where the previous page stopped, in
``(at, id)`` order, newest first. Its cost does not grow with how deep the reader is, and the walk
is stable while the list changes: no item is repeated or skipped, whatever is inserted meanwhile.

Decisions:

- ``limit`` (default 10) is refused above 100 (400), not clamped as on numbered pages: a feed
  client that asked for more than it can get would take a short page for the end of the list.
  0, negatives and non-integers are 400 as everywhere.
- The cursor holds the walk's *snapshot* (the time of its first page) and the position reached
  (the ``(at, id)`` of the last item shown). Every page keeps to items at or before the snapshot.
  The seek alone already leaves out what is added later when every item is stamped with the time
  it was added (it lands above the position); the snapshot makes the promise hold for any list,
  also one whose items may carry a time ahead of the reader's clock (a row stamped by another
  server whose clock runs fast, a future-dated row): the walk shows the list as it stood at its
  first page, and only that.
- Cursors are opaque and tamper-evident: the packed snapshot and position, signed with the
  project's ``SECRET_KEY`` (HMAC-SHA256, ``django.core.signing``; cursors signed with a key in
  ``SECRET_KEY_FALLBACKS`` still verify during a rotation) under a salt naming the list and, for
  a list of the caller's own, the caller. A cursor of another list or of another user, an edited
  one or garbage fails verification: 400, always with the same message, so the answer says
  nothing about why, and nothing is read. Cursors do not expire: a position stays meaningful.
- An empty ``cursor`` (``?cursor=``) is the first page, like none at all.
"""

import binascii
import datetime
import struct
import uuid
from dataclasses import dataclass, field

from django.core import signing
from django.utils import timezone

from .exceptions import BadRequest
from .pagination import DEFAULT_LIMIT, MAX_LIMIT, positive_int_param, single_query_param

INVALID_CURSOR = "'cursor' is not valid: send the nextCursor of the previous answer"
LIMIT_TOO_LARGE = f"'limit' must be at most {MAX_LIMIT}"
# A cursor the server writes is 87 characters; anything much longer is not one (and is not worth
# an HMAC).
CURSOR_MAX_LENGTH = 128
_PACKING = struct.Struct(">qq16s")  # snapshot and position time (microseconds), position id
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MICROSECOND = datetime.timedelta(microseconds=1)
# Above every id: the first page's position, so that it holds every item at the snapshot itself.
_ABOVE_EVERY_ID = uuid.UUID(int=(1 << 128) - 1)


@dataclass(frozen=True)
class Position:
    """Where a walk stands: the time and id of the last item shown."""

    at: datetime.datetime
    id: uuid.UUID

    @classmethod
    def of_microseconds(cls, microseconds, id):
        """The position at ``microseconds`` since the epoch (as a cursor packs it)."""
        return cls(at=_moment(microseconds), id=id)


@dataclass(frozen=True)
class CursorRequest:
    """One page of a cursor walk, as the request asks for it: ``limit`` items at or before
    ``snapshot`` and strictly older than ``older_than`` in ``(at, id)`` order (on the first page,
    the snapshot itself with an id above every id). Read ``fetch`` rows (one more than the page):
    the extra one says that a next page exists."""

    limit: int
    snapshot: datetime.datetime
    older_than: Position
    salt: str = field(repr=False)

    @property
    def fetch(self):
        return self.limit + 1


def _salt(list_name, reader):
    salt = f"viztube.cursor.{list_name}"
    return salt if reader is None else f"{salt}:{reader}"


def _microseconds(moment):
    return (moment - _EPOCH) // _MICROSECOND


def _moment(microseconds):
    return _EPOCH + datetime.timedelta(microseconds=microseconds)


def _encode(snapshot, position, salt):
    packed = _PACKING.pack(_microseconds(snapshot), _microseconds(position.at), position.id.bytes)
    return signing.Signer(salt=salt).sign(signing.b64_encode(packed).decode())


def _decode(cursor, salt):
    """``(snapshot, position)`` of a cursor this server signed under ``salt``, else 400."""
    if len(cursor) > CURSOR_MAX_LENGTH:
        raise BadRequest(INVALID_CURSOR)
    try:
        packed = signing.b64_decode(signing.Signer(salt=salt).unsign(cursor).encode())
        snapshot, at, id_bytes = _PACKING.unpack(packed)
        snapshot, at = _moment(snapshot), _moment(at)
    except (signing.BadSignature, binascii.Error, struct.error, OverflowError, ValueError):
        raise BadRequest(INVALID_CURSOR) from None
    return snapshot, Position(at=at, id=uuid.UUID(bytes=id_bytes))


def cursor_request(request, list_name, *, reader=None):
    """The page that ``request`` asks for (its ``limit`` and ``cursor``) of the list
    ``list_name``; ``reader`` (the caller's id) binds the cursors to the caller, for a list that
    is the caller's own. 400 for a bad ``limit`` or ``cursor``."""
    limit = positive_int_param(request, "limit", DEFAULT_LIMIT)
    if limit > MAX_LIMIT:
        raise BadRequest(LIMIT_TOO_LARGE)
    salt = _salt(list_name, reader)
    cursor = single_query_param(request, "cursor")
    if not cursor:
        snapshot = timezone.now()
        return CursorRequest(limit, snapshot, Position(snapshot, _ABOVE_EVERY_ID), salt)
    snapshot, position = _decode(cursor, salt)
    return CursorRequest(limit, snapshot, position, salt)


def cursor_body(rows, page, *, key, serialize):
    """The answer's ``data`` for ``rows``, the (up to ``page.fetch``) rows read for ``page`` in
    list order. ``key(row)`` is a row's ``Position``; ``serialize(rows)`` turns the rows shown
    (the first ``page.limit``) into ``docs``. ``nextCursor`` stands after the last row shown,
    and is null when no row is left."""
    shown = rows[: page.limit]
    next_cursor = None
    if len(rows) > page.limit:
        next_cursor = _encode(page.snapshot, key(shown[-1]), page.salt)
    return {"docs": serialize(shown), "limit": page.limit, "nextCursor": next_cursor}
