"""Cursor pagination (viztube.api.cursor): limits, the body, and cursors that only this server,
for this list and this reader, can have written."""

import datetime
import re
import uuid

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from viztube.api.cursor import (
    CURSOR_MAX_LENGTH,
    INVALID_CURSOR,
    CursorRequest,
    Position,
    cursor_body,
    cursor_request,
)
from viztube.api.exceptions import BadRequest

factory = APIRequestFactory()
READER = uuid.UUID("01a25144-5189-799c-ba1f-abd1700f4caf")
MOMENT = datetime.datetime(2026, 3, 4, 5, 6, 7, 891234, tzinfo=datetime.UTC)


def _request(query):
    return Request(factory.get("/x", query))


def _page(query=None, list_name="things", reader=READER):
    return cursor_request(_request(query or {}), list_name, reader=reader)


def _next_cursor(page, position, rows=2):
    """The nextCursor of a page of ``page.limit`` rows ending at ``position``, with a row after."""
    rows = [Position(MOMENT, uuid.uuid4()) for _ in range(page.limit - 1)] + [position] * rows
    return cursor_body(rows, page, key=lambda row: row, serialize=list)["nextCursor"]


def test_first_page_defaults():
    page = _page()

    assert page.limit == 10
    assert page.fetch == 11
    # The first page holds everything up to the snapshot, at the snapshot itself too.
    assert page.older_than == Position(page.snapshot, uuid.UUID(int=(1 << 128) - 1))
    assert abs(page.snapshot - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(seconds=5)


@pytest.mark.parametrize("cursor", ["", "  "])
def test_an_empty_cursor_is_the_first_page(cursor):
    page = _page({"cursor": cursor})

    assert page.older_than.id == uuid.UUID(int=(1 << 128) - 1)


@pytest.mark.parametrize(("limit", "expected"), [("1", 1), ("100", 100), (" 42 ", 42)])
def test_limits_from_1_to_100(limit, expected):
    assert _page({"limit": limit}).limit == expected


@pytest.mark.parametrize(
    ("limit", "message"),
    [
        ("0", "'limit' must be a positive integer"),
        ("-5", "'limit' must be a positive integer"),
        ("2.5", "'limit' must be a positive integer"),
        ("ten", "'limit' must be a positive integer"),
        ("101", "'limit' must be at most 100"),
    ],
)
def test_limits_out_of_range_are_refused_not_clamped(limit, message):
    with pytest.raises(BadRequest) as refused:
        _page({"limit": limit})

    assert str(refused.value.detail) == message


def test_a_cursor_gives_back_the_snapshot_and_the_position_exactly():
    first = _page({"limit": 3})
    position = Position(MOMENT, uuid.UUID("01a25144-5189-799c-ba1f-abd1700f4caf"))

    cursor = _next_cursor(first, position)
    following = _page({"limit": 5, "cursor": cursor})

    assert following == CursorRequest(5, first.snapshot, position, first.salt)
    # Another page later in the walk keeps the walk's snapshot.
    deeper = _page({"cursor": _next_cursor(following, Position(MOMENT, uuid.uuid4()))})
    assert deeper.snapshot == first.snapshot


def test_cursors_are_short_url_safe_and_opaque():
    cursor = _next_cursor(_page(), Position(MOMENT, READER))

    assert len(cursor) <= CURSOR_MAX_LENGTH
    assert re.fullmatch(r"[A-Za-z0-9_\-]+:[A-Za-z0-9_\-]+", cursor)
    assert str(READER) not in cursor and READER.hex not in cursor


def test_body_shows_limit_rows_and_a_cursor_only_when_one_is_left():
    page = _page({"limit": 2})
    rows = [Position(MOMENT - datetime.timedelta(seconds=n), uuid.uuid4()) for n in range(3)]
    serialized = []

    def serialize(shown):
        serialized.append(list(shown))
        return [str(row.id) for row in shown]

    body = cursor_body(rows, page, key=lambda row: row, serialize=serialize)
    assert body["docs"] == [str(rows[0].id), str(rows[1].id)]
    assert body["limit"] == 2
    assert _page({"cursor": body["nextCursor"]}).older_than == rows[1]
    assert serialized == [rows[:2]]  # the extra row is never serialized

    for last_rows in (rows[:2], rows[:1], []):
        body = cursor_body(last_rows, page, key=lambda row: row, serialize=list)
        assert body == {"docs": last_rows, "limit": 2, "nextCursor": None}


def _refused(query, **kwargs):
    with pytest.raises(BadRequest) as refused:
        _page(query, **kwargs)
    return str(refused.value.detail)


def test_a_cursor_is_bound_to_its_list_and_its_reader():
    cursor = _next_cursor(_page(), Position(MOMENT, READER))

    assert _page({"cursor": cursor}).older_than == Position(MOMENT, READER)
    assert _refused({"cursor": cursor}, reader=uuid.uuid4()) == INVALID_CURSOR
    assert _refused({"cursor": cursor}, list_name="others") == INVALID_CURSOR
    assert _refused({"cursor": cursor}, reader=None) == INVALID_CURSOR


def test_any_change_to_a_cursor_is_refused():
    cursor = _next_cursor(_page(), Position(MOMENT, READER))

    for index, character in enumerate(cursor):
        replacement = "B" if character != "B" else "C"
        changed = cursor[:index] + replacement + cursor[index + 1 :]
        assert _refused({"cursor": changed}) == INVALID_CURSOR, index


@pytest.mark.parametrize(
    "cursor", ["x", ":", "abc:def", "a" * (CURSOR_MAX_LENGTH + 1), "é:é", "\x00"]
)
def test_garbage_is_refused(cursor):
    assert _refused({"cursor": cursor}) == INVALID_CURSOR


def test_a_repeated_cursor_is_refused():
    with pytest.raises(BadRequest) as refused:
        cursor_request(Request(factory.get("/x?cursor=a&cursor=a")), "things")

    assert str(refused.value.detail) == "'cursor' must be given once"


def test_cursors_signed_before_a_key_rotation_still_verify(settings):
    cursor = _next_cursor(_page(), Position(MOMENT, READER))
    old_key = settings.SECRET_KEY

    settings.SECRET_KEY = "a-new-secret-key-after-rotation-0123456789abcdefghijklmnop"
    assert _refused({"cursor": cursor}) == INVALID_CURSOR
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert _page({"cursor": cursor}).older_than == Position(MOMENT, READER)
