"""Helpers for the accounts tests: register payloads, cookie clients, token forging."""

import base64
import json

from rest_framework.test import APIClient

from tests.conftest import image_upload, tokens_for
from tests.shapes import assert_error  # noqa: F401 (re-exported)
from tests.shapes import iso as iso_ms

API = "/api/v1/user"
TRUSTED_ORIGIN = "http://localhost:3000"
FOREIGN_ORIGIN = "https://evil.example"
STRONG_PASSWORD = "Quantum-Marmalade-1987"
SAFE_USER_KEYS = {
    "id",
    "username",
    "email",
    "fullname",
    "avatar",
    "coverImage",
    "createdAt",
    "updatedAt",
}


def register_payload(**overrides):
    payload = {
        "username": "NewViewer",
        "email": "New.Viewer@Example.COM",
        "fullname": "  New Viewer  ",
        "password": STRONG_PASSWORD,
        "avatar": image_upload("me.png"),
    }
    payload.update(overrides)
    return {key: value for key, value in payload.items() if value is not None}


def cookie_client(user, origin=TRUSTED_ORIGIN):
    """An APIClient carrying only the auth cookies of ``user`` (and an Origin header)."""
    client = APIClient()
    access, refresh = tokens_for(user)
    client.cookies["accessToken"] = access
    client.cookies["refreshToken"] = refresh
    if origin:
        client.defaults["HTTP_ORIGIN"] = origin
    return client


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_parts(token):
    header, payload, signature = token.split(".")
    pad = lambda part: part + "=" * (-len(part) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )


def safe_user(user):
    """The SafeUser body expected for ``user`` (local media storage)."""
    return {
        "id": str(user.id),
        "username": user.username,
        "email": user.email,
        "fullname": user.fullname,
        "avatar": f"http://testserver/media/{user.avatar.name}" if user.avatar else "",
        "coverImage": f"http://testserver/media/{user.cover_image.name}"
        if user.cover_image
        else "",
        "createdAt": iso_ms(user.created_at),
        "updatedAt": iso_ms(user.updated_at),
    }
