"""Every log line of a failed request carries that request's id, the one its response carries in
``X-Request-ID``, including the lines Django's ``django.request`` logger writes after
the middleware chain has returned."""

import logging

import pytest
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from viztube.middleware import RequestIdLogFilter

pytestmark = pytest.mark.django_db

INCOMING_ID = "client-chosen-id-42"


class _Broken(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("an unexpected failure")


# For the 500 test only (pytest.mark.urls): a route that fails unexpectedly.
urlpatterns = [path("broken", _Broken.as_view())]


@pytest.fixture
def log(caplog):
    """caplog with the project's request-id filter on its handler, as the console handler has it
    (settings.LOGGING), so each record gets its id when it is emitted, not when it is read."""
    request_id_filter = RequestIdLogFilter()
    caplog.handler.addFilter(request_id_filter)
    yield caplog
    caplog.handler.removeFilter(request_id_filter)


def django_request_records(caplog):
    return [record for record in caplog.records if record.name == "django.request"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/no-such-route",  # the JSON 404 of the unknown-route view
        "/api/v1/videos/01900000-0000-7000-8000-000000000000",  # DRF's NotFound
    ],
)
def test_a_not_found_line_carries_the_request_id(log, api_client, url):
    # django.request writes 404s at WARNING; the project keeps that logger at ERROR.
    with log.at_level(logging.WARNING, logger="django.request"):
        response = api_client.get(url)

    assert response.status_code == 404
    [record] = django_request_records(log)
    assert record.getMessage() == f"Not Found: {url}"
    assert record.request_id == response["X-Request-ID"]
    assert len(record.request_id) == 32


def test_the_id_of_the_client_is_the_one_logged(log, api_client):
    with log.at_level(logging.WARNING, logger="django.request"):
        response = api_client.get("/api/v1/no-such-route", HTTP_X_REQUEST_ID=INCOMING_ID)

    assert response["X-Request-ID"] == INCOMING_ID
    [record] = django_request_records(log)
    assert record.request_id == INCOMING_ID


@pytest.mark.urls(__name__)
def test_every_line_of_a_500_carries_the_request_id(log, api_client):
    with log.at_level(logging.ERROR):
        response = api_client.get("/broken")

    assert response.status_code == 500
    assert response.json()["message"] == "Internal server error"
    request_id = response["X-Request-ID"]
    # The exception handler's line (with the traceback) and Django's "Internal Server Error".
    assert sorted(record.name for record in log.records) == ["django.request", "viztube.errors"]
    assert {record.request_id for record in log.records} == {request_id}
    [django_line] = django_request_records(log)
    assert django_line.getMessage() == "Internal Server Error: /broken"


def test_lines_outside_a_request_say_so(log):
    logging.getLogger("viztube.tests").warning("no request here")

    [record] = log.records
    assert record.request_id == "-"
