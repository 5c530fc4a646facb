"""Rate limits: exact under bursts, not reset by spoofed headers, a chosen policy when Redis is down."""

import json
import threading
import uuid

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
    ],
)
def test_parse_rate(rate, parsed):
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["0/m", "5/0m", "five/m", "5/w", "5", "5/m/s", ""])
def test_parse_rate_refuses_nonsense(rate):
    with pytest.raises(ValueError, match="expected N/<period>"):
        parse_rate(rate)


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
