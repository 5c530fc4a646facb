"""JSON out: orjson, with the API's date format (UTC to the millisecond, ``Z``).

Encoding is a measurable share of a cheap request (docs/benchmark.md): orjson does it in C, and its
``Fragment`` lets a cached page body (already JSON) travel inside a new envelope unparsed.
"""

import datetime
import json

import orjson
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

# Datetimes go through ``_default`` (orjson's own format keeps microseconds); U+2028/U+2029 are
# escaped as DRF does, so a body stays safe to embed in a <script>.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
_LINE_SEPARATORS = ((b"\xe2\x80\xa8", b"\\u2028"), (b"\xe2\x80\xa9", b"\\u2029"))


class ApiJSONEncoder(JSONEncoder):
    """DRF's encoder, with datetimes as ISO-8601 UTC to the millisecond: 2026-06-14T08:42:08.123Z.

    orjson hands it what it does not encode itself (datetimes, dates, times, decimals, lazy
    strings, ...), so every type DRF's renderer accepted is still accepted, encoded the same way.
    """

    def default(self, obj):
        if isinstance(obj, datetime.datetime):
            if obj.tzinfo is not None:
                obj = obj.astimezone(datetime.UTC).replace(tzinfo=None)
            return obj.isoformat(timespec="milliseconds") + "Z"
        return super().default(obj)


_default = ApiJSONEncoder().default


def dumps(data, *, indent=None):
    """``data`` as compact UTF-8 JSON bytes, exactly as every API response encodes it.

    ``indent`` (a client's ``Accept: application/json; indent=4``, the browsable API): the same
    document re-indented by the standard library, as DRF did (orjson only indents by 2), cached
    page fragments included.
    """
    encoded = orjson.dumps(data, default=_default, option=_OPTIONS)
    if indent:
        encoded = json.dumps(
            orjson.loads(encoded), indent=indent, ensure_ascii=False, separators=(",", ":")
        ).encode()
    for raw, escaped in _LINE_SEPARATORS:
        if raw in encoded:
            encoded = encoded.replace(raw, escaped)
    return encoded


def fragment(encoded):
    """Already-encoded JSON (from ``dumps``) to place, as it is, inside data to encode."""
    return orjson.Fragment(encoded)


class EnvelopeJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return dumps(data, indent=self.get_indent(accepted_media_type, renderer_context or {}))


class EnvelopeBrowsableAPIRenderer(BrowsableAPIRenderer):
    """The browsable API (debug only), showing the same enveloped JSON as the API returns."""

    def get_default_renderer(self, view):
        return EnvelopeJSONRenderer()
