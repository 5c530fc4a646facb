"""Already-encoded answers: a cached list page is sent as joined bytes (``ok_encoded``), with
exactly what DRF's renderer writes, and Redis round trips that skip redis-py's pipeline."""

import pytest
import redis
from django.core.cache import caches
from rest_framework.response import Response

from tests.factories import VideoFactory
from tests.foundation.test_throttling import _redis_cache
from viztube.redis_io import get_values, redis_cache, round_trip

pytestmark = pytest.mark.django_db

# "indent=0" is compact JSON, but it makes the renderer (not the joined bytes) write the body.
THROUGH_THE_RENDERER = "application/json; indent=0"


def answer(client, path, accept=None):
    response = client.get(path, **({"HTTP_ACCEPT": accept} if accept else {}))
    headers = [(name, value) for name, value in response.items() if name != "X-Request-ID"]
    return response, (response.status_code, headers, response.content)


@pytest.mark.parametrize("path", ["/api/v1/videos", "/api/v1/videos?limit=1&sortBy=views"])
def test_a_cached_page_is_the_renderers_bytes(api_client, path):
    VideoFactory.create_batch(2, title="Crème brûlée \u2028 line separator", description="")
    built, _ = answer(api_client, path)  # builds and caches the page

    joined, joined_answer = answer(api_client, path)
    rendered, rendered_answer = answer(api_client, path, THROUGH_THE_RENDERER)

    assert not isinstance(joined, Response)
    assert isinstance(rendered, Response)
    assert joined_answer == rendered_answer
    assert joined.content == built.content
    assert b"\\u2028" in joined.content
    assert joined.json()["message"] == "Videos fetched successfully"


def test_an_indent_or_an_unknown_format_still_goes_through_drf(api_client):
    VideoFactory()
    answer(api_client, "/api/v1/videos")

    indented, _ = answer(api_client, "/api/v1/videos", "application/json; indent=2")
    refused, _ = answer(api_client, "/api/v1/videos", "text/html")

    assert indented.content.startswith(b'{\n  "statusCode":200,')
    assert refused.status_code == 406


def test_a_round_trip_answers_each_command_in_order(settings):
    _redis_cache(settings)
    backend = redis_cache()
    key, missing = backend.make_key("round-trip"), backend.make_key("round-trip-missing")
    backend.delete("round-trip")

    replies = round_trip(
        backend, ("SET", key, 0, "EX", 60, "NX"), ("INCR", key), ("INCR", key), ("GET", missing)
    )

    assert replies == [b"OK", 1, 2, None]
    caches["default"].set("a", {"x": 1})
    assert get_values("a", "round-trip-missing") == [{"x": 1}, None]


def test_an_error_reply_leaves_no_reply_behind_for_the_next_round_trip(settings):
    _redis_cache(settings)
    backend = redis_cache()
    text, number = backend.make_key("not-a-number"), backend.make_key("a-number")
    round_trip(backend, ("SET", text, "abc"), ("SET", number, 41))

    with pytest.raises(redis.ResponseError):
        round_trip(backend, ("INCR", text), ("GET", number))

    assert round_trip(backend, ("INCR", number)) == [42]


def test_redis_down_raises_for_the_caller_to_decide(settings):
    _redis_cache(settings, location="redis://127.0.0.1:1/0")

    with pytest.raises(redis.ConnectionError):
        round_trip(redis_cache(), ("GET", "x"))
