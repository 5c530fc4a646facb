"""GET /dashboard/stats: totals of the caller's own channel, from the denormalised counters.

The likes, comments and subscriptions are made through social.services (the only code that keeps
the counters), and every expected number is also checked against the rows themselves.
"""

import io

import pytest
from django.core.management import call_command
from django.db.models import Count, Q, Sum

from dashboard import selectors
from dashboard.serializers import ChannelStatsSerializer
from social import services as social
from social.models import Comment, Like, Subscription
from tests.factories import (
    CommentFactory,
    LikeFactory,
    SubscriptionFactory,
    TweetFactory,
    UserFactory,
    VideoFactory,
)
from tests.lean import assert_same_answer
from tests.playlists.shapes import error, success
from videos.models import Video
from viztube.api.renderers import dumps

pytestmark = pytest.mark.django_db

URL = "/api/v1/dashboard/stats"


def set_published(video, published):
    Video.objects.filter(pk=video.pk).update(visibility="public" if published else "private")


@pytest.fixture
def busy_channel(user):
    """``user``'s channel: two published videos, one unpublished; likes and comments on them,
    likes on a comment and on a tweet (not video likes), another channel's video, subscriptions
    in both directions."""
    fans = UserFactory.create_batch(3)
    hit = VideoFactory(owner=user, views=100)
    quiet = VideoFactory(owner=user, views=50)
    draft = VideoFactory(owner=user, views=7)
    elsewhere = VideoFactory(views=1000)

    for fan in fans:
        social.video_like_toggle(video_id=hit.id, user=fan)
    social.video_like_toggle(video_id=quiet.id, user=fans[0])
    # Liked while it was public, then unpublished: the like still counts for its owner.
    social.video_like_toggle(video_id=draft.id, user=fans[1])
    set_published(draft, False)
    # A like and then an unlike leaves nothing.
    social.video_like_toggle(video_id=quiet.id, user=fans[2])
    social.video_like_toggle(video_id=quiet.id, user=fans[2])

    comment = social.comment_create(video_id=hit.id, author=fans[0], content="Great")
    social.comment_create(video_id=hit.id, author=fans[1], content="Agreed")
    social.comment_create(video_id=draft.id, author=user, content="Note to self")
    # Likes of a comment and of a tweet are not likes of the channel's videos.
    social.comment_like_toggle(comment_id=comment.id, user=fans[1])
    social.comment_like_toggle(comment_id=comment.id, user=user)
    tweet = TweetFactory(author=user)
    social.tweet_like_toggle(tweet_id=tweet.id, user=fans[0])

    # Another channel's numbers must not leak in.
    social.video_like_toggle(video_id=elsewhere.id, user=fans[0])
    social.video_like_toggle(video_id=elsewhere.id, user=user)
    social.comment_create(video_id=elsewhere.id, author=user, content="Nice")

    for fan in fans:
        social.subscription_toggle(subscriber=fan, channel_id=user.id)
    # One more subscribes and leaves again; the channel's own subscriptions are not subscribers.
    leaver = UserFactory()
    social.subscription_toggle(subscriber=leaver, channel_id=user.id)
    social.subscription_toggle(subscriber=leaver, channel_id=user.id)
    social.subscription_toggle(subscriber=user, channel_id=fans[0].id)
    social.subscription_toggle(subscriber=user, channel_id=elsewhere.owner_id)
    return user


EXPECTED = {
    "totalViews": 157,
    "totalSubscribers": 3,
    "totalVideos": 3,
    "totalLikes": 5,
    "publishedVideos": 2,
    "totalComments": 3,
}


def test_owner_gets_the_channel_totals(auth_client, busy_channel):
    response = auth_client.get(URL)

    assert response.status_code == 200
    assert response.json() == success(EXPECTED, "Channel stats fetched successfully")


def test_totals_agree_with_the_rows(auth_client, busy_channel):
    user = busy_channel

    data = auth_client.get(URL).json()["data"]

    assert data["totalLikes"] == Like.objects.filter(video__owner=user).count()
    assert Like.objects.filter(video__isnull=True, comment__video__owner=user).count() == 2
    assert Like.objects.filter(tweet__author=user).count() == 1
    assert data["totalComments"] == Comment.objects.filter(video__owner=user).count()
    assert data["totalSubscribers"] == Subscription.objects.filter(channel=user).count()
    assert data["totalVideos"] == Video.objects.filter(owner=user).count()
    assert data["publishedVideos"] == Video.objects.filter(owner=user, visibility="public").count()


