import datetime
import json

from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.utils.encoders import JSONEncoder


class ApiJSONEncoder(JSONEncoder):
    """DRF's encoder, with datetimes as ISO-8601 UTC to the millisecond: 2026-06-14T08:42:08.123Z."""

    def default(self, obj):
        if isinstance(obj, datetime.datetime):
            if obj.tzinfo is not None:
                obj = obj.astimezone(datetime.UTC).replace(tzinfo=None)
            return obj.isoformat(timespec="milliseconds") + "Z"
        return super().default(obj)


class EnvelopeJSONRenderer(JSONRenderer):
    encoder_class = ApiJSONEncoder
    # Compact output: smaller bodies, faster encoding.
    compact = True
    ensure_ascii = False


class EnvelopeBrowsableAPIRenderer(BrowsableAPIRenderer):
    """The browsable API (debug only), showing the same enveloped JSON as the API returns."""

    def get_default_renderer(self, view):
        return EnvelopeJSONRenderer()


def dumps(data):
    """Serialize outside a DRF response (middleware, plain Django views) exactly as the API does."""
    return json.dumps(data, cls=ApiJSONEncoder, ensure_ascii=False, separators=(",", ":"))
