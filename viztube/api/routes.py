"""URL patterns that answer with and without a trailing slash, without redirecting."""

import functools
import re
import uuid

from django.urls import re_path

_SEGMENT = r"[^/]+"
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_PLACEHOLDER = re.compile(r"<(?:(?P<kind>\w+):)?(?P<name>\w+)>")
# No row has this id (ids are UUIDv7, made by the server).
NO_SUCH_ID = "00000000-0000-0000-0000-000000000000"


def route(pattern, view, name=None):
    """Like ``path()``, but ``/`` at the end is optional.

    ``<uuid:x>`` takes any path segment: a malformed id is answered exactly like a well-formed
    one that names nothing (the view gets an id no row has), so ``/videos/not-a-uuid`` is the
    route's own 404, "Video not found", after the same authentication and permission checks.
    """

    def placeholder(match):
        if match.group("kind") == "uuid":
            uuid_names.append(match.group("name"))
        return f"(?P<{match.group('name')}>{_SEGMENT})"

    uuid_names = []

    pattern = pattern.strip("/")
    regex, position = "", 0
    for match in _PLACEHOLDER.finditer(pattern):
        regex += _literal(pattern[position : match.start()]) + placeholder(match)
        position = match.end()
    regex += _literal(pattern[position:])
    if uuid_names:
        view = _malformed_ids_name_nothing(view, uuid_names)
    return re_path(rf"^{regex}/?$", view, name=name)


def _malformed_ids_name_nothing(view, names):
    @functools.wraps(view)  # keeps what DRF and the schema generator read off the view
    def wrapped(request, *args, **kwargs):
        for name in names:
            if _CANONICAL_UUID.fullmatch(kwargs[name]):
                continue  # what clients send; a regex is much cheaper than uuid.UUID()
            try:
                kwargs[name] = str(uuid.UUID(kwargs[name]))
            except ValueError:
                kwargs[name] = NO_SUCH_ID
        return view(request, *args, **kwargs)

    return wrapped


def _literal(text):
    # re.escape also escapes "-", which would leak into the OpenAPI paths as "\\-".
    return re.escape(text).replace("\\-", "-")
