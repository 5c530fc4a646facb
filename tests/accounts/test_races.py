"""Races, against a live server and a real transactional database (one transaction per test
would hide them): a threading.Barrier releases N identical requests at once."""

import http.client
import json
import threading
import uuid
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from tests.conftest import files_under, image_bytes, tokens_for
from tests.factories import UserFactory

from .support import API, STRONG_PASSWORD

pytestmark = pytest.mark.slow

User = get_user_model()


def _post(base_url, path, body, content_type, headers=None):
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request(
            "POST", path, body=body, headers={"Content-Type": content_type, **(headers or {})}
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def _release_together(count, request):
    """Run ``request()`` in ``count`` threads released at the same instant; their results."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def worker(index):
        barrier.wait()
        results[index] = request()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_of_five_simultaneous_refreshes_with_one_token_exactly_one_succeeds(live_server):
    user = UserFactory()
    for trial in range(10):
        _, refresh = tokens_for(user)
        body = json.dumps({"refreshToken": refresh}).encode()

        results = _release_together(
            5,
            lambda body=body: _post(
                live_server.url, f"{API}/refresh-token", body, "application/json"
            ),
        )

        statuses = sorted(status for status, _ in results)
        assert statuses == [200, 401, 401, 401, 401], f"trial {trial}: {statuses}"
        losers = [data for status, data in results if status == 401]
        assert all(data["message"] == "Invalid refresh token" for data in losers)
    # Each trial's token is blacklisted once; each winner got one new outstanding token.
    assert BlacklistedToken.objects.filter(token__user=user).count() == 10
    assert OutstandingToken.objects.filter(user=user).count() == 20


def _multipart(fields, files):
    boundary = uuid.uuid4().hex
    lines = []
    for name, value in fields.items():
        lines += [
            f"--{boundary}".encode(),
            f'Content-Disposition: form-data; name="{name}"'.encode(),
            b"",
            value.encode(),
        ]
    for name, (filename, content, content_type) in files.items():
        lines += [
            f"--{boundary}".encode(),
            f'Content-Disposition: form-data; name="{name}"; filename="{filename}"'.encode(),
            f"Content-Type: {content_type}".encode(),
            b"",
            content,
        ]
    lines += [f"--{boundary}--".encode(), b""]
    return b"\r\n".join(lines), f"multipart/form-data; boundary={boundary}"


@pytest.mark.django_db(transaction=True)
def test_simultaneous_identical_registrations_create_one_user_and_leave_no_orphan_file(
    live_server, settings
):
    body, content_type = _multipart(
        {
            "username": "racer",
            "email": "racer@example.com",
            "fullname": "Race Winner",
            "password": STRONG_PASSWORD,
        },
        {"avatar": ("me.png", image_bytes("PNG", (32, 32)), "image/png")},
    )

    results = _release_together(
        4, lambda: _post(live_server.url, f"{API}/register", body, content_type)
    )

    statuses = sorted(status for status, _ in results)
    assert statuses == [201, 409, 409, 409], results
    assert all(
        data["message"] == "User with email or username already exists"
        for status, data in results
        if status == 409
    )
    user = User.objects.get(username="racer")
    assert files_under(settings.MEDIA_ROOT) == [user.avatar.name]
