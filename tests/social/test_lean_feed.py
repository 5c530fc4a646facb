"""GET /feed on its lean path (one statement, social.lean.feed_body) answers byte for byte what
the serializer path (social.feed.feed_items and FeedItemSerializer) answers for the same rows,
on every page of a walk."""

import datetime

import pytest
from django.utils import timezone

import social.views
from social.models import Tweet
from tests.conftest import bearer_client
from tests.factories import SubscriptionFactory, TweetFactory, UserFactory, VideoFactory
from tests.lean import assert_same_answer
from tests.social.helpers import add_like
from videos.models import Video
from viztube.api import cursor

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def ago(minutes, microsecond=0):
    return (NOW - datetime.timedelta(minutes=minutes + 1)).replace(microsecond=microsecond)


@pytest.fixture
def walk(monkeypatch):
    """``walk(client, **params)``: every page of the feed by both paths, compared; the lean
    answers' bodies. The first page's snapshot is fixed, so both paths sign the same cursors."""
    monkeypatch.setattr(cursor.timezone, "now", lambda: NOW)

    def pages(client, **params):
        bodies, params = [], dict(params)
        while True:
            response = assert_same_answer(
                monkeypatch, social.views, lambda p=dict(params): client.get("/api/v1/feed", p)
            )
            assert response.status_code == 200
            bodies.append(response.json()["data"])
            if bodies[-1]["nextCursor"] is None:
                return bodies
            params["cursor"] = bodies[-1]["nextCursor"]

    return pages


@pytest.fixture
def viewer():
    """A reader of three channels, with videos and tweets at equal and distinct times, a tweet
    they like, a video that is no longer public, videos not ready, one with a streaming URL,
    and a channel they do not follow."""
    viewer = UserFactory()
    channels = [UserFactory(avatar="" if n == 2 else f"avatars/c{n}.png") for n in range(3)]
    for channel in channels:
        SubscriptionFactory(subscriber=viewer, channel=channel)
    for n, channel in enumerate(channels):
        for minute in range(4):
            VideoFactory(owner=channel, published_at=ago(minute, 999999 * (n == 0)))
            tweet = TweetFactory(author=channel, content=f"Tweet ✓ {n}/{minute} \u2028")
            Tweet.objects.filter(pk=tweet.pk).update(created_at=ago(minute, 500))
    add_like(viewer, Tweet.objects.filter(author=channels[1]).first())
    Video.objects.filter(pk=Video.objects.filter(owner=channels[0]).first().pk).update(
        visibility="unlisted"
    )
    VideoFactory(published_at=ago(1))  # not followed
    # Not ready: in no feed (one had been published before it was reprocessed).
    VideoFactory(owner=channels[1], status="processing", published_at=None)
    VideoFactory(owner=channels[2], status="failed", published_at=ago(2))
    # Ready, with its HLS rendition.
    VideoFactory(owner=channels[2], published_at=ago(3), streaming_url="https://cdn.test/a.m3u8")
    return viewer


@pytest.mark.parametrize("limit", [3, 10, 100])
def test_every_page_of_a_walk(walk, viewer, limit):
    bodies = walk(bearer_client(viewer), limit=limit)
    shown = [doc for body in bodies for doc in body["docs"]]
    # 11 public videos of the 12, the one with a streaming URL, 12 tweets; none not ready.
    assert len(shown) == 12 + 12
    assert sum(doc["video"]["streamingUrl"] is not None for doc in shown if "video" in doc) == 1
    assert {doc["video"]["status"] for doc in shown if "video" in doc} == {"ready"}
    assert sum(doc["tweet"]["isLiked"] for doc in shown if doc["type"] == "tweet") == 1


@pytest.mark.parametrize("kind", ["video", "tweet"])
def test_one_kind(walk, viewer, kind):
    bodies = walk(bearer_client(viewer), type=kind, limit=4)
    assert {doc["type"] for body in bodies for doc in body["docs"]} == {kind}


def test_an_empty_feed(walk):
    assert walk(bearer_client(UserFactory())) == [{"docs": [], "limit": 10, "nextCursor": None}]
