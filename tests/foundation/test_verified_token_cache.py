"""Access tokens are verified once per process (accounts.authentication._verified_token):
a kept token still expires on time, and refused tokens are never kept."""

import datetime

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from accounts import authentication
from tests.conftest import tokens_for

pytestmark = pytest.mark.django_db

ME = "/api/v1/user/current-user-details"


def me(api_client, token):
    return api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_token_is_verified_once_then_served_from_the_process(api_client, user):
    access, _ = tokens_for(user)
    assert me(api_client, access).status_code == 200
    hits = authentication._verified_token.cache_info().hits

    assert me(api_client, access).status_code == 200
    assert me(api_client, access).status_code == 200
    assert authentication._verified_token.cache_info().hits == hits + 2


def test_a_kept_token_is_refused_once_it_expires(api_client, user, monkeypatch):
    access = AccessToken.for_user(user)
    assert me(api_client, access).status_code == 200  # verified and kept

    later = access.current_time + access.lifetime + datetime.timedelta(seconds=1)
    monkeypatch.setattr(authentication, "aware_utcnow", lambda: later)
    response = me(api_client, access)

    assert response.status_code == 401
    assert response.json()["message"] == "Invalid or expired access token"


def test_a_refused_token_is_not_kept(api_client, user):
    access, _ = tokens_for(user)
    header, payload, signature = access.split(".")
    forged = ".".join(
        [header, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")]
    )
    kept = authentication._verified_token.cache_info().currsize

    assert me(api_client, forged).status_code == 401
    assert me(api_client, forged).status_code == 401
    assert authentication._verified_token.cache_info().currsize == kept
