"""One access log line per request, written by the application (viztube/access_log.py)."""

import logging
import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from viztube.access_log import AccessLineFormatter, AccessRecord

pytestmark = pytest.mark.django_db

LINE = re.compile(
    r'^(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?P<client>\S+) "(?P<method>[A-Z]+) '
    r'(?P<uri>\S+)" (?P<status>\d{3}) (?P<bytes>\d+|-) (?P<ms>\d+\.\d\d)ms (?P<request_id>\S+)$'
)


def access_lines(caplog):
    return [record.getMessage() for record in caplog.records if record.name == "viztube.access"]


def only_line(caplog):
    [line] = access_lines(caplog)
    match = LINE.match(line)
    assert match, line
    return match.groupdict()


def test_one_line_per_request_with_what_happened(caplog, api_client):
    response = api_client.get(
        "/api/v1/healthcheck?probe=1", HTTP_X_REQUEST_ID="client-chosen-id-42"
    )

    fields = only_line(caplog)
    assert fields["client"] == "127.0.0.1"
    assert (fields["method"], fields["uri"], fields["status"]) == (
        "GET",
        "/api/v1/healthcheck?probe=1",
        "200",
    )
    assert fields["bytes"] == response["Content-Length"] == str(len(response.content))
    assert 0 < float(fields["ms"]) < 60_000
    assert fields["request_id"] == response["X-Request-ID"] == "client-chosen-id-42"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("delete", "/api/v1/healthcheck", "405"),
        ("get", "/api/v1/no-such-route", "404"),
        ("get", "/admin/", "302"),
        ("get", "/nowhere", "404"),
    ],
)
def test_every_answer_is_logged_with_its_final_status(caplog, method, path, status):
    response = getattr(Client(), method)(path)

    fields = only_line(caplog)
    assert (fields["method"], fields["uri"], fields["status"]) == (method.upper(), path, status)
    assert fields["request_id"] == response["X-Request-ID"]


def test_a_request_refused_by_a_middleware_is_logged(caplog, api_client):
    response = api_client.post(
        "/api/v1/user/login",
        data=b"{}",
        content_type="application/json",
        CONTENT_LENGTH="999999999",
    )

    assert response.status_code == 413
    assert only_line(caplog)["status"] == "413"


def test_the_request_cannot_write_into_the_log(caplog, api_client):
    # A line break, a terminal escape and quotes, percent-encoded as a client sends them; the
    # server decodes the path before the application sees it.
    api_client.get(
        "/api/v1/x%0A2026-01-01T00:00:00.000Z%20forged%20%22line%22%1B%5B2J", REMOTE_ADDR="::1"
    )

    [line] = access_lines(caplog)
    assert "\n" not in line
    assert "\x1b" not in line
    fields = LINE.match(line).groupdict()
    assert fields["client"] == "::1"
    assert fields["uri"] == "/api/v1/x%0A2026-01-01T00:00:00.000Z%20forged%20%22line%22%1B%5B2J"


def test_a_path_and_a_query_beyond_ascii_are_logged_percent_encoded(caplog, api_client):
    api_client.get("/api/v1/user/c/émilie?q=ü")

    assert only_line(caplog)["uri"] == "/api/v1/user/c/%C3%A9milie?q=%C3%BC"


def test_access_log_off_writes_nothing(caplog, settings):
    settings.ACCESS_LOG = False

    assert APIClient().get("/api/v1/healthcheck").status_code == 200

    assert access_lines(caplog) == []


def test_the_line_is_written_as_it_is():
    record = AccessRecord("a line with 100% of its % signs", 1_765_000_000.25)

    assert AccessLineFormatter().format(record) == "a line with 100% of its % signs"
    # A whole record for any other handler or formatter of the LOGGING setting.
    standard = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(process)d %(message)s")
    assert standard.format(record).endswith(
        f" INFO viztube.access {record.process} a line with 100% of its % signs"
    )
    assert record.msecs == 250.0
