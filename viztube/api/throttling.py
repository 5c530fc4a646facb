"""Rate limits per scope, exact under concurrency.

DRF's ``SimpleRateThrottle`` reads a history list from the cache and writes it back, so 30
simultaneous requests against a limit of 5 let 12-15 through (measured). This
throttle counts in a fixed window with an atomic increment, so at most N requests pass per
window whatever the concurrency. On Redis (production) that is one round trip: ``SET NX EX``
and ``INCR`` in one pipeline; on other caches (local runs) the cache's ``add`` + ``incr``.

Scopes: a view names its scope in ``throttle_scope`` (a string, or a dict of HTTP method →
scope); every other request falls in ``user`` (authenticated) or ``anon``. Rates come from
``settings.RATE_LIMITS`` (``RATE_LIMIT_<SCOPE>`` variables).

For a Bearer/cookie-authenticated request the authentication already talks to Redis (the cached
user row, accounts.user_cache); it sends this throttle's ``INCR`` in the same pipeline
(``counter_for`` / ``remember_count``), so such a request costs one Redis round trip, not two.

When the cache is down, the security scopes (login, register, upload) fail closed with a 503 —
an attacker must not gain unlimited password guesses by knocking Redis over — and every other
scope fails open, so reading the site keeps working.
"""

import functools
import logging
import time
from typing import NamedTuple

from django.conf import settings
from django.core.cache import caches
from rest_framework import exceptions, status
from rest_framework.throttling import BaseThrottle

from viztube.api.client import client_ip
from viztube.api.rates import parse_rate
from viztube.redis_io import redis_cache, round_trip

logger = logging.getLogger(__name__)

FAIL_CLOSED_SCOPES = frozenset({"login", "register", "upload"})


class RateLimiterUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Rate limiting is unavailable; try again shortly"
    default_code = "rate_limiter_unavailable"


class Window(NamedTuple):
    """The counter one request adds to: its scope, limit and fixed time window."""

    scope: str
    limit: int
    period: int
    number: int
    key: str

    @classmethod
    def current(cls, scope, identity):
        limit, period = _parsed_rate(settings.RATE_LIMITS[scope])
        number = int(time.time() // period)
        return cls(scope, limit, period, number, f"throttle:{scope}:{identity}:{number}")

    def seconds_left(self):
        return max(1, int((self.number + 1) * self.period - time.time()))


# Rates are settings, checked at start-up: parsed once each (twice per request otherwise).
_parsed_rate = functools.lru_cache(maxsize=64)(parse_rate)


def _scope(view, method, authenticated):
    scope = getattr(view, "throttle_scope", None)
    if isinstance(scope, dict):
        scope = scope.get(method)
    return scope or ("user" if authenticated else "anon")


def counter_for(request, user_id):
    """The window an authenticated request of ``user_id`` will count in, when this throttle
    guards its view and the cache is Redis (else ``None``): the authentication sends the count
    with its own Redis read, and the request pays one round trip instead of two."""
    view = (getattr(request, "parser_context", None) or {}).get("view")
    if view is None or ScopedRateThrottle not in getattr(view, "throttle_classes", ()):
        return None
    if redis_cache() is None:
        return None
    return Window.current(_scope(view, request.method, authenticated=True), f"u{user_id}")


def count_commands(window):
    """The Redis commands that count one request in ``window``; the last one answers the count.

    ``SET NX EX`` creates the window's counter with its expiry (only the window's first request
    does), then ``INCR`` counts: one round trip, on any Redis version."""
    key = caches["default"].make_key(window.key)
    return (("SET", key, 0, "EX", window.period + 1, "NX"), ("INCR", key))


def remember_count(request, window, count):
    """Hand the count made with the authentication's Redis command to the throttle."""
    request._request.throttle_prefetched = (window, count)


def uncount(window):
    """Take back a count made for a request that then failed authentication: a stolen, revoked
    or cross-site token must not spend its user's allowance (a user's own change-password or
    upload would be refused)."""
    try:
        caches["default"].decr(window.key)
    except Exception:
        logger.warning("Rate limiter cache unavailable; a refused request stays counted")


class ScopedRateThrottle(BaseThrottle):
    def __init__(self):
        self.wait_seconds = None

    def allow_request(self, request, view):
        user = request.user
        authenticated = bool(user and user.is_authenticated)
        identity = f"u{user.pk}" if authenticated else f"ip{client_ip(request)}"
        window = Window.current(_scope(view, request.method, authenticated), identity)
        prefetched_window, count = getattr(request, "throttle_prefetched", (None, None))
        if prefetched_window is None or prefetched_window.key != window.key:
            try:
                count = _count_request(window)
            except Exception:
                if window.scope in FAIL_CLOSED_SCOPES:
                    logger.exception(
                        "Rate limiter cache unavailable; refusing %s request", window.scope
                    )
                    raise RateLimiterUnavailable() from None
                logger.warning("Rate limiter cache unavailable; allowing %s request", window.scope)
                return True
        if count > window.limit:
            self.wait_seconds = window.seconds_left()
            return False
        return True

    def wait(self):
        return self.wait_seconds


def _count_request(window):
    """Add one to the window's counter and return it; the counter expires with its window."""
    backend = redis_cache()
    if backend is not None:
        return round_trip(backend, *count_commands(window))[-1]
    cache = caches["default"]
    cache.add(window.key, 0, timeout=window.period + 1)
    return cache.incr(window.key)
