"""GET /feed: the public videos and the tweets of the channels the caller subscribes to, newest
first, walked with cursors."""

import datetime
import uuid

import pytest
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from social import feed
from social.models import Tweet
from tests.conftest import bearer_client
from tests.factories import SubscriptionFactory, TweetFactory, UserFactory, VideoFactory
from tests.shapes import error, iso, tweet_shape, video_shape
from tests.social.helpers import add_like, assert_ok
from videos.models import Video
from viztube.api.cursor import INVALID_CURSOR, LIMIT_TOO_LARGE, cursor_body, cursor_request

pytestmark = pytest.mark.django_db

FEED = "/api/v1/feed"
MESSAGE = "Feed fetched successfully"
BASE = timezone.now() - datetime.timedelta(days=1)
ABOVE_EVERY_ID = uuid.UUID(int=(1 << 128) - 1)


def minutes_ago(minutes):
    return BASE - datetime.timedelta(minutes=minutes)


def video_at(owner, moment, **kwargs):
    return VideoFactory(owner=owner, published_at=moment, **kwargs)


def tweet_at(author, moment):
    tweet = TweetFactory(author=author)
    Tweet.objects.filter(pk=tweet.pk).update(created_at=moment)
    tweet.refresh_from_db()
    return tweet


def video_item(video):
    video.refresh_from_db()
    return {
        "type": "video",
        "id": str(video.pk),
        "at": iso(video.published_at),
        "video": video_shape(video),
    }


def tweet_item(tweet, *, likes=0, liked=False):
    tweet.refresh_from_db()
    return {
        "type": "tweet",
        "id": str(tweet.pk),
        "at": iso(tweet.created_at),
        "tweet": tweet_shape(tweet, likes=likes, liked=liked),
    }


def ids(data):
    return [doc["id"] for doc in data["docs"]]


def subscribed_channel(viewer):
    channel = UserFactory()
    SubscriptionFactory(subscriber=viewer, channel=channel)
    return channel


def get_feed(client, **params):
    return client.get(FEED, params)


# --- Contents and order -----------------------------------------------------------------------


def test_videos_and_tweets_of_followed_channels_interleave_newest_first(auth_client, user):
    ann, bob = subscribed_channel(user), subscribed_channel(user)
    ann_video = video_at(ann, minutes_ago(1))
    bob_tweet = tweet_at(bob, minutes_ago(2))
    ann_tweet = tweet_at(ann, minutes_ago(3))
    bob_video = video_at(bob, minutes_ago(4))

    data = assert_ok(get_feed(auth_client), MESSAGE)

    assert data == {
        "docs": [
            video_item(ann_video),
            tweet_item(bob_tweet),
            tweet_item(ann_tweet),
            video_item(bob_video),
        ],
        "limit": 10,
        "nextCursor": None,
    }


def test_a_video_is_placed_at_its_published_at_not_its_creation(auth_client, user):
    channel = subscribed_channel(user)
    published_late = video_at(channel, minutes_ago(1))
    Video.objects.filter(pk=published_late.pk).update(created_at=minutes_ago(100))
    tweet = tweet_at(channel, minutes_ago(50))

    data = assert_ok(get_feed(auth_client), MESSAGE)

    assert ids(data) == [str(published_late.pk), str(tweet.pk)]
    assert data["docs"][0]["at"] == iso(minutes_ago(1))


def test_only_channels_the_caller_subscribes_to(auth_client, user, other_user):
    followed = subscribed_channel(user)
    shown = video_at(followed, minutes_ago(5))
    video_at(other_user, minutes_ago(1))
    tweet_at(other_user, minutes_ago(2))
    # Someone else's subscription to that channel does not put it in the caller's feed.
    SubscriptionFactory(subscriber=UserFactory(), channel=other_user)
    # Nor do the caller's own videos and tweets.
    video_at(user, minutes_ago(3))
    tweet_at(user, minutes_ago(4))

    data = assert_ok(get_feed(auth_client), MESSAGE)

    assert ids(data) == [str(shown.pk)]


def test_only_public_videos(auth_client, user):
    channel = subscribed_channel(user)
    public = video_at(channel, minutes_ago(10))
    VideoFactory(owner=channel, visibility="unlisted", published_at=minutes_ago(1))
    VideoFactory(owner=channel, visibility="private", published_at=minutes_ago(2))
    VideoFactory(
        owner=channel,
        visibility="private",
        published_at=None,
        publish_at=timezone.now() + datetime.timedelta(days=1),
    )

    data = assert_ok(get_feed(auth_client), MESSAGE)

    assert ids(data) == [str(public.pk)]


