"""URL patterns that answer with and without a trailing slash, without redirecting."""

import re

from django.urls import re_path

UUID_REGEX = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
_CONVERTERS = {"uuid": UUID_REGEX, "str": r"[^/]+"}
_PLACEHOLDER = re.compile(r"<(?:(?P<kind>\w+):)?(?P<name>\w+)>")


def route(pattern, view, name=None):
    """Like ``path()``, but ``/`` at the end is optional. ``<uuid:x>`` only matches a UUID,
    so a malformed id never reaches a view: it is an unknown route, a 404."""

    def placeholder(match):
        kind = match.group("kind") or "str"
        return f"(?P<{match.group('name')}>{_CONVERTERS[kind]})"

    pattern = pattern.strip("/")
    regex, position = "", 0
    for match in _PLACEHOLDER.finditer(pattern):
        regex += _literal(pattern[position : match.start()]) + placeholder(match)
        position = match.end()
    regex += _literal(pattern[position:])
    return re_path(rf"^{regex}/?$", view, name=name)


def _literal(text):
    # re.escape also escapes "-", which would leak into the OpenAPI paths as "\\-".
    return re.escape(text).replace("\\-", "-")
