"""Every error leaves in the envelope: DRF, Django, unexpected exceptions, oversized bodies."""

import datetime
import decimal
import json
import logging
import uuid

import pytest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from viztube.api.envelope import ok
from viztube.api.renderers import dumps

factory = APIRequestFactory()


class _NameSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=5)
    age = serializers.IntegerField(min_value=0)


def _view(behaviour):
    class View(APIView):
        authentication_classes = []
        permission_classes = [AllowAny]

        def post(self, request):
            return behaviour(request)

    return View.as_view()


def _call(behaviour, body=b"{}", content_type="application/json"):
    request = factory.post("/x", data=body, content_type=content_type)
    response = _view(behaviour)(request)
    response.render()
    return response.status_code, json.loads(response.content)


def test_serializer_errors_are_422_with_fields():
    def behaviour(request):
        _NameSerializer(data=request.data).is_valid(raise_exception=True)

    status, body = _call(behaviour, b'{"name": "toolong", "age": -1}')
    assert status == 422
    assert body["statusCode"] == 422
    assert body["success"] is False
    assert body["data"] is None
    assert body["message"] == "Validation failed"
    assert set(body["fields"]) == {"name", "age"}
    assert len(body["errors"]) == 2


def test_malformed_json_is_400():
    def behaviour(request):
        return ok(dict(request.data), "never")

    status, body = _call(behaviour, b'{"name": ')
    assert status == 400
    assert body["success"] is False
    assert "JSON" in body["message"]


@pytest.mark.parametrize(
    ("exception", "status"),
    [
        (Http404("Thing not found"), 404),
        (DjangoPermissionDenied("Not yours"), 403),
        (DjangoValidationError({"title": ["Too long."]}), 422),
    ],
)
def test_django_exceptions_are_mapped(exception, status):
    def behaviour(request):
        raise exception

    code, body = _call(behaviour)
    assert code == status
    assert body["statusCode"] == status
    assert body["errors"]


def test_unexpected_exception_is_a_generic_500_that_is_logged(caplog):
    def behaviour(request):
        raise RuntimeError("database password is hunter2")

    with caplog.at_level(logging.ERROR, logger="viztube.errors"):
        status, body = _call(behaviour)
    assert status == 500
    assert body == {
        "statusCode": 500,
        "data": None,
        "success": False,
        "message": "Internal server error",
        "errors": ["Internal server error"],
    }
    assert "hunter2" not in json.dumps(body)
    assert any("hunter2" in (r.exc_text or str(r.exc_info)) for r in caplog.records)


@pytest.mark.django_db
def test_json_body_over_the_cap_is_413_before_reading(api_client):
    body = b'{"x": "' + b"a" * 3_000_000 + b'"}'
    response = api_client.post("/api/v1/user/login", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["statusCode"] == 413
    assert response.json()["success"] is False


@pytest.mark.django_db
def test_request_id_is_echoed_when_sane_and_replaced_when_not(api_client):
    good = api_client.get("/api/v1/healthcheck", HTTP_X_REQUEST_ID="abc12345-req")
    assert good["X-Request-ID"] == "abc12345-req"
    bad = api_client.get("/api/v1/healthcheck", HTTP_X_REQUEST_ID="<script>")
    assert bad["X-Request-ID"] != "<script>"
    assert len(bad["X-Request-ID"]) == 32


def test_dates_are_utc_with_milliseconds_and_z():
    moment = datetime.datetime(2026, 6, 14, 8, 42, 8, 123456, tzinfo=datetime.UTC)
    other_zone = moment.astimezone(datetime.timezone(datetime.timedelta(hours=5)))
    encoded = dumps({"a": moment, "b": other_zone})
    assert encoded == b'{"a":"2026-06-14T08:42:08.123Z","b":"2026-06-14T08:42:08.123Z"}'


def test_the_encoder_writes_what_drf_s_did():
    encoded = dumps(
        {
            "id": uuid.UUID("01875274-6acc-7d15-ae52-8655af178dbb"),
            "day": datetime.date(2026, 6, 14),
            "price": decimal.Decimal("1.50"),
            "lazy": gettext_lazy("Not found."),
            "text": "caf\u00e9 \u2028 \u2029",
            3: "non-string key",
        }
    )
    assert json.loads(encoded) == {
        "id": "01875274-6acc-7d15-ae52-8655af178dbb",
        "day": "2026-06-14",
        "price": 1.5,
        "lazy": "Not found.",
        "text": "caf\u00e9 \u2028 \u2029",
        "3": "non-string key",
    }
    # UTF-8 as it is, but the two line separators escaped (safe inside a <script>).
    assert "café".encode() in encoded
    assert b"\\u2028" in encoded and b"\\u2029" in encoded


def test_a_request_uri_over_the_limit_is_a_414_in_the_envelope(api_client):
    from viztube.middleware import MAX_URI_BYTES

    response = api_client.get("/api/v1/videos", {"query": "a" * MAX_URI_BYTES})

    assert response.status_code == 414
    body = response.json()
    assert body["success"] is False
    assert body["message"] == f"Request URI too long (at most {MAX_URI_BYTES} bytes)"


def test_a_long_but_allowed_uri_reaches_the_view(api_client):
    # Just under the limit: the view answers (here a 400 for an over-long search text).
    response = api_client.get("/api/v1/videos", {"query": "a" * 3000})
    assert response.status_code == 400
    assert response.json()["message"] == "'query' must be at most 200 characters"


@pytest.mark.parametrize(
    ("path", "kwargs", "message"),
    [
        (
            "/api/v1/user/register",
            {"data": {"username": "a"}, "format": "json"},
            'Unsupported media type "application/json": this route takes multipart/form-data',
        ),
        (
            "/api/v1/user/login",
            {"data": {"username": "a", "password": "b"}, "format": "multipart"},
            'Unsupported media type "multipart/form-data": this route takes application/json, '
            "application/x-www-form-urlencoded",
        ),
    ],
)
def test_a_body_of_the_wrong_type_is_a_415_that_says_what_the_route_takes(
    api_client, path, kwargs, message
):
    response = api_client.post(path, **kwargs)

    assert response.status_code == 415
    assert response.json()["message"] == message
    assert "boundary" not in response.json()["message"]


@pytest.mark.django_db
def test_a_view_that_explains_its_own_415_keeps_its_words(auth_client):
    response = auth_client.post(
        "/api/v1/videos", "title=x", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 415
    assert response.json()["message"] == (
        "Publishing a video needs a multipart/form-data body, or a JSON one with an uploadId"
    )