def test_a_video_that_becomes_public_appears_at_its_published_at(auth_client, user):
    channel = subscribed_channel(user)
    older = video_at(channel, minutes_ago(10))
    draft = VideoFactory(owner=channel, is_published=False)
    assert ids(assert_ok(get_feed(auth_client), MESSAGE)) == [str(older.pk)]

    toggled = bearer_client(channel).patch(f"/api/v1/videos/toggle/publish/{draft.pk}")
    assert toggled.status_code == 200

    draft.refresh_from_db()
    data = assert_ok(get_feed(auth_client), MESSAGE)
    assert data["docs"] == [video_item(draft), video_item(older)]
    assert data["docs"][0]["at"] == iso(draft.published_at)


def test_tweets_carry_the_callers_likes(auth_client, user, other_user):
    channel = subscribed_channel(user)
    liked, plain = tweet_at(channel, minutes_ago(1)), tweet_at(channel, minutes_ago(2))
    add_like(user, liked)
    add_like(other_user, plain)

    data = assert_ok(get_feed(auth_client), MESSAGE)

    assert data["docs"] == [tweet_item(liked, likes=1, liked=True), tweet_item(plain, likes=1)]


def test_empty_feed(auth_client, user):
    assert assert_ok(get_feed(auth_client), MESSAGE) == {
        "docs": [],
        "limit": 10,
        "nextCursor": None,
    }
    subscribed_channel(user)  # a channel with nothing in it
    assert assert_ok(get_feed(auth_client, limit=3), MESSAGE) == {
        "docs": [],
        "limit": 3,
        "nextCursor": None,
    }


def test_anonymous_is_401(api_client):
    response = api_client.get(FEED)

    assert response.status_code == 401
    assert response.json() == error(401, "Unauthorized request")


# --- type -------------------------------------------------------------------------------------


@pytest.fixture
def mixed(user):
    channel = subscribed_channel(user)
    return {
        "video": [video_at(channel, minutes_ago(1)), video_at(channel, minutes_ago(3))],
        "tweet": [tweet_at(channel, minutes_ago(2)), tweet_at(channel, minutes_ago(4))],
    }


@pytest.mark.parametrize("kind", ["video", "tweet"])
def test_type_keeps_one_kind(auth_client, mixed, kind):
    data = assert_ok(get_feed(auth_client, type=kind), MESSAGE)

    assert ids(data) == [str(item.pk) for item in mixed[kind]]
    assert {doc["type"] for doc in data["docs"]} == {kind}


@pytest.mark.parametrize("value", ["videos", "Video", "", "comment"])
def test_other_types_are_400(auth_client, mixed, value):
    response = get_feed(auth_client, type=value)

    assert response.status_code == 400
    assert response.json() == error(400, "'type' must be 'video' or 'tweet'")


def test_repeated_type_is_400(auth_client, mixed):
    response = auth_client.get(f"{FEED}?type=video&type=tweet")

    assert response.status_code == 400
    assert response.json() == error(400, "'type' must be given once")


def test_type_walks_with_cursors(auth_client, mixed):
    first = assert_ok(get_feed(auth_client, type="tweet", limit=1), MESSAGE)
    second = assert_ok(
        get_feed(auth_client, type="tweet", limit=1, cursor=first["nextCursor"]), MESSAGE
    )

    assert ids(first) + ids(second) == [str(tweet.pk) for tweet in mixed["tweet"]]
    assert second["nextCursor"] is None


# --- Cursor walk ------------------------------------------------------------------------------


def walk(client, limit, between_pages=None, **params):
    """Every page of a walk; ``between_pages(page_number)`` runs after each page."""
    pages, cursor = [], None
    while True:
        query = {"limit": limit, **params}
        if cursor:
            query["cursor"] = cursor
        data = assert_ok(get_feed(client, **query), MESSAGE)
        assert data["limit"] == limit
        pages.append(data)
        cursor = data["nextCursor"]
        if cursor is None:
            return pages
        if between_pages:
            between_pages(len(pages))
        assert len(pages) < 50, "the walk does not end"


