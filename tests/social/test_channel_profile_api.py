"""Channel profile: GET /user/c/:username."""

import datetime

import pytest
from rest_framework.test import APIClient

from social import views
from tests.conftest import bearer_client
from tests.factories import SubscriptionFactory, UserFactory
from tests.lean import assert_same_answer
from tests.social.helpers import assert_error, assert_ok, iso

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(db):
    channel = UserFactory(username="chan.nel_1", fullname="The Channel", cover_image="covers/c.png")
    for subscriber in UserFactory.create_batch(3):
        SubscriptionFactory(subscriber=subscriber, channel=channel)
    SubscriptionFactory(subscriber=channel, channel=UserFactory())
    type(channel).objects.filter(pk=channel.pk).update(subscribers_count=3, subscriptions_count=1)
    channel.refresh_from_db()
    return channel


def profile_body(channel, *, subscribed=False):
    return {
        "id": str(channel.pk),
        "username": channel.username,
        "fullname": channel.fullname,
        "avatar": f"http://testserver/media/{channel.avatar.name}",
        "coverImage": f"http://testserver/media/{channel.cover_image.name}"
        if channel.cover_image
        else "",
        "createdAt": iso(channel.created_at),
        "subscriberCount": 3,
        "subscribersCount": 3,
        "channelsSubscribedToCount": 1,
        "isSubscribed": subscribed,
    }


def test_anonymous_sees_a_channel_without_its_email(api_client, channel):
    data = assert_ok(api_client.get("/api/v1/user/c/chan.nel_1"), "Channel profile fetched")
    assert data == profile_body(channel)
    assert "email" not in data


def test_subscriber_sees_is_subscribed(channel, django_assert_num_queries):
    subscriber = channel.subscribers.first().subscriber
    client = bearer_client(subscriber)
    # 1 the caller's user row (this request caches its copy), 2 the channel with isSubscribed
    # as an EXISTS subquery.
    with django_assert_num_queries(2):
        response = client.get("/api/v1/user/c/chan.nel_1")
    assert assert_ok(response, "Channel profile fetched") == profile_body(channel, subscribed=True)


@pytest.mark.parametrize("is_staff", [False, True])
def test_other_users_and_staff_do_not_see_the_email(channel, is_staff):
    data = assert_ok(
        bearer_client(UserFactory(is_staff=is_staff)).get("/api/v1/user/c/chan.nel_1"),
        "Channel profile fetched",
    )
    assert data == profile_body(channel)


def test_owner_sees_their_own_email(channel):
    data = assert_ok(
        bearer_client(channel).get("/api/v1/user/c/chan.nel_1"), "Channel profile fetched"
    )
    assert data == {**profile_body(channel), "email": channel.email}
    assert list(data)[:3] == ["id", "username", "email"]


def test_username_is_trimmed_and_lower_cased(api_client, channel):
    data = assert_ok(api_client.get("/api/v1/user/c/%20Chan.NEL_1%20/"), "Channel profile fetched")
    assert data["id"] == str(channel.pk)


def test_unknown_channel_is_a_404(api_client, channel):
    assert_error(api_client.get("/api/v1/user/c/nobody"), 404, "Channel not found")


def test_channel_without_cover_has_an_empty_cover_url(api_client):
    user = UserFactory(username="plain")
    data = assert_ok(api_client.get("/api/v1/user/c/plain"), "Channel profile fetched")
    assert data["coverImage"] == ""
    assert (data["subscriberCount"], data["isSubscribed"], data["id"]) == (0, False, str(user.pk))


def test_anonymous_profile_is_one_query(api_client, channel, django_assert_num_queries):
    # 1 the channel (no user row to read; isSubscribed is a constant false).
    with django_assert_num_queries(1):
        response = api_client.get("/api/v1/user/c/chan.nel_1")
    assert response.json()["data"]["subscriberCount"] == 3


# --- The lean path equals the serializer path -------------------------------------------------


@pytest.fixture
def edge_channel(db):
    """A channel with the edge values: unicode, no cover, zero counts, a name the storage quotes,
    a creation time whose microseconds must be truncated, not rounded."""
    user = UserFactory(
        username="edge", fullname="Zoë 山田 \u2028", avatar="avatars/a b.png", cover_image=""
    )
    type(user).objects.filter(pk=user.pk).update(
        created_at=datetime.datetime(2026, 6, 14, 8, 42, 8, 999999, tzinfo=datetime.UTC)
    )
    return user


CALLERS = {
    "anonymous": lambda channel: APIClient(),
    "subscriber": lambda channel: bearer_client(channel.subscribers.first().subscriber),
    "another user": lambda channel: bearer_client(UserFactory()),
    "staff": lambda channel: bearer_client(UserFactory(is_staff=True)),
    "owner": lambda channel: bearer_client(channel),
}


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("name", ["channel", "edge_channel", "cloudinary", "missing"])
def test_the_lean_profile_is_the_serializers(request, monkeypatch, caller, name):
    if name == "cloudinary":
        request.getfixturevalue("fake_cloudinary")
        channel = request.getfixturevalue("channel")
    elif name == "missing":
        channel = request.getfixturevalue("channel")
        type(channel).objects.filter(pk=channel.pk).update(username="renamed")
    else:
        channel = request.getfixturevalue(name)
    if caller == "subscriber" and not channel.subscribers.exists():
        SubscriptionFactory(channel=channel)
    client = CALLERS[caller](channel)
    url = f"/api/v1/user/c/{channel.username.upper()}"

    lean = assert_same_answer(monkeypatch, views, lambda: client.get(url))

    assert lean.status_code == (404 if name == "missing" else 200)
    if lean.status_code == 200:
        assert ("email" in lean.json()["data"]) is (caller == "owner")
        assert lean.json()["data"]["isSubscribed"] is (caller == "subscriber")
