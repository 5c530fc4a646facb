"""Page/limit pagination with the original ``GET /videos`` shape, used by every list."""

import math
from dataclasses import dataclass

from .exceptions import BadRequest

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
# A deeper page is refused (400): its OFFSET would only make the database skip rows.
MAX_PAGE = 10_000_000


def single_query_param(request, name):
    """The query parameter ``name`` with its surrounding blanks removed, or None when absent;
    a repeated parameter is ambiguous (400)."""
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"'{name}' must be given once")
    return values[0].strip() if values else None


def positive_int_param(request, name, default):
    raw = single_query_param(request, name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise BadRequest(f"'{name}' must be a positive integer")
    return int(raw)


@dataclass(frozen=True)
class PageRequest:
    page: int
    limit: int

    @property
    def offset(self):
        return (self.page - 1) * self.limit

    @classmethod
    def from_request(cls, request):
        page = positive_int_param(request, "page", 1)
        # Over the cap is clamped, not refused: the answer's `limit` says what was applied.
        limit = min(positive_int_param(request, "limit", DEFAULT_LIMIT), MAX_LIMIT)
        if page > MAX_PAGE:
            raise BadRequest("'page' is too large")
        return cls(page=page, limit=limit)


def valid_page_request(request):
    """``PageRequest.from_request``, or None when ``page`` or ``limit`` is bad: a lean path
    then leaves the answer to its reference path, which says so in its own order (a 404 for
    what it lists before the 400)."""
    try:
        return PageRequest.from_request(request)
    except BadRequest:
        return None


def page_body(docs, total, page_request):
    total_pages = math.ceil(total / page_request.limit) if total else 0
    return {
        "docs": docs,
        "totalDocs": total,
        "limit": page_request.limit,
        "page": page_request.page,
        "totalPages": total_pages,
        "hasNextPage": page_request.page < total_pages,
        "hasPrevPage": page_request.page > 1,
    }


# From this offset on, a page is read in two steps (a "deferred join"): the ids of the page
# first, which an index holding the sort key and the id serves without touching the table, then
# the rows of those ids. A plain OFFSET would fetch and join every skipped row.
DEFERRED_JOIN_FROM_OFFSET = 200


def paginate(queryset, page_request, count=None):
    """Return ``(rows, total)`` for one page of an ordered ``queryset``: one COUNT query
    (skipped when ``count`` is given) and one page query (two on deep pages)."""
    total = queryset.count() if count is None else count
    if page_request.offset >= total:
        return [], total
    window = slice(page_request.offset, page_request.offset + page_request.limit)
    if page_request.offset < DEFERRED_JOIN_FROM_OFFSET:
        return list(queryset[window]), total
    ids = list(queryset.values_list("pk", flat=True)[window])
    rows = {row.pk: row for row in queryset.filter(pk__in=ids)}
    return [rows[pk] for pk in ids if pk in rows], total


def paginated_body(request, queryset, serializer_class, count=None):
    """The page body of ``queryset`` that the request's ``page`` and ``limit`` ask for, each row
    serialized by ``serializer_class`` (``count``: see ``paginate``)."""
    page_request = PageRequest.from_request(request)
    rows, total = paginate(queryset, page_request, count=count)
    return page_body(serializer_class(rows, many=True).data, total, page_request)