def test_a_walk_shows_every_item_once_in_order_while_items_are_added(auth_client, user):
    channels = [subscribed_channel(user) for _ in range(3)]
    expected = []
    for minute in range(24):
        channel = channels[minute % 3]
        if minute % 2:
            expected.append(tweet_at(channel, minutes_ago(minute)))
        else:
            expected.append(video_at(channel, minutes_ago(minute)))
    # Items at the same moment are ordered by id: a page boundary falls between them.
    same_moment = [tweet_at(channels[0], minutes_ago(30)) for _ in range(3)]
    same_moment.append(video_at(channels[1], minutes_ago(30)))
    expected += sorted(same_moment, key=lambda item: item.pk, reverse=True)
    added = []

    def publish_more(page_number):
        # Newer than everything, and (for the walk's snapshot) older than the position reached.
        added.append(video_at(channels[page_number % 3], timezone.now()))
        added.append(tweet_at(channels[0], timezone.now()))
        added.append(tweet_at(channels[1], minutes_ago(-5)))

    pages = walk(auth_client, 5, publish_more)

    shown = [doc["id"] for page in pages for doc in page["docs"]]
    assert shown == [str(item.pk) for item in expected]
    assert [len(page["docs"]) for page in pages] == [5, 5, 5, 5, 5, 3]
    assert added and not {str(item.pk) for item in added} & set(shown)
    # A new walk starts from the top and shows them.
    assert set(ids(assert_ok(get_feed(auth_client, limit=100), MESSAGE))) >= {
        str(item.pk) for item in added
    }


def test_last_full_page_has_no_next_cursor(auth_client, user):
    channel = subscribed_channel(user)
    for minute in range(4):
        video_at(channel, minutes_ago(minute))

    first = assert_ok(get_feed(auth_client, limit=2), MESSAGE)
    second = assert_ok(get_feed(auth_client, limit=2, cursor=first["nextCursor"]), MESSAGE)

    assert first["nextCursor"] and len(first["docs"]) == 2
    assert len(second["docs"]) == 2 and second["nextCursor"] is None


def test_an_item_removed_between_pages_is_neither_shown_nor_a_gap(auth_client, user):
    channel = subscribed_channel(user)
    videos = [video_at(channel, minutes_ago(minute)) for minute in range(5)]

    first = assert_ok(get_feed(auth_client, limit=2), MESSAGE)
    Video.objects.filter(pk=videos[2].pk).update(visibility="private")
    second = assert_ok(get_feed(auth_client, limit=2, cursor=first["nextCursor"]), MESSAGE)

    assert ids(first) + ids(second) == [str(videos[i].pk) for i in (0, 1, 3, 4)]
    assert second["nextCursor"] is None


# --- Bad cursors and limits -------------------------------------------------------------------


@pytest.fixture
def cursor(auth_client, mixed):
    return assert_ok(get_feed(auth_client, limit=1), MESSAGE)["nextCursor"]


def _tampered(cursor):
    payload, signature = cursor.split(":")
    flipped = "A" if payload[5] != "A" else "B"
    return f"{payload[:5]}{flipped}{payload[6:]}:{signature}"


@pytest.mark.parametrize(
    "make_bad",
    [
        pytest.param(lambda cursor: "garbage", id="garbage"),
        pytest.param(lambda cursor: cursor.split(":")[0], id="unsigned"),
        pytest.param(_tampered, id="tampered"),
        pytest.param(lambda cursor: cursor[:-1], id="truncated"),
        pytest.param(lambda cursor: cursor + "x" * 200, id="too-long"),
        pytest.param(lambda cursor: "AAAA:" + cursor.split(":")[1], id="other-payload"),
        pytest.param(lambda cursor: "é:" + cursor, id="non-ascii"),
    ],
)
def test_a_cursor_the_server_did_not_give_is_400_and_nothing_else(auth_client, cursor, make_bad):
    response = get_feed(auth_client, cursor=make_bad(cursor))

    assert response.status_code == 400
    assert response.json() == error(400, INVALID_CURSOR)


def test_another_users_cursor_is_400(cursor, user, other_user):
    SubscriptionFactory(subscriber=other_user, channel=user)
    video_at(user, minutes_ago(30))  # something the other user could page through

    response = get_feed(bearer_client(other_user), cursor=cursor)

    assert response.status_code == 400
    assert response.json() == error(400, INVALID_CURSOR)


def test_a_cursor_of_another_list_is_400(auth_client, user, mixed):
    page = cursor_request(
        Request(APIRequestFactory().get("/x", {"limit": 1})), "other", reader=user.pk
    )
    rows = feed.feed_rows(viewer=user, page=page)
    other = cursor_body(rows, page, key=feed.feed_position, serialize=list)["nextCursor"]

    response = get_feed(auth_client, cursor=other)

    assert response.status_code == 400
    assert response.json() == error(400, INVALID_CURSOR)