def test_totals_of_rows_made_by_factories_after_a_recount(auth_client, user):
    """Rows created directly (as by a data import), counters then rebuilt by the command."""
    published = VideoFactory(owner=user, views=3)
    unpublished = VideoFactory(owner=user, views=4, is_published=False)
    LikeFactory.create_batch(2, video=published)
    LikeFactory(video=unpublished)
    comment = CommentFactory(video=published)
    LikeFactory.create_batch(4, comment=comment)
    LikeFactory(tweet=TweetFactory(author=user))
    LikeFactory.create_batch(3, video=VideoFactory())
    SubscriptionFactory.create_batch(2, channel=user)
    SubscriptionFactory(subscriber=user)
    call_command("recount_counters", no_progress=True, stdout=io.StringIO())
    user.refresh_from_db()

    data = auth_client.get(URL).json()["data"]

    assert data == {
        "totalViews": 7,
        "totalSubscribers": 2,
        "totalVideos": 2,
        "totalLikes": 3,
        "publishedVideos": 1,
        "totalComments": 1,
    }


def test_empty_channel_has_zeros_not_nulls(auth_client):
    response = auth_client.get(URL)

    assert response.json() == success(
        dict.fromkeys(EXPECTED, 0), "Channel stats fetched successfully"
    )


@pytest.mark.parametrize("client_name", ["other_client", "staff_client"])
def test_other_users_and_staff_get_their_own_channel_only(request, busy_channel, client_name):
    response = request.getfixturevalue(client_name).get(URL)

    assert response.status_code == 200
    assert response.json()["data"] == dict.fromkeys(EXPECTED, 0)


def test_anonymous_is_401(api_client, busy_channel):
    response = api_client.get(URL)

    assert response.status_code == 401
    assert response.json() == error(401, "Unauthorized request")


def test_there_is_no_way_to_ask_for_another_channel(auth_client, busy_channel, other_user):
    VideoFactory(owner=other_user, views=999)

    data = auth_client.get(URL, {"userId": str(other_user.id)}).json()["data"]

    assert data == EXPECTED


def test_writes_are_405(auth_client):
    assert auth_client.post(URL, {}).status_code == 405


def test_query_budget(auth_client, busy_channel, django_assert_num_queries):
    auth_client.get(URL)  # the caller's row is now in accounts.user_cache, as in steady use
    # 1 one aggregate over the caller's video rows (no likes, comments or subscriptions table),
    # the caller's subscribers_count (fresh, not the cached copy's) read in it
    with django_assert_num_queries(1) as captured:
        response = auth_client.get(URL)

    assert response.json()["data"] == EXPECTED
    aggregate_sql = captured.captured_queries[0]["sql"]
    for table in ("social_like", "social_comment", "social_subscription"):
        assert table not in aggregate_sql
    assert "GROUP BY" not in aggregate_sql


@pytest.mark.parametrize(
    "channel",
    ["busy_channel", "user", "subscribed_only", "unicode_and_big"],
    ids=["busy", "empty", "subscribers-no-videos", "big-numbers"],
)
def test_the_stats_are_the_serializers_for_the_same_rows(
    request, monkeypatch, auth_client, channel
):
    """The answer is built without the serializer (dashboard.selectors.channel_stats): it must
    be what ChannelStatsSerializer writes from the ORM's own aggregate of the same rows, on the
    lean path (PostgreSQL) and the ORM one (SQLite) alike."""
    user = request.getfixturevalue(channel)
    videos = Video.objects.filter(owner=user)
    totals = videos.aggregate(
        totalViews=Sum("views"),
        totalVideos=Count("id"),
        publishedVideos=Count("id", filter=Q(visibility="public")),
        totalLikes=Sum("likes_count"),
        totalComments=Sum("comments_count"),
    )
    user.refresh_from_db()
    reference = ChannelStatsSerializer(
        {
            **{key: value or 0 for key, value in totals.items()},
            "totalSubscribers": user.subscribers_count,
        }
    ).data

    response = assert_same_answer(monkeypatch, selectors, lambda: auth_client.get(URL))

    assert response.content == dumps(success(reference, "Channel stats fetched successfully"))
    assert list(response.json()["data"]) == list(ChannelStatsSerializer().fields)


@pytest.fixture
def subscribed_only(user):
    for fan in UserFactory.create_batch(2):
        social.subscription_toggle(subscriber=fan, channel_id=user.id)
    return user


@pytest.fixture
def unicode_and_big(user):
    VideoFactory(owner=user, title="Ünïcødé 動画", views=2**40, is_published=False)
    VideoFactory(owner=user, views=2**40, visibility="unlisted")
    Video.objects.filter(owner=user).update(likes_count=2**31 - 1, comments_count=2**31 - 1)
    return user
