"""Regressions found by the schemathesis fuzz (tests/fuzz)."""

import pytest
from drf_spectacular.generators import SchemaGenerator


@pytest.mark.django_db
def test_logout_with_a_number_as_refresh_token_is_a_422(auth_client):
    response = auth_client.post("/api/v1/user/logout", {"refreshToken": 0}, format="json")

    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"refreshToken"}


@pytest.mark.django_db
def test_account_update_with_numbers_for_text_fields_is_refused(auth_client, user):
    before = (user.fullname, user.username)

    response = auth_client.patch(
        "/api/v1/user/update-account", {"fullname": 0, "username": 12345}, format="json"
    )

    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"fullname", "username"}
    user.refresh_from_db()
    assert (user.fullname, user.username) == before


@pytest.mark.django_db
def test_username_rule_is_in_the_document_and_still_trims_and_lowercases(auth_client, user):
    schema = SchemaGenerator().get_schema(public=True)["components"]["schemas"]
    username = schema["PatchedAccountFieldsRequest"]["properties"]["username"]
    assert username["pattern"] == r"^\s*[A-Za-z0-9_.]{3,30}\s*$"
    assert "maxLength" not in username  # the rule is on the trimmed value

    response = auth_client.patch(
        "/api/v1/user/update-account", {"username": "  New.Name  " + " " * 60}, format="json"
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.username == "new.name"

    response = auth_client.patch(
        "/api/v1/user/update-account", {"username": "x" * 31}, format="json"
    )
    assert response.status_code == 422
    assert response.json()["fields"]["username"] == [
        "Username must be 3 to 30 characters of a-z, 0-9, _ and ."
    ]