def test_repeated_cursor_is_400(auth_client, cursor):
    response = auth_client.get(f"{FEED}?cursor={cursor}&cursor={cursor}")

    assert response.status_code == 400
    assert response.json() == error(400, "'cursor' must be given once")


def test_an_empty_cursor_is_the_first_page(auth_client, mixed):
    assert ids(assert_ok(get_feed(auth_client, cursor=""), MESSAGE)) == ids(
        assert_ok(get_feed(auth_client), MESSAGE)
    )


@pytest.mark.parametrize(
    ("limit", "message"),
    [
        ("0", "'limit' must be a positive integer"),
        ("-1", "'limit' must be a positive integer"),
        ("ten", "'limit' must be a positive integer"),
        ("1.5", "'limit' must be a positive integer"),
        ("101", LIMIT_TOO_LARGE),
        ("100000000000000000000", LIMIT_TOO_LARGE),
    ],
)
def test_limit_out_of_range_is_400(auth_client, mixed, limit, message):
    response = get_feed(auth_client, limit=limit)

    assert response.status_code == 400
    assert response.json() == error(400, message)


def test_limit_of_100_is_served(auth_client, mixed):
    data = assert_ok(get_feed(auth_client, limit=" 100 "), MESSAGE)

    assert data["limit"] == 100
    assert len(data["docs"]) == 4


# --- Query budget -----------------------------------------------------------------------------


def _fill(viewer, channels, per_channel):
    for index in range(channels):
        channel = subscribed_channel(viewer)
        for minute in range(per_channel):
            video_at(channel, minutes_ago(index * 100 + minute))
            tweet = tweet_at(channel, minutes_ago(index * 100 + minute + 50))
            add_like(viewer, tweet)
    # Subscriptions to channels with nothing public add nothing either.
    for _ in range(channels):
        VideoFactory(owner=subscribed_channel(viewer), is_published=False)


@pytest.mark.parametrize(("channels", "per_channel"), [(1, 1), (8, 6)])
def test_query_budget_does_not_grow_with_subscriptions_or_items(
    auth_client, user, django_assert_num_queries, channels, per_channel
):
    _fill(user, channels, per_channel)
    # 1 the caller's user row (this request caches its copy), 2 one statement: the page's
    # positions (for every followed channel) with its videos and their owners, its tweets with
    # their authors and the caller's likes.
    with django_assert_num_queries(2):
        response = get_feed(auth_client, limit=100)
    docs = response.json()["data"]["docs"]
    assert len(docs) == channels * per_channel * 2
    assert all(doc["tweet"]["isLiked"] for doc in docs if doc["type"] == "tweet")


def test_a_page_of_one_kind_reads_one_kind(auth_client, user, django_assert_num_queries):
    _fill(user, 3, 2)
    # The caller's user row, the positions with their videos: the tweets are not read at all.
    with django_assert_num_queries(2) as queries:
        response = get_feed(auth_client, type="video")
    assert {doc["type"] for doc in response.json()["data"]["docs"]} == {"video"}
    assert "social_tweet" not in queries.captured_queries[-1]["sql"]


# --- The two ways of reading a page -----------------------------------------------------------


def test_the_portable_read_gives_the_rows_of_the_postgresql_statement(user):
    channels = [subscribed_channel(user) for _ in range(4)]
    for index, channel in enumerate(channels):
        for minute in range(index * 3, index * 3 + 5):
            video_at(channel, minutes_ago(minute))
            tweet_at(channel, minutes_ago(minute))
    middle = minutes_ago(6)
    for kinds in (feed.KINDS, (feed.VIDEO,), (feed.TWEET,)):
        for at, pk in ((BASE, ABOVE_EVERY_ID), (middle, ABOVE_EVERY_ID)):
            values = {"viewer": user.pk, "snapshot": BASE, "at": at, "id": pk, "fetch": 7}
            postgres = feed._positions_postgres(values, kinds)
            assert len(postgres) == 7
            assert feed._positions_portable(values, kinds) == postgres


def test_rows_whose_item_is_gone_are_left_out(user):
    channel = subscribed_channel(user)
    video, tweet = video_at(channel, minutes_ago(1)), tweet_at(channel, minutes_ago(2))
    rows = [
        feed.FeedRow(feed.VIDEO, video.pk, video.published_at),
        feed.FeedRow(feed.TWEET, tweet.pk, tweet.created_at),
    ]
    tweet.delete()

    assert [item.target for item in feed.feed_items(rows, viewer=user)] == [video]
