"""Tweets: POST /tweets, GET /tweets/user/:userId, PATCH|DELETE /tweets/:tweetId."""

import uuid

import pytest

from social.models import Like, Tweet
from tests.conftest import bearer_client
from tests.factories import TweetFactory, UserFactory
from tests.shapes import tweet_shape
from tests.social.helpers import add_like, assert_error, assert_ok, assert_page

pytestmark = pytest.mark.django_db


def tweet_body(tweet, *, likes=0, liked=False):
    tweet.refresh_from_db()
    return tweet_shape(tweet, likes=likes, liked=liked)


# --- POST /tweets -----------------------------------------------------------------------------


def test_create_tweet(auth_client, user):
    response = auth_client.post("/api/v1/tweets", {"content": "  hello world \n"})

    data = assert_ok(response, "Tweet created successfully!", status=201)
    tweet = Tweet.objects.get()
    assert (tweet.author, tweet.content) == (user, "hello world")
    assert data == tweet_body(tweet)


def test_create_tweet_ignores_author_and_counts(auth_client, user, other_user):
    response = auth_client.post(
        "/api/v1/tweets", {"content": "mine", "userId": str(other_user.pk), "likesCount": 7}
    )
    data = assert_ok(response, "Tweet created successfully!", status=201)
    assert Tweet.objects.get().author == user
    assert (data["userId"], data["likesCount"]) == (str(user.pk), 0)


def test_tweet_of_exactly_280_characters_is_accepted(auth_client):
    assert_ok(
        auth_client.post("/api/v1/tweets", {"content": "é" * 280}),
        "Tweet created successfully!",
        status=201,
    )
    assert Tweet.objects.get().content == "é" * 280


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "Tweet content cannot be empty."),
        ({"content": ""}, "Tweet content cannot be empty."),
        ({"content": " \t\n "}, "Tweet content cannot be empty."),
        ({"content": None}, "Tweet content cannot be empty."),
        ({"content": "x" * 281}, "Tweet must be at most 280 characters"),
        ({"content": {"text": "hi"}}, "Not a valid string."),
        ({"content": "nul\x00"}, "Null characters are not allowed."),
    ],
)
def test_invalid_tweet_is_a_422_and_stores_nothing(auth_client, payload, message):
    body = assert_error(auth_client.post("/api/v1/tweets", payload), 422, "Validation failed")
    assert body["fields"] == {"content": [message]}
    assert not Tweet.objects.exists()


def test_form_encoded_tweet_works_too(auth_client):
    response = auth_client.post("/api/v1/tweets", {"content": "form"}, format="multipart")
    assert_ok(response, "Tweet created successfully!", status=201)
    assert Tweet.objects.get().content == "form"


def test_anonymous_cannot_tweet(api_client):
    assert_error(api_client.post("/api/v1/tweets", {"content": "hi"}), 401, "Unauthorized request")
    assert not Tweet.objects.exists()


def test_get_on_tweets_root_is_a_405(auth_client):
    response = auth_client.get("/api/v1/tweets")
    assert response.status_code == 405
    assert response.json()["success"] is False


# --- GET /tweets/user/:userId -----------------------------------------------------------------


def test_anonymous_lists_a_users_tweets_newest_first(api_client, user):
    older = TweetFactory(author=user)
    newer = TweetFactory(author=user)
    TweetFactory()  # someone else's
    for liker in UserFactory.create_batch(3):
        add_like(liker, older)

    data = assert_ok(
        api_client.get(f"/api/v1/tweets/user/{user.pk}"), "Tweets fetched successfully"
    )

    assert assert_page(data, total=2) == [tweet_body(newer), tweet_body(older, likes=3)]


def test_signed_in_caller_sees_their_likes(other_client, other_user, user):
    liked, plain = TweetFactory(author=user), TweetFactory(author=user)
    add_like(other_user, liked)

    data = assert_ok(
        other_client.get(f"/api/v1/tweets/user/{user.pk}"), "Tweets fetched successfully"
    )

    flags = {doc["id"]: (doc["isLiked"], doc["likesCount"]) for doc in data["docs"]}
    assert flags == {str(liked.pk): (True, 1), str(plain.pk): (False, 0)}


def test_tweets_of_an_unknown_user_are_a_404(api_client):
    assert_error(api_client.get(f"/api/v1/tweets/user/{uuid.uuid4()}"), 404, "User not found")


def test_user_without_tweets_has_an_empty_page(staff_client, user):
    data = assert_ok(
        staff_client.get(f"/api/v1/tweets/user/{user.pk}"), "Tweets fetched successfully"
    )
    assert assert_page(data, total=0) == []


def test_tweets_are_paginated(api_client, user):
    tweets = [TweetFactory(author=user) for _ in range(3)]
    data = assert_ok(
        api_client.get(f"/api/v1/tweets/user/{user.pk}", {"page": 2, "limit": 2}),
        "Tweets fetched successfully",
    )
    assert [doc["id"] for doc in assert_page(data, total=3, page=2, limit=2)] == [str(tweets[0].pk)]


