"""Concurrency: identical toggles released at once against a live server and a real database.

Each trial opens N connections, waits on a ``threading.Barrier`` and then sends N identical
requests. The toggles lock their target row, so they run one after another: the answers must
alternate (half "added", half "removed" for an even N), nothing may answer 409 or 500, no
duplicate row may appear, and the final state, the counter and the rows must agree.
Every trial uses a fresh caller, so the per-user toggle rate limit never interferes.
"""

from collections import Counter

import pytest
from django.contrib.auth import get_user_model

from social.models import Comment, Like, Subscription
from tests.factories import CommentFactory, TweetFactory, UserFactory, VideoFactory
from tests.social.helpers import access_token, assert_counters_match_rows, fire, fire_same
from videos.models import Video

TRIALS = 20
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def assert_alternating_toggles(results, *, on_key, count_key, on_message, off_message):
    """N serialised toggles of one caller: all 200, states alternate, counts follow the state."""
    assert [status for status, _ in results] == [200] * len(results), results
    states = Counter(body["data"][on_key] for _, body in results)
    assert states == {True: len(results) // 2, False: len(results) // 2}, results
    for _, body in results:
        on = body["data"][on_key]
        assert body["message"] == (on_message if on else off_message)
        assert body["data"][count_key] == (1 if on else 0), results


def counted_comment():
    """A comment with its video's counter in step, as the service would leave it."""
    comment = CommentFactory()
    Video.objects.filter(pk=comment.video_id).update(comments_count=1)
    return comment


LIKE_TARGETS = {
    "video": lambda: ("v", VideoFactory()),
    "comment": lambda: ("c", counted_comment()),
    "tweet": lambda: ("t", TweetFactory()),
}


@pytest.mark.parametrize("concurrency", [2, 10], ids=["double-click", "burst"])
@pytest.mark.parametrize("kind", list(LIKE_TARGETS))
def test_simultaneous_identical_like_toggles(live_server, kind, concurrency):
    for _ in range(TRIALS):
        letter, target = LIKE_TARGETS[kind]()
        liker = UserFactory()
        token = access_token(liker)

        results = fire_same(
            live_server, "POST", f"/api/v1/likes/toggle/{letter}/{target.pk}", [token] * concurrency
        )

        assert_alternating_toggles(
            results,
            on_key="liked",
            count_key="likesCount",
            on_message="Like added successfully",
            off_message="Like removed successfully",
        )
        # An even number of toggles ends where it started: not liked, no row, count 0.
        assert not Like.objects.filter(user=liker).exists()
        assert type(target).objects.get(pk=target.pk).likes_count == 0
    assert_counters_match_rows()


def test_ten_users_like_one_video_at_once(live_server):
    for _ in range(5):
        video = VideoFactory()
        tokens = [access_token(user) for user in UserFactory.create_batch(10)]

        results = fire_same(live_server, "POST", f"/api/v1/likes/toggle/v/{video.pk}", tokens)

        assert [status for status, _ in results] == [200] * 10, results
        assert all(body["data"]["liked"] for _, body in results)
        # Serialised by the row lock: each answer saw one more like than the previous one.
        assert sorted(body["data"]["likesCount"] for _, body in results) == list(range(1, 11))
        assert Like.objects.filter(video=video).count() == 10
        assert Video.objects.get(pk=video.pk).likes_count == 10


@pytest.mark.parametrize("concurrency", [2, 10], ids=["double-click", "burst"])
def test_simultaneous_identical_subscription_toggles(live_server, concurrency):
    for _ in range(TRIALS):
        channel, subscriber = UserFactory(), UserFactory()

        results = fire_same(
            live_server,
            "POST",
            f"/api/v1/subscriptions/c/{channel.pk}",
            [access_token(subscriber)] * concurrency,
        )

        assert_alternating_toggles(
            results,
            on_key="subscribed",
            count_key="subscribersCount",
            on_message="Subscribed successfully",
            off_message="Unsubscribed successfully",
        )
        assert not Subscription.objects.filter(subscriber=subscriber).exists()
        channel.refresh_from_db()
        subscriber.refresh_from_db()
        assert (channel.subscribers_count, subscriber.subscriptions_count) == (0, 0)
    assert_counters_match_rows()


def test_ten_users_subscribe_to_one_channel_at_once(live_server):
    for _ in range(5):
        channel = UserFactory()
        subscribers = UserFactory.create_batch(10)

        results = fire_same(
            live_server,
            "POST",
            f"/api/v1/subscriptions/c/{channel.pk}",
            [access_token(user) for user in subscribers],
        )

        assert [status for status, _ in results] == [200] * 10, results
        assert sorted(body["data"]["subscribersCount"] for _, body in results) == list(range(1, 11))
        channel.refresh_from_db()
        assert channel.subscribers_count == Subscription.objects.filter(channel=channel).count()
        assert channel.subscribers_count == 10
    assert_counters_match_rows()


def test_two_users_subscribing_to_each_other_at_once_do_not_deadlock(live_server):
    """Each toggle updates a counter on both user rows; locking them in primary-key order keeps
    two opposite toggles from waiting on each other (PostgreSQL would abort one with a 500)."""
    for _ in range(TRIALS):
        first, second = UserFactory(), UserFactory()
        path = "/api/v1/subscriptions/c/{}"
        results = fire(
            live_server,
            [
                ("POST", path.format(second.pk), access_token(first), None),
                ("POST", path.format(first.pk), access_token(second), None),
            ],
        )

        assert [status for status, _ in results] == [200, 200], results
        assert all(body["data"]["subscribed"] for _, body in results)
        for user in get_user_model().objects.filter(pk__in=[first.pk, second.pk]):
            assert (user.subscribers_count, user.subscriptions_count) == (1, 1)
    assert_counters_match_rows()


def test_simultaneous_comments_are_all_counted(live_server):
    video = VideoFactory()
    tokens = [access_token(user) for user in UserFactory.create_batch(10)]

    results = fire_same(
        live_server, "POST", f"/api/v1/comments/{video.pk}", tokens, body={"content": "first!"}
    )

    assert [status for status, _ in results] == [201] * 10, results
    assert Comment.objects.filter(video=video).count() == 10
    assert Video.objects.get(pk=video.pk).comments_count == 10


def test_author_and_video_owner_deleting_one_comment_at_once(live_server):
    for _ in range(TRIALS):
        comment = counted_comment()
        tokens = [access_token(comment.author), access_token(comment.video.owner)]

        results = fire_same(live_server, "DELETE", f"/api/v1/comments/c/{comment.pk}", tokens)

        assert sorted(status for status, _ in results) == [200, 404], results
        assert not Comment.objects.filter(pk=comment.pk).exists()
        assert Video.objects.get(pk=comment.video_id).comments_count == 0
