"""Per-account lockout (django-axes): failures lock one (account, address) pair, for a while."""

import datetime
import time

import pytest

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
LOGIN = "/api/v1/user/login"


def _login(client, username, password, address="198.51.100.7"):
    return client.post(
        LOGIN, {"username": username, "password": password}, format="json", REMOTE_ADDR=address
    )


def _fail(client, user, times, address="198.51.100.7"):
    for _ in range(times):
        assert _login(client, user.username, "wrong-password", address).status_code == 401


def _lock(client, user, address="198.51.100.7"):
    """Four failures answer 401; the fifth reaches the limit and is answered with the lock."""
    _fail(client, user, 4, address)
    assert _login(client, user.username, "wrong-password", address).status_code == 429


def test_five_failures_lock_the_account_from_that_address_even_with_the_right_password(api_client):
    user = UserFactory()
    _lock(api_client, user)
    response = _login(api_client, user.username, DEFAULT_PASSWORD)
    assert response.status_code == 429
    body = response.json()
    assert body["success"] is False
    assert body["message"] == "Too many failed login attempts for this account; try again later"
    assert int(response["Retry-After"]) == 15 * 60
    assert "accessToken" not in response.cookies
    assert body["data"] is None


def test_the_lock_does_not_reach_the_owner_at_another_address(api_client):
    user = UserFactory()
    _lock(api_client, user, address="203.0.113.66")
    response = _login(api_client, user.username, DEFAULT_PASSWORD, address="198.51.100.7")
    assert response.status_code == 200
    assert response.json()["data"]["user"]["id"] == str(user.pk)


def test_other_accounts_from_the_same_address_are_not_locked(api_client):
    victim, other = UserFactory(), UserFactory()
    _lock(api_client, victim)
    assert _login(api_client, other.username, DEFAULT_PASSWORD).status_code == 200


def test_a_success_resets_the_failure_count(api_client):
    user = UserFactory()
    _fail(api_client, user, 4)
    assert _login(api_client, user.username, DEFAULT_PASSWORD).status_code == 200
    _fail(api_client, user, 4)
    assert _login(api_client, user.username, DEFAULT_PASSWORD).status_code == 200


def test_the_lock_lifts_after_the_cool_off(api_client, settings):
    settings.AXES_COOLOFF_TIME = datetime.timedelta(seconds=1)
    user = UserFactory()
    _lock(api_client, user)
    assert _login(api_client, user.username, DEFAULT_PASSWORD).status_code == 429
    time.sleep(1.2)
    assert _login(api_client, user.username, DEFAULT_PASSWORD).status_code == 200


def test_an_email_login_counts_against_the_same_account(api_client):
    user = UserFactory()
    for attempt in range(5):
        response = api_client.post(
            LOGIN, {"email": user.email.upper(), "password": "nope"}, format="json"
        )
        assert response.status_code == (429 if attempt == 4 else 401)
    assert _login(api_client, user.username, DEFAULT_PASSWORD, "127.0.0.1").status_code == 429
