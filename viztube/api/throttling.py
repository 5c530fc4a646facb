"""Rate limits per scope, exact under concurrency.

DRF's ``SimpleRateThrottle`` reads a history list from the cache and writes it back, so 30
simultaneous requests against a limit of 5 let 12-15 through (security-notes finding 4). This
throttle counts in a fixed window with an atomic increment, so at most N requests pass per
window whatever the concurrency. On Redis (production) that is one round trip: ``INCR`` and
``EXPIRE ... NX`` in one pipeline; on other caches (local runs) the cache's ``add`` + ``incr``.

Scopes: a view names its scope in ``throttle_scope`` (a string, or a dict of HTTP method →
scope); every other request falls in ``user`` (authenticated) or ``anon``. Rates come from
``settings.RATE_LIMITS`` (``RATE_LIMIT_<SCOPE>`` variables).

When the cache is down, the security scopes (login, register, upload) fail closed with a 503 —
an attacker must not gain unlimited password guesses by knocking Redis over — and every other
scope fails open, so reading the site keeps working.
"""

import logging
import time

from django.conf import settings
from django.core.cache import caches
from django_redis.cache import RedisCache
from rest_framework import exceptions, status
from rest_framework.throttling import BaseThrottle

from viztube.api.client import client_ip
from viztube.api.rates import parse_rate

logger = logging.getLogger(__name__)

FAIL_CLOSED_SCOPES = frozenset({"login", "register", "upload"})


class RateLimiterUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Rate limiting is unavailable; try again shortly"
    default_code = "rate_limiter_unavailable"


class ScopedRateThrottle(BaseThrottle):
    def __init__(self):
        self.wait_seconds = None

    @staticmethod
    def scope_for(request, view):
        scope = getattr(view, "throttle_scope", None)
        if isinstance(scope, dict):
            scope = scope.get(request.method)
        if scope:
            return scope
        return "user" if request.user and request.user.is_authenticated else "anon"

    def allow_request(self, request, view):
        scope = self.scope_for(request, view)
        limit, period = parse_rate(settings.RATE_LIMITS[scope])
        user = request.user
        identity = f"u{user.pk}" if user and user.is_authenticated else f"ip{client_ip(request)}"
        now = time.time()
        window = int(now // period)
        key = f"throttle:{scope}:{identity}:{window}"
        try:
            count = _count_request(key, expires_in=period + 1)
        except Exception:
            if scope in FAIL_CLOSED_SCOPES:
                logger.exception("Rate limiter cache unavailable; refusing %s request", scope)
                raise RateLimiterUnavailable() from None
            logger.warning("Rate limiter cache unavailable; allowing %s request", scope)
            return True
        if count > limit:
            self.wait_seconds = max(1, int((window + 1) * period - now))
            return False
        return True

    def wait(self):
        return self.wait_seconds


def _count_request(key, *, expires_in):
    """Add one to the window's counter and return it; the counter expires with its window."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        pipeline = cache.client.get_client(write=True).pipeline(transaction=False)
        redis_key = cache.make_key(key)
        pipeline.incr(redis_key)
        # NX: only the window's first request sets the expiry, as add() did.
        pipeline.expire(redis_key, expires_in, nx=True)
        count, _ = pipeline.execute()
        return count
    cache.add(key, 0, timeout=expires_in)
    return cache.incr(key)
