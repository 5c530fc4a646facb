"""Subscriptions: POST|GET /subscriptions/c/:channelId, GET /subscriptions/u/:subscriberId."""

import uuid

import pytest

from social.models import Subscription
from tests.factories import SubscriptionFactory, UserFactory
from tests.social.helpers import (
    assert_counters_match_rows,
    assert_error,
    assert_ok,
    assert_page,
    iso,
    person,
)

pytestmark = pytest.mark.django_db


def subscribe(subscriber, channel):
    """A subscription created like the service does (row + both counters), for read tests."""
    subscription = SubscriptionFactory(subscriber=subscriber, channel=channel)
    type(channel).objects.filter(pk=channel.pk).update(
        subscribers_count=channel.subscribers.count()
    )
    type(subscriber).objects.filter(pk=subscriber.pk).update(
        subscriptions_count=subscriber.subscriptions.count()
    )
    return subscription


# --- POST /subscriptions/c/:channelId ---------------------------------------------------------


def test_subscribe_then_unsubscribe(auth_client, user, other_user):
    url = f"/api/v1/subscriptions/c/{other_user.pk}"

    data = assert_ok(auth_client.post(url), "Subscribed successfully")
    assert data == {"subscribed": True, "subscribersCount": 1}
    assert Subscription.objects.filter(subscriber=user, channel=other_user).count() == 1
    user.refresh_from_db()
    other_user.refresh_from_db()
    assert (other_user.subscribers_count, user.subscriptions_count) == (1, 1)
    assert_counters_match_rows()

    data = assert_ok(auth_client.post(url), "Unsubscribed successfully")
    assert data == {"subscribed": False, "subscribersCount": 0}
    assert not Subscription.objects.exists()
    user.refresh_from_db()
    other_user.refresh_from_db()
    assert (other_user.subscribers_count, user.subscriptions_count) == (0, 0)


def test_subscriber_count_includes_everyone(auth_client, other_user, staff_client):
    assert_ok(
        staff_client.post(f"/api/v1/subscriptions/c/{other_user.pk}"), "Subscribed successfully"
    )
    data = assert_ok(
        auth_client.post(f"/api/v1/subscriptions/c/{other_user.pk}"), "Subscribed successfully"
    )
    assert data == {"subscribed": True, "subscribersCount": 2}
    assert_counters_match_rows()


def test_subscribing_to_oneself_is_a_400(auth_client, user):
    assert_error(
        auth_client.post(f"/api/v1/subscriptions/c/{user.pk}"),
        400,
        "You cannot subscribe to your own channel",
    )
    assert not Subscription.objects.exists()
    user.refresh_from_db()
    assert user.subscribers_count == 0


def test_self_check_ignores_uuid_spelling(auth_client, user):
    url = f"/api/v1/subscriptions/c/{str(user.pk).upper().replace('-', '')}"
    assert_error(auth_client.post(url), 400, "You cannot subscribe to your own channel")


def test_subscribing_to_an_unknown_channel_is_a_404(auth_client, user):
    assert_error(
        auth_client.post(f"/api/v1/subscriptions/c/{uuid.uuid4()}"), 404, "Channel not found"
    )
    assert not Subscription.objects.exists()
    user.refresh_from_db()
    assert user.subscriptions_count == 0


def test_malformed_channel_id_is_the_channels_404(auth_client, user):
    response = auth_client.post("/api/v1/subscriptions/c/12345")
    assert response.status_code == 404
    assert response.json()["message"] == "Channel not found"
    user.refresh_from_db()
    assert user.subscriptions_count == 0


def test_anonymous_cannot_subscribe(api_client, other_user):
    assert_error(
        api_client.post(f"/api/v1/subscriptions/c/{other_user.pk}"), 401, "Unauthorized request"
    )
    assert not Subscription.objects.exists()


def test_staff_subscribes_like_anyone_and_only_for_themselves(
    staff_client, staff_user, user, other_user
):
    response = staff_client.post(
        f"/api/v1/subscriptions/c/{other_user.pk}", {"subscriberId": str(user.pk)}
    )
    assert assert_ok(response, "Subscribed successfully") == {
        "subscribed": True,
        "subscribersCount": 1,
    }
    assert list(Subscription.objects.values_list("subscriber_id", "channel_id")) == [
        (staff_user.pk, other_user.pk)
    ]


