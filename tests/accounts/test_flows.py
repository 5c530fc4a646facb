"""Whole sessions as a browser (cookies only) and as a mobile client (Bearer only) see them."""

import pytest
from rest_framework.test import APIClient

from .support import API, STRONG_PASSWORD, TRUSTED_ORIGIN, assert_error, register_payload

pytestmark = pytest.mark.django_db


def test_browser_session_with_cookies_alone():
    browser = APIClient(HTTP_ORIGIN=TRUSTED_ORIGIN)

    registered = browser.post(f"{API}/register", register_payload(), format="multipart")
    assert registered.status_code == 201
    user_id = registered.json()["data"]["id"]

    login = browser.post(
        f"{API}/login", {"username": "newviewer", "password": STRONG_PASSWORD}, format="json"
    )
    assert login.status_code == 200
    assert set(browser.cookies) == {"accessToken", "refreshToken"}
    first_refresh = browser.cookies["refreshToken"].value

    me = browser.get(f"{API}/current-user-details")
    assert me.status_code == 200 and me.json()["data"]["id"] == user_id

    refreshed = browser.post(f"{API}/refresh-token")
    assert refreshed.status_code == 200
    assert browser.cookies["refreshToken"].value == refreshed.json()["data"]["refreshToken"]
    assert browser.cookies["refreshToken"].value != first_refresh
    assert browser.get(f"{API}/current-user-details").json()["data"]["id"] == user_id

    second_refresh = browser.cookies["refreshToken"].value
    logout = browser.post(f"{API}/logout")
    assert logout.status_code == 200
    assert browser.cookies["accessToken"].value == ""
    assert_error(browser.get(f"{API}/current-user-details"), 401, "Unauthorized request")
    # Neither refresh token of the session can be spent again.
    for token in (first_refresh, second_refresh):
        replay = APIClient().post(f"{API}/refresh-token", {"refreshToken": token}, format="json")
        assert_error(replay, 401, "Invalid refresh token")


def test_mobile_session_with_bearer_tokens_alone():
    app = APIClient()

    def call(method, path, data=None, token=None, **kwargs):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        response = getattr(app, method)(path, data, **kwargs, **headers)
        app.cookies.clear()  # a non-browser client keeps no cookies
        return response

    registered = call("post", f"{API}/register", register_payload(), format="multipart")
    assert registered.status_code == 201

    login = call(
        "post",
        f"{API}/login",
        {"email": "NEW.viewer@example.com", "password": STRONG_PASSWORD},
        format="json",
    )
    tokens = login.json()["data"]
    me = call("get", f"{API}/current-user-details", token=tokens["accessToken"])
    assert me.json()["data"]["email"] == "new.viewer@example.com"

    refreshed = call(
        "post", f"{API}/refresh-token", {"refreshToken": tokens["refreshToken"]}, format="json"
    ).json()["data"]
    assert (
        call("get", f"{API}/current-user-details", token=refreshed["accessToken"]).status_code
        == 200
    )

    logout = call(
        "post",
        f"{API}/logout",
        {"refreshToken": refreshed["refreshToken"]},
        token=refreshed["accessToken"],
        format="json",
    )
    assert logout.status_code == 200
    replay = call(
        "post", f"{API}/refresh-token", {"refreshToken": refreshed["refreshToken"]}, format="json"
    )
    assert_error(replay, 401, "Invalid refresh token")
