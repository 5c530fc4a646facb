"""The authentication's cached user rows (accounts/user_cache.py): a warm request reads no user
row, and every change that matters to authentication or to request.user shows on the next
request."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts import user_cache
from accounts.services import user_deactivate_many, user_save_by_staff
from ops.deletion import users_delete
from tests.conftest import bearer_client, image_upload, tokens_for
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.foundation.test_throttling import _redis_cache

from .support import API, STRONG_PASSWORD

pytestmark = pytest.mark.django_db
ME = f"{API}/current-user-details"


def me(client):
    return client.get(ME)


def user_queries(queries):
    return [q["sql"] for q in queries.captured_queries if '"accounts_user"' in q["sql"]]


def test_a_warm_request_reads_no_user_row(user):
    client = bearer_client(user)
    assert me(client).status_code == 200

    with CaptureQueriesContext(connection) as queries:
        response = me(client)

    assert response.status_code == 200
    assert response.json()["data"]["username"] == user.username
    assert user_queries(queries) == []


def test_a_password_change_revokes_the_old_token_at_once(user):
    old_access, _ = tokens_for(user)
    old = APIClient()
    old.credentials(HTTP_AUTHORIZATION=f"Bearer {old_access}")
    assert me(old).status_code == 200  # the row is cached now

    changed = old.post(
        f"{API}/change-password",
        {"oldPassword": DEFAULT_PASSWORD, "newPassword": STRONG_PASSWORD},
        format="json",
    )

    assert changed.status_code == 200
    assert me(old).status_code == 401
    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Bearer {changed.json()['data']['accessToken']}")
    assert me(fresh).status_code == 200


def test_deactivation_by_staff_stops_the_token_at_once(user):
    client = bearer_client(user)
    assert me(client).status_code == 200

    user_deactivate_many(user_ids=[user.pk])

    assert me(client).status_code == 401


def test_a_staff_edit_in_the_admin_retires_the_copy(user):
    client = bearer_client(user)
    assert me(client).status_code == 200

    user.is_active = False
    user_save_by_staff(user=user, changed_fields=["is_active"])

    assert me(client).status_code == 401


def test_a_deleted_user_is_not_authenticated_from_a_stale_copy(user):
    client = bearer_client(user)
    assert me(client).status_code == 200

    users_delete(users=type(user).objects.filter(pk=user.pk))

    assert me(client).status_code == 401


def test_a_save_behind_the_services_back_is_seen_when_the_copy_expires(user, settings):
    """No signal receivers: a raw model save (a shell) does not retire the copy; it lives at
    most USER_CACHE_SECONDS, as documented."""
    client = bearer_client(user)
    assert me(client).status_code == 200

    type(user).objects.filter(pk=user.pk).update(fullname="Changed In A Shell")
    assert me(client).json()["data"]["fullname"] != "Changed In A Shell"

    user_cache.forget(user.pk)  # what expiry does, USER_CACHE_SECONDS later
    assert me(client).json()["data"]["fullname"] == "Changed In A Shell"


def test_a_rename_and_a_new_avatar_show_on_the_next_request(user):
    client = bearer_client(user)
    assert me(client).status_code == 200

    renamed = client.patch(f"{API}/update-account", {"fullname": "New Name"}, format="json")
    avatar = client.patch(f"{API}/update-avatar", {"avatar": image_upload()}, format="multipart")

    assert (renamed.status_code, avatar.status_code) == (200, 200)
    data = me(client).json()["data"]
    assert data["fullname"] == "New Name"
    assert data["avatar"] == avatar.json()["data"]["avatar"]


def test_the_dashboard_counts_subscribers_from_the_row_not_the_copy(user):
    client = bearer_client(user)
    assert client.get("/api/v1/dashboard/stats").json()["data"]["totalSubscribers"] == 0

    fan = bearer_client(UserFactory())
    assert fan.post(f"/api/v1/subscriptions/c/{user.pk}").status_code == 200

    assert client.get("/api/v1/dashboard/stats").json()["data"]["totalSubscribers"] == 1


def test_a_lifetime_of_zero_reads_the_row_every_time(user, settings):
    settings.USER_CACHE_SECONDS = 0
    client = bearer_client(user)
    me(client)

    with CaptureQueriesContext(connection) as queries:
        me(client)

    assert len(user_queries(queries)) == 1


def test_copies_live_no_longer_than_the_lifetime(user, settings):
    _redis_cache(settings)
    settings.USER_CACHE_SECONDS = 30
    assert me(bearer_client(user)).status_code == 200

    ttl = cache.client.get_client().ttl(cache.make_key(user_cache._copy_key(user.pk)))

    assert 0 < ttl <= 30


def test_redis_down_reads_the_row_and_still_authenticates(user, settings):
    _redis_cache(settings, location="redis://127.0.0.1:1/0")
    client = bearer_client(user)

    response = me(client)

    assert response.status_code == 200
    assert response.json()["data"]["id"] == str(user.pk)


def test_a_copy_read_before_a_password_change_is_never_used(user):
    """The race: a request reads the row, the password change commits and retires the copies,
    then that request stores the row it read. Its copy carries the older generation."""
    old_access, _ = tokens_for(user)
    generation, _copy, _ = user_cache._read(user.pk, None)
    row_read_before = get_user_model().objects.get(pk=user.pk)

    user.set_password(STRONG_PASSWORD)
    user.save(update_fields=["password"])
    user_cache._store(
        user.pk, user_cache.TokenUser(row_read_before, "fingerprint-of-the-old-hash"), generation
    )

    old = APIClient()
    old.credentials(HTTP_AUTHORIZATION=f"Bearer {old_access}")
    assert me(old).status_code == 401


def test_the_copy_holds_no_password_hash(user, settings):
    _redis_cache(settings)
    assert me(bearer_client(user)).status_code == 200

    raw = cache.client.get_client().get(cache.make_key(user_cache._copy_key(user.pk)))

    assert raw is not None
    assert user.password.encode() not in raw
    cache.clear()


def test_requests_refused_for_a_revoked_token_do_not_spend_the_users_allowance(user, settings):
    _redis_cache(settings)
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "user": "2/d"}
    revoked_access, _ = tokens_for(user)
    user.set_password(STRONG_PASSWORD)
    user.save(update_fields=["password"])
    revoked = APIClient()
    revoked.credentials(HTTP_AUTHORIZATION=f"Bearer {revoked_access}")

    refused = [me(revoked).status_code for _ in range(4)]
    owner = bearer_client(user)

    assert refused == [401] * 4
    assert [me(owner).status_code for _ in range(3)] == [200, 200, 429]
    cache.clear()