def test_mutual_subscriptions_keep_both_counters(auth_client, other_client, user, other_user):
    assert_ok(
        auth_client.post(f"/api/v1/subscriptions/c/{other_user.pk}"), "Subscribed successfully"
    )
    assert_ok(other_client.post(f"/api/v1/subscriptions/c/{user.pk}"), "Subscribed successfully")
    for person_ in (user, other_user):
        person_.refresh_from_db()
        assert (person_.subscribers_count, person_.subscriptions_count) == (1, 1)
    assert_counters_match_rows()


# --- GET /subscriptions/c/:channelId (subscribers) --------------------------------------------


def test_list_subscribers_newest_first(auth_client, other_user):
    first, second = UserFactory(), UserFactory()
    older = subscribe(first, other_user)
    newer = subscribe(second, other_user)
    subscribe(first, UserFactory())  # another channel

    response = auth_client.get(f"/api/v1/subscriptions/c/{other_user.pk}")

    data = assert_ok(response, "Subscribers fetched successfully")
    assert assert_page(data, total=2) == [
        {**person(second), "subscribedAt": iso(newer.created_at)},
        {**person(first), "subscribedAt": iso(older.created_at)},
    ]


def test_subscribers_of_a_channel_without_any(auth_client, other_user):
    data = assert_ok(
        auth_client.get(f"/api/v1/subscriptions/c/{other_user.pk}"),
        "Subscribers fetched successfully",
    )
    assert assert_page(data, total=0) == []


def test_subscribers_of_an_unknown_user_are_a_404(auth_client):
    assert_error(auth_client.get(f"/api/v1/subscriptions/c/{uuid.uuid4()}"), 404, "User not found")


def test_subscribers_need_a_token(api_client, other_user):
    assert_error(
        api_client.get(f"/api/v1/subscriptions/c/{other_user.pk}"), 401, "Unauthorized request"
    )


def test_subscribers_are_paginated(staff_client, other_user):
    for _ in range(3):
        subscribe(UserFactory(), other_user)
    data = assert_ok(
        staff_client.get(f"/api/v1/subscriptions/c/{other_user.pk}", {"limit": 2, "page": 2}),
        "Subscribers fetched successfully",
    )
    assert len(assert_page(data, total=3, page=2, limit=2)) == 1


def test_subscribers_query_budget(auth_client, other_user, django_assert_num_queries):
    for _ in range(4):
        subscribe(UserFactory(), other_user)
    # 1 the caller's user row (this request caches its copy), 2 the channel exists, 3 COUNT of
    # its subscriptions, 4 the page of subscribers joined to their subscriptions.
    with django_assert_num_queries(4):
        response = auth_client.get(f"/api/v1/subscriptions/c/{other_user.pk}")
    assert len(response.json()["data"]["docs"]) == 4


# --- GET /subscriptions/u/:subscriberId (subscribed channels) ---------------------------------


def test_list_subscribed_channels_newest_first(other_client, user):
    first, second = UserFactory(), UserFactory()
    older = subscribe(user, first)
    newer = subscribe(user, second)
    subscribe(UserFactory(), first)  # someone else's subscription

    data = assert_ok(
        other_client.get(f"/api/v1/subscriptions/u/{user.pk}"),
        "Subscribed channels fetched successfully",
    )

    assert assert_page(data, total=2) == [
        {**person(second), "subscribedAt": iso(newer.created_at)},
        {**person(first), "subscribedAt": iso(older.created_at)},
    ]


def test_subscribed_channels_of_an_unknown_user_are_a_404(auth_client):
    assert_error(auth_client.get(f"/api/v1/subscriptions/u/{uuid.uuid4()}"), 404, "User not found")


def test_subscribed_channels_need_a_token(api_client, user):
    assert_error(api_client.get(f"/api/v1/subscriptions/u/{user.pk}"), 401, "Unauthorized request")


def test_subscribed_channels_bad_page_is_a_400(auth_client, user):
    assert_error(
        auth_client.get(f"/api/v1/subscriptions/u/{user.pk}", {"page": "-2"}),
        400,
        "'page' must be a positive integer",
    )


def test_subscribed_channels_query_budget(other_client, user, django_assert_num_queries):
    for _ in range(4):
        subscribe(user, UserFactory())
    # 1 the caller's user row (this request caches its copy), 2 the subscriber exists, 3 COUNT
    # of their subscriptions, 4 the page of channels joined to the subscriptions.
    with django_assert_num_queries(4):
        response = other_client.get(f"/api/v1/subscriptions/u/{user.pk}")
    assert len(response.json()["data"]["docs"]) == 4