def test_tweet_list_query_budget(other_client, other_user, user, django_assert_num_queries):
    for _ in range(4):
        tweet = TweetFactory(author=user)
        add_like(other_user, tweet)
    # 1 the caller's user row (this request caches its copy), 2 the author exists, 3 COUNT of
    # the author's tweets, 4 the page of tweets with the author joined, likes_count and an
    # isLiked EXISTS.
    with django_assert_num_queries(4):
        response = other_client.get(f"/api/v1/tweets/user/{user.pk}")
    docs = response.json()["data"]["docs"]
    assert len(docs) == 4
    assert all(doc["isLiked"] and doc["likesCount"] == 1 for doc in docs)


def test_anonymous_tweet_list_query_budget(api_client, other_user, user, django_assert_num_queries):
    for _ in range(3):
        add_like(other_user, TweetFactory(author=user))
    # 1 the author exists, 2 COUNT of the author's tweets, 3 the page of tweets with the author
    # joined (no user row to read; isLiked is a constant false).
    with django_assert_num_queries(3):
        response = api_client.get(f"/api/v1/tweets/user/{user.pk}")
    docs = response.json()["data"]["docs"]
    assert len(docs) == 3
    assert all(not doc["isLiked"] and doc["likesCount"] == 1 for doc in docs)


# --- PATCH /tweets/:tweetId -------------------------------------------------------------------


@pytest.fixture
def tweet(user):
    return TweetFactory(author=user, content="original")


def test_author_edits_tweet(auth_client, user, tweet):
    add_like(user, tweet)
    before = tweet.updated_at

    data = assert_ok(
        auth_client.patch(f"/api/v1/tweets/{tweet.pk}", {"content": " edited "}),
        "Tweet updated successfully",
    )

    tweet.refresh_from_db()
    assert tweet.content == "edited"
    assert tweet.updated_at > before
    assert data == tweet_body(tweet, likes=1, liked=True)


def test_edit_ignores_fields_the_client_may_not_set(auth_client, user, other_user, tweet):
    created_at = tweet.created_at
    response = auth_client.patch(
        f"/api/v1/tweets/{tweet.pk}",
        {
            "content": "new",
            "userId": str(other_user.pk),
            "createdAt": "2001-01-01T00:00:00Z",
            "id": str(uuid.uuid4()),
        },
    )
    assert_ok(response, "Tweet updated successfully")
    tweet.refresh_from_db()
    assert (tweet.author, tweet.created_at, tweet.content) == (user, created_at, "new")


@pytest.mark.parametrize("client_name", ["other_client", "staff_client"])
def test_only_the_author_edits_a_tweet(request, tweet, client_name):
    client = request.getfixturevalue(client_name)
    assert_error(
        client.patch(f"/api/v1/tweets/{tweet.pk}", {"content": "hijack"}),
        403,
        "You are not allowed to edit this tweet",
    )
    tweet.refresh_from_db()
    assert tweet.content == "original"


def test_anonymous_cannot_edit_a_tweet(api_client, tweet):
    assert_error(
        api_client.patch(f"/api/v1/tweets/{tweet.pk}", {"content": "x"}),
        401,
        "Unauthorized request",
    )
    tweet.refresh_from_db()
    assert tweet.content == "original"


def test_editing_a_missing_tweet_is_a_404(auth_client):
    assert_error(
        auth_client.patch(f"/api/v1/tweets/{uuid.uuid4()}", {"content": "x"}),
        404,
        "Tweet not found",
    )


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "Content cannot be empty"),
        ({"content": "   "}, "Content cannot be empty"),
        ({"content": "z" * 281}, "Tweet must be at most 280 characters"),
    ],
)
def test_invalid_tweet_edit_is_a_422_and_changes_nothing(auth_client, tweet, payload, message):
    body = assert_error(
        auth_client.patch(f"/api/v1/tweets/{tweet.pk}", payload), 422, "Validation failed"
    )
    assert body["fields"] == {"content": [message]}
    tweet.refresh_from_db()
    assert tweet.content == "original"


# --- DELETE /tweets/:tweetId ------------------------------------------------------------------


def test_author_deletes_tweet_and_its_likes(auth_client, other_user, tweet):
    add_like(other_user, tweet)
    kept = TweetFactory()

    assert (
        assert_ok(auth_client.delete(f"/api/v1/tweets/{tweet.pk}"), "Tweet deleted successfully")
        == {}
    )

    assert list(Tweet.objects.all()) == [kept]
    assert not Like.objects.exists()


@pytest.mark.parametrize("is_staff", [False, True])
def test_others_cannot_delete_a_tweet(tweet, is_staff):
    client = bearer_client(UserFactory(is_staff=is_staff))
    assert_error(
        client.delete(f"/api/v1/tweets/{tweet.pk}"), 403, "You are not allowed to delete this tweet"
    )
    assert Tweet.objects.filter(pk=tweet.pk).exists()


def test_anonymous_cannot_delete_a_tweet(api_client, tweet):
    assert_error(api_client.delete(f"/api/v1/tweets/{tweet.pk}"), 401, "Unauthorized request")
    assert Tweet.objects.filter(pk=tweet.pk).exists()


def test_deleting_a_missing_tweet_is_a_404(auth_client, tweet):
    assert_error(auth_client.delete(f"/api/v1/tweets/{uuid.uuid4()}"), 404, "Tweet not found")
    assert Tweet.objects.count() == 1
