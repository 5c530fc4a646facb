import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from viztube.api.envelope import error_body, ok
from viztube.api.renderers import dumps
from viztube.api.schema import ErrorEnvelopeSerializer, envelope

logger = logging.getLogger(__name__)


def landing(request):
    return render(request, "landing.html")


def _json_error(status, message):
    return HttpResponse(
        dumps(error_body(status, message)), status=status, content_type="application/json"
    )


# Exempt from CSRF: otherwise an unsafe request to an unknown route is a 403 "CSRF cookie not
# set" instead of the 404 it is (this view changes nothing).
@csrf_exempt
def not_found(request, exception=None):
    return _json_error(404, f"Route not found: {request.method} {request.path}")


def bad_request(request, exception=None):
    return _json_error(400, "Bad request")


def permission_denied(request, exception=None):
    return _json_error(403, "Forbidden")


def server_error(request):
    logger.error("Unhandled error (request %s)", getattr(request, "request_id", "-"))
    return _json_error(500, "Internal server error")


def login_locked_out(request, credentials=None, *args, **kwargs):
    """django-axes' lockout answer for form logins (the admin); the API answers in its service."""
    response = _json_error(429, "Too many failed login attempts; try again later")
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response


def csrf_failure(request, reason=""):
    return _json_error(403, "Cross-site request refused")


_HEALTH = inline_serializer(
    "Health",
    {
        "status": serializers.CharField(),
        "database": serializers.CharField(),
        "cache": serializers.CharField(),
    },
)


class HealthcheckView(APIView):
    """Is the server up, and can it reach its database and cache?"""

    authentication_classes = []
    permission_classes = [AllowAny]
    # Load balancers and monitors poll this from one address; never throttle it.
    throttle_classes = []

    @extend_schema(
        operation_id="healthcheck",
        # The real answers: the health inside the success envelope (200), or inside the error
        # envelope when the database is down (503).
        responses={
            200: envelope(_HEALTH, name="Health"),
            503: OpenApiResponse(ErrorEnvelopeSerializer, description="A dependency is down"),
        },
    )
    def get(self, request):
        database = _probe(_database_ok)
        cache_state = _probe(_cache_ok)
        healthy = database == "ok"
        data = {
            "status": "ok" if healthy else "degraded",
            "database": database,
            "cache": cache_state,
        }
        if healthy:
            return ok(data, "Health check passed!")
        response = ok(data, "A dependency is down")
        body = error_body(503, "A dependency is down")
        body["data"] = data
        response.data, response.status_code = body, 503
        return response


def _database_ok():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache_ok():
    cache.set("healthcheck", "1", 5)
    if cache.get("healthcheck") != "1":
        raise RuntimeError("cache did not return what was stored")


def _probe(check):
    try:
        check()
    except Exception:
        logger.warning("Healthcheck dependency failed", exc_info=True)
        return "down"
    return "ok"
