"""The database down, or a connection to it killed: a 503 in the error envelope with Retry-After,
never a 500, and one log line carrying the request id.

No mock of the ORM: the requests really fail to reach PostgreSQL. ``database_refused`` points
the default connection at a closed port (every new connection is refused, as when PostgreSQL is
down); ``connection_killed`` has PostgreSQL terminate the connection the request will use (as a
restart does). Both need a transactional test: the connection is closed and reopened.
"""

import logging
import socket

import psycopg
import pytest
from django.db import connections

from tests.factories import VideoFactory
from viztube.middleware import RequestIdLogFilter

pytestmark = pytest.mark.django_db(transaction=True)

VIDEOS = "/api/v1/videos"
CURRENT_USER = "/api/v1/user/current-user-details"
UNAVAILABLE = {
    "statusCode": 503,
    "data": None,
    "success": False,
    "message": "The database is unavailable; try again shortly",
    "errors": ["The database is unavailable; try again shortly"],
}


def _closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends: connections refused


@pytest.fixture
def log(caplog):
    """caplog with the project's request-id filter, as the console handler has it."""
    request_id_filter = RequestIdLogFilter()
    caplog.handler.addFilter(request_id_filter)
    with caplog.at_level(logging.INFO):
        yield caplog
    caplog.handler.removeFilter(request_id_filter)


@pytest.fixture
def database_refused(db):
    connection = connections["default"]
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(_closed_port())
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port


@pytest.fixture
def connection_killed(db):
    connection = connections["default"]
    connection.ensure_connection()
    backend_pid = connection.connection.info.backend_pid
    dsn = connection.connection.info.dsn  # the same server, database and user, no password
    with psycopg.connect(dsn, autocommit=True) as admin:
        [(terminated,)] = admin.execute("SELECT pg_terminate_backend(%s)", [backend_pid])
    assert terminated
    try:
        yield
    finally:
        connection.close()


def assert_one_line_for(response, log):
    """Exactly one warning-or-worse line, at ERROR, naming the database failure and carrying
    the id of the response; no traceback, no second line from django.request."""
    [record] = [r for r in log.records if r.levelno >= logging.WARNING]
    assert record.levelno == logging.ERROR
    assert record.name == "viztube.errors"
    assert record.request_id == response["X-Request-ID"]
    assert record.getMessage().startswith(
        f"Database unavailable (request {response['X-Request-ID']}): OperationalError: "
    )
    assert record.exc_info is None


def assert_unavailable(response, log):
    """The 503 in the envelope, with Retry-After, logged once."""
    assert response.status_code == 503
    assert response.json() == UNAVAILABLE
    assert response["Retry-After"] == "5"
    assert_one_line_for(response, log)


def test_a_list_with_the_database_down_is_a_503_with_retry_after(database_refused, api_client, log):
    response = api_client.get(VIDEOS)

    assert_unavailable(response, log)
    [error] = [r for r in log.records if r.name == "viztube.errors"]
    assert "Connection refused" in error.getMessage()


def test_authentication_with_the_database_down_is_a_503(auth_client, database_refused, log):
    # No cached copy of the user yet: the authentication reads the row, the only database
    # access of this route, so the failure happens inside authentication, before the view runs.
    response = auth_client.get(CURRENT_USER)

    assert_unavailable(response, log)


def test_a_write_with_the_database_down_is_a_503(auth_client, database_refused, log):
    response = auth_client.post("/api/v1/tweets", {"content": "never stored"}, format="json")

    assert_unavailable(response, log)


def test_a_connection_killed_by_the_server_is_a_503(connection_killed, api_client, log):
    response = api_client.get(VIDEOS)

    assert_unavailable(response, log)


def test_once_the_database_is_back_the_same_request_succeeds(user, api_client):
    video = VideoFactory(owner=user)
    url = f"{VIDEOS}/{video.pk}"
    connection = connections["default"]
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(_closed_port())
    try:
        assert api_client.get(url).status_code == 503
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port

    response = api_client.get(url)

    assert response.status_code == 200
    assert response.json()["data"]["id"] == str(video.pk)


def test_the_healthcheck_still_answers_its_own_503(database_refused, api_client):
    response = api_client.get("/api/v1/healthcheck")

    assert response.status_code == 503
    body = response.json()
    assert (body["message"], body["data"]["database"]) == ("A dependency is down", "down")
