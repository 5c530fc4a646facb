"""Admin moderation: comments and tweets searchable, filterable, deletable (bulk too) with exact
counters; likes and subscriptions read-only; changelists without N+1 queries."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from social.models import Comment, Like, Subscription, Tweet
from tests.factories import (
    CommentFactory,
    LikeFactory,
    SubscriptionFactory,
    TweetFactory,
    UserFactory,
    VideoFactory,
)
from tests.social.helpers import assert_counters_match_rows
from videos.models import Video

pytestmark = pytest.mark.django_db


def counted_comments(video, count, **kwargs):
    comments = CommentFactory.create_batch(count, video=video, **kwargs)
    Video.objects.filter(pk=video.pk).update(
        comments_count=Comment.objects.filter(video=video).count()
    )
    return comments


def test_comment_changelist_query_count_does_not_grow_with_rows(
    admin_client, django_assert_num_queries
):
    for video in VideoFactory.create_batch(3):
        counted_comments(video, 20)  # 60 comments, each with its own author: a full page of 50

    # 1 session, 2 admin user, 3 COUNT filtered, 4 COUNT total, 5 the page with authors and
    # videos joined (list_select_related). Without the join it would be 1 + 2 per row.
    with django_assert_num_queries(5):
        response = admin_client.get("/admin/social/comment/")

    assert response.status_code == 200
    assert response.context["cl"].result_count == 60
    assert len(response.context["cl"].result_list) == 50


@pytest.mark.parametrize(
    ("url", "make_rows"),
    [
        ("/admin/social/tweet/", lambda: TweetFactory.create_batch(30)),
        (
            "/admin/social/like/",
            lambda: (
                [LikeFactory(video=VideoFactory()) for _ in range(10)]
                + [LikeFactory(comment=CommentFactory()) for _ in range(10)]
                + [LikeFactory(tweet=TweetFactory()) for _ in range(10)]
            ),
        ),
        ("/admin/social/subscription/", lambda: SubscriptionFactory.create_batch(30)),
    ],
)
def test_other_changelists_query_count_does_not_grow_with_rows(
    admin_client, django_assert_num_queries, url, make_rows
):
    make_rows()
    # 1 session, 2 admin user, 3 COUNT filtered, 4 COUNT total, 5 the page with related rows joined.
    with django_assert_num_queries(5):
        response = admin_client.get(url)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 30


def test_search_comments_by_content_and_author(admin_client):
    spam = CommentFactory(content="Buy cheap watches")
    by_author = CommentFactory(author=UserFactory(username="troll"), content="hello")
    other = CommentFactory(content="Nice video")

    by_content = (
        admin_client.get("/admin/social/comment/", {"q": "cheap"}).context["cl"].result_list
    )
    by_username = (
        admin_client.get("/admin/social/comment/", {"q": "troll"}).context["cl"].result_list
    )

    assert list(by_content) == [spam]
    assert list(by_username) == [by_author]
    assert other not in by_content


def test_search_tweets_by_content_and_author(admin_client):
    tweet = TweetFactory(content="needle in a haystack")
    TweetFactory(content="hay")
    assert list(
        admin_client.get("/admin/social/tweet/", {"q": "needle"}).context["cl"].result_list
    ) == [tweet]
    result = (
        admin_client.get("/admin/social/tweet/", {"q": tweet.author.username})
        .context["cl"]
        .result_list
    )
    assert list(result) == [tweet]


@pytest.mark.parametrize("model", [Comment, Tweet])
def test_filter_by_date(admin_client, model):
    factory = CommentFactory if model is Comment else TweetFactory
    old, recent = factory(), factory()
    model.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=40))
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)

    # The admin's own "Past 7 days" link.
    response = admin_client.get(
        f"/admin/social/{model._meta.model_name}/",
        {
            "created_at__gte": str(midnight - datetime.timedelta(days=7)),
            "created_at__lt": str(midnight + datetime.timedelta(days=1)),
        },
    )

    assert list(response.context["cl"].result_list) == [recent]


def test_bulk_delete_comments_keeps_counters_exact(admin_client):
    first, second = VideoFactory(), VideoFactory()
    doomed = counted_comments(first, 3) + counted_comments(second, 1)
    kept = counted_comments(first, 2)
    LikeFactory(comment=doomed[0])

    response = admin_client.post(
        "/admin/social/comment/",
        {
            "action": "delete_selected",
            "_selected_action": [str(c.pk) for c in doomed],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert set(Comment.objects.all()) == set(kept)
    assert not Like.objects.exists()
    assert Video.objects.get(pk=first.pk).comments_count == 2
    assert Video.objects.get(pk=second.pk).comments_count == 0
    assert_counters_match_rows()


def test_deleting_one_comment_in_the_admin_keeps_the_counter_exact(admin_client):
    video = VideoFactory()
    comment, kept = counted_comments(video, 2)

    response = admin_client.post(f"/admin/social/comment/{comment.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert list(Comment.objects.all()) == [kept]
    assert Video.objects.get(pk=video.pk).comments_count == 1


def test_bulk_delete_tweets(admin_client):
    doomed, kept = TweetFactory.create_batch(2), TweetFactory()
    LikeFactory(tweet=doomed[0])
    response = admin_client.post(
        "/admin/social/tweet/",
        {
            "action": "delete_selected",
            "_selected_action": [str(t.pk) for t in doomed],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert list(Tweet.objects.all()) == [kept]
    assert not Like.objects.exists()


def test_deleting_one_tweet_in_the_admin_removes_its_likes(admin_client):
    tweet, kept = TweetFactory(), TweetFactory()
    LikeFactory(tweet=tweet)

    response = admin_client.post(f"/admin/social/tweet/{tweet.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert list(Tweet.objects.all()) == [kept]
    assert not Like.objects.exists()


@pytest.mark.parametrize("model_name", ["comment", "tweet", "like", "subscription"])
def test_nothing_can_be_added_in_the_admin(admin_client, model_name):
    assert admin_client.get(f"/admin/social/{model_name}/add/").status_code == 403


def test_comment_content_cannot_be_rewritten_in_the_admin(admin_client):
    comment = CommentFactory(content="original")
    response = admin_client.post(
        f"/admin/social/comment/{comment.pk}/change/", {"content": "rewritten"}
    )
    assert response.status_code == 403
    comment.refresh_from_db()
    assert comment.content == "original"


def test_likes_and_subscriptions_are_read_only(admin_client):
    like = LikeFactory(video=VideoFactory())
    subscription = SubscriptionFactory()

    for url in (
        f"/admin/social/like/{like.pk}/change/",
        f"/admin/social/subscription/{subscription.pk}/change/",
    ):
        page = admin_client.get(url)
        assert page.status_code == 200
        assert b'name="_save"' not in page.content
        assert b'class="deletelink"' not in page.content
    assert (
        admin_client.post(f"/admin/social/like/{like.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert (
        admin_client.post(
            f"/admin/social/subscription/{subscription.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    response = admin_client.post(
        "/admin/social/like/",
        {"action": "delete_selected", "_selected_action": [str(like.pk)], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    assert Like.objects.filter(pk=like.pk).exists()
    assert Subscription.objects.filter(pk=subscription.pk).exists()


def test_like_changelist_names_the_target(admin_client):
    video = VideoFactory(title="Cats")
    LikeFactory(video=video)
    LikeFactory(tweet=TweetFactory(content="A tweet about dogs"))
    content = admin_client.get("/admin/social/like/").content.decode()
    assert "Cats" in content
    assert "A tweet about dogs" in content


def test_non_staff_cannot_open_the_admin(db):
    client = Client()
    client.force_login(UserFactory())
    response = client.get("/admin/social/comment/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
