"""Rate limits: exact under bursts, not reset by spoofed headers, a chosen policy when Redis is down."""

import json
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from django.core.cache import cache
from rest_framework.permissions import AllowAny
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from tests.conftest import bearer_client
from tests.factories import UserFactory
from viztube.api.envelope import ok
from viztube.api.rates import parse_rate
from viztube.api.throttling import RateLimiterUnavailable, ScopedRateThrottle

factory = APIRequestFactory()
ROOT = Path(__file__).resolve().parents[2]


class LoginLikeView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_scope = {"POST": "login"}

    def get(self, request):
        return ok({}, "read")

    def post(self, request):
        return ok({}, "written")


def _redis_cache(settings, location="redis://127.0.0.1:6379/1"):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [
        ("100/m", (100, 60)),
        ("15/5m", (15, 300)),
        ("3/s", (3, 1)),
        ("10/2h", (10, 7200)),
        ("1/d", (1, 86400)),
        # DRF's spellings: long and short names, singular and plural.
        ("100/minute", (100, 60)),
        ("1000/hour", (1000, 3600)),
        ("50/day", (50, 86400)),
        ("10/second", (10, 1)),
        ("100/min", (100, 60)),
        ("5/s", (5, 1)),
        ("3/h", (3, 3600)),
        ("2/d", (2, 86400)),
        ("100/sec", (100, 1)),
        ("10/hours", (10, 3600)),
        ("10/minutes", (10, 60)),
        ("10/mins", (10, 60)),
        ("10/seconds", (10, 1)),
        ("10/secs", (10, 1)),
        ("10/days", (10, 86400)),
        # A count of units with either spelling, and spaces around the whole.
        ("15/5min", (15, 300)),
        ("4/2hours", (4, 7200)),
        (" 30/h ", (30, 3600)),
    ],
)
def test_parse_rate(rate, parsed):
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize(
    "rate",
    [
        "0/m",
        "5/0m",
        "5/00minutes",
        "0/minute",
        "five/m",
        "5/w",
        "5/week",
        "5/fortnight",
        "5/mon",
        "5/minutely",
        "5/Minute",
        "5/M",
        "5/hr",
        "5/ minute",
        "5/5 m",
        "-5/m",
        "5.5/m",
        "5/1.5h",
        "5/\u0665m",
        "5",
        "5/m/s",
        "/m",
        "5/",
        "",
    ],
)
def test_parse_rate_refuses_nonsense_naming_the_accepted_forms(rate):
    with pytest.raises(ValueError) as refused:
        parse_rate(rate)

    message = str(refused.value)
    assert message.startswith("expected N/<period>")
    for form in ("100/m", "15/5m", "100/minute", "second(s)", "hour(s)", "day(s)"):
        assert form in message
    assert message.endswith(f"got {rate!r}")


@pytest.mark.parametrize(
    ("rate", "starts"), [("100/minute", True), ("15/5min", True), ("100/fortnight", False)]
)
def test_a_rate_variable_is_checked_at_start_up(rate, starts):
    """The settings refuse a bad RATE_LIMIT_<SCOPE> at import, naming the variable."""
    environment = {**os.environ, "DEBUG": "1", "RATE_LIMIT_LOGIN": rate}
    result = subprocess.run(
        [sys.executable, "-c", "import viztube.settings"],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    if starts:
        assert result.returncode == 0, result.stderr[-2000:]
    else:
        assert result.returncode != 0
        assert "ImproperlyConfigured: Environment variable RATE_LIMIT_LOGIN: expected" in (
            result.stderr
        )
        assert "100/minute" in result.stderr


def test_thirty_simultaneous_requests_against_a_limit_of_five_let_five_through(settings):
    _redis_cache(settings)
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "5/m"}
    view = LoginLikeView()
    barrier = threading.Barrier(30)
    results = []

    def attempt():
        request = view.initialize_request(factory.post("/login", {}, format="json"))
        barrier.wait()
        results.append(ScopedRateThrottle().allow_request(request, view))

    threads = [threading.Thread(target=attempt) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 5
    assert results.count(False) == 25
    cache.clear()


def test_throttled_request_is_429_in_the_envelope_with_retry_after(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "2/m"}
    view = LoginLikeView.as_view()
    statuses = []
    for _ in range(3):
        response = view(factory.post("/login", {}, format="json"))
        response.render()
        statuses.append(response.status_code)
    assert statuses == [200, 200, 429]
    body = json.loads(response.content)
    assert body["statusCode"] == 429
    assert body["success"] is False
    assert 1 <= int(response["Retry-After"]) <= 61
    # Reads of the same view fall in the anon scope and are not affected.
    read = view(factory.get("/login"))
    assert read.status_code == 200


def test_spoofed_forwarded_for_does_not_reset_the_count(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "3/m"}
    settings.TRUSTED_PROXY_COUNT = 0
    view = LoginLikeView.as_view()
    statuses = [
        view(
            factory.post("/login", {}, format="json", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
        ).status_code
        for n in range(6)
    ]
    assert statuses == [200, 200, 200, 429, 429, 429]


def test_forwarded_for_is_used_when_a_trusted_proxy_is_declared(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "1/m"}
    settings.TRUSTED_PROXY_COUNT = 1
    view = LoginLikeView.as_view()
    first = view(factory.post("/login", {}, format="json", HTTP_X_FORWARDED_FOR="203.0.113.1"))
    second = view(factory.post("/login", {}, format="json", HTTP_X_FORWARDED_FOR="203.0.113.2"))
    # The client-written part left of the proxy's entry is ignored.
    spoofed = view(
        factory.post("/login", {}, format="json", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.1")
    )
    assert (first.status_code, second.status_code, spoofed.status_code) == (200, 200, 429)


def test_security_scopes_fail_closed_and_others_open_when_redis_is_down(settings):
    _redis_cache(settings, location="redis://127.0.0.1:1/0")
    view = LoginLikeView()
    throttle = ScopedRateThrottle()
    post = view.initialize_request(factory.post("/login", {}, format="json"))
    with pytest.raises(RateLimiterUnavailable):
        throttle.allow_request(post, view)
    get = view.initialize_request(factory.get("/login"))
    assert throttle.allow_request(get, view) is True


# --- Signed-in requests: the count rides on the authentication's Redis round trip ---------------


def test_a_signed_in_request_makes_one_redis_round_trip(settings, user, redis_round_trips):
    _redis_cache(settings)
    client = bearer_client(user)
    assert client.get("/api/v1/user/current-user-details").status_code == 200  # copy cached
    redis_round_trips.clear()

    response = client.get("/api/v1/user/current-user-details")

    assert response.status_code == 200
    assert len(redis_round_trips) == 1
    cache.clear()


def test_signed_in_limits_are_exact_when_counted_with_the_user_read(settings, user):
    _redis_cache(settings)
    # Per day: a window boundary in the middle of the test is next to impossible.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "user": "3/d"}
    client = bearer_client(user)

    statuses = [client.get("/api/v1/user/current-user-details").status_code for _ in range(5)]

    assert statuses == [200, 200, 200, 429, 429]
    # Another user has a count of their own.
    assert bearer_client(UserFactory()).get("/api/v1/user/current-user-details").status_code == 200
    cache.clear()


def test_a_signed_in_upload_still_fails_closed_when_redis_is_down(settings, user):
    _redis_cache(settings, location="redis://127.0.0.1:1/0")

    response = bearer_client(user).post("/api/v1/videos", {}, format="multipart")
    read = bearer_client(user).get("/api/v1/user/current-user-details")

    assert response.status_code == 503
    assert response.json()["statusCode"] == 503
    assert read.status_code == 200
