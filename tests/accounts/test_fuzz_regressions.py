"""Regressions found by the schemathesis fuzz (tests/fuzz)."""

import pytest


@pytest.mark.django_db
def test_logout_with_a_number_as_refresh_token_is_a_422(auth_client):
    response = auth_client.post("/api/v1/user/logout", {"refreshToken": 0}, format="json")

    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"refreshToken"}
