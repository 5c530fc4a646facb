"""Likes: POST /likes/toggle/{v,c,t}/:id and GET /likes/videos."""

import uuid

import pytest

from social import services
from social.models import Like
from social.serializers import LikeToggleOutputSerializer, like_toggle_data
from social.services import LikeState
from tests.conftest import bearer_client, tokens_for
from tests.factories import CommentFactory, LikeFactory, TweetFactory, UserFactory, VideoFactory
from tests.lean import assert_same_answer
from tests.shapes import video_shape
from tests.social.helpers import (
    add_comment,
    add_like,
    assert_counters_match_rows,
    assert_error,
    assert_ok,
    assert_page,
    iso,
)
from videos.models import Video
from viztube.api.renderers import dumps

pytestmark = pytest.mark.django_db

ADDED, REMOVED = "Like added successfully", "Like removed successfully"


@pytest.fixture
def video(other_user):
    return VideoFactory(owner=other_user)


@pytest.fixture
def hidden_video(other_user):
    return VideoFactory(owner=other_user, is_published=False)


# --- Video likes ------------------------------------------------------------------------------


def test_like_then_unlike_a_video(auth_client, user, video):
    url = f"/api/v1/likes/toggle/v/{video.pk}"

    assert assert_ok(auth_client.post(url), ADDED) == {"liked": True, "likesCount": 1}
    assert Like.objects.filter(user=user, video=video).count() == 1
    video.refresh_from_db()
    assert video.likes_count == 1

    assert assert_ok(auth_client.post(url), REMOVED) == {"liked": False, "likesCount": 0}
    assert not Like.objects.exists()
    video.refresh_from_db()
    assert video.likes_count == 0
    assert_counters_match_rows()


def test_video_like_count_includes_other_users(auth_client, video):
    for liker in UserFactory.create_batch(2):
        assert_ok(bearer_client(liker).post(f"/api/v1/likes/toggle/v/{video.pk}"), ADDED)

    data = assert_ok(auth_client.post(f"/api/v1/likes/toggle/v/{video.pk}"), ADDED)

    assert data == {"liked": True, "likesCount": 3}
    assert_counters_match_rows()


def test_toggling_a_like_does_not_touch_the_videos_updated_at(auth_client, video):
    before = Video.objects.get(pk=video.pk).updated_at
    auth_client.post(f"/api/v1/likes/toggle/v/{video.pk}")
    assert Video.objects.get(pk=video.pk).updated_at == before


def test_owner_likes_their_own_unpublished_video(other_client, hidden_video):
    data = assert_ok(other_client.post(f"/api/v1/likes/toggle/v/{hidden_video.pk}"), ADDED)
    assert data == {"liked": True, "likesCount": 1}


@pytest.mark.parametrize("client_name", ["auth_client", "staff_client"])
def test_liking_someone_elses_unpublished_video_is_a_404(request, hidden_video, client_name):
    client = request.getfixturevalue(client_name)
    assert_error(client.post(f"/api/v1/likes/toggle/v/{hidden_video.pk}"), 404, "Video not found")
    assert not Like.objects.exists()
    hidden_video.refresh_from_db()
    assert hidden_video.likes_count == 0


def test_liking_a_missing_video_is_a_404(auth_client):
    assert_error(auth_client.post(f"/api/v1/likes/toggle/v/{uuid.uuid4()}"), 404, "Video not found")
    assert not Like.objects.exists()


def test_anonymous_cannot_like(api_client, video):
    response = api_client.post(f"/api/v1/likes/toggle/v/{video.pk}")
    assert_error(response, 401, "Unauthorized request")
    assert not Like.objects.exists()


def test_the_liker_is_always_the_caller(auth_client, user, other_user, video):
    response = auth_client.post(
        f"/api/v1/likes/toggle/v/{video.pk}", {"userId": str(other_user.pk), "liked": False}
    )
    assert assert_ok(response, ADDED) == {"liked": True, "likesCount": 1}
    assert list(Like.objects.values_list("user_id", flat=True)) == [user.pk]


def test_unlike_with_a_drifted_counter_never_goes_below_zero(auth_client, user, video):
    LikeFactory(user=user, video=video)  # a row the counter does not know about (drift)
    data = assert_ok(auth_client.post(f"/api/v1/likes/toggle/v/{video.pk}"), REMOVED)
    assert data == {"liked": False, "likesCount": 0}


@pytest.mark.parametrize(
    ("letter", "make_target"),
    [
        ("v", lambda video: video),
        ("c", lambda video: CommentFactory(video=video)),
        ("t", lambda video: TweetFactory()),
    ],
    ids=["video", "comment", "tweet"],
)
def test_a_toggle_is_two_statements_in_its_transaction(
    auth_client, video, letter, make_target, django_assert_num_queries
):
    target = make_target(video)
    url = f"/api/v1/likes/toggle/{letter}/{target.pk}"
    auth_client.post(url)  # the caller's row is now in accounts.user_cache, as in steady use
    for expected in ({"liked": False, "likesCount": 0}, {"liked": True, "likesCount": 1}):
        # 1 the target's row lock (with the visibility rule), 2 the like inserted or deleted and
        # the counter moved, in one WITH statement; around them the transaction (a savepoint
        # here, inside the test's transaction; BEGIN and COMMIT in production: 4 in all).
        with django_assert_num_queries(4) as captured:
            response = auth_client.post(url)
        assert response.json()["data"] == expected
        sql = [query["sql"] for query in captured.captured_queries]
        assert sql[0].startswith("SAVEPOINT") and sql[3].startswith("RELEASE SAVEPOINT")
        table = type(target)._meta.db_table
        assert sql[1].endswith(f'FOR NO KEY UPDATE OF "{table}"')
        assert sql[2].startswith("WITH added AS (INSERT INTO")


@pytest.mark.parametrize("liked", [True, False])
@pytest.mark.parametrize("likes_count", [0, 1, 2**31 - 1])
def test_the_toggle_answer_is_the_serializers(liked, likes_count):
    """The toggles build their answer without DRF (``like_toggle_data``); the serializer stays the
    description and the reference."""
    state = LikeState(liked=liked, likes_count=likes_count)
    lean = like_toggle_data(state)
    assert lean == LikeToggleOutputSerializer(state).data
    assert list(lean) == list(LikeToggleOutputSerializer(state).data)
    assert dumps(lean) == dumps(LikeToggleOutputSerializer(state).data)


TARGETS = {
    "v": lambda video: video,
    "c": lambda video: add_comment(video),
    "t": lambda video: TweetFactory(),
}


def _put_back(target, user, liked_before):
    """Undo what a toggle of ``target`` by ``user`` did: the like row and the counter."""

    def undo():
        likes = Like.objects.filter(**{target._meta.model_name: target})
        if liked_before:
            add_like(user, target)
        else:
            likes.filter(user=user).delete()
        type(target).objects.filter(pk=target.pk).update(likes_count=likes.count())

    return undo


@pytest.mark.parametrize("liked_before", [False, True], ids=["like", "unlike"])
@pytest.mark.parametrize("letter", list(TARGETS))
def test_the_lean_toggle_answers_as_the_orm_path(
    monkeypatch, auth_client, user, video, letter, liked_before
):
    """The same toggle by the two statements (PostgreSQL) and by the ORM one statement at a
    time (the local SQLite path): the same answer, byte for byte, and the same rows after."""
    target = TARGETS[letter](video)
    add_like(UserFactory(), target)  # someone else's like: the count is not the caller's alone
    if liked_before:
        add_like(user, target)
    url = f"/api/v1/likes/toggle/{letter}/{target.pk}"

    response = assert_same_answer(
        monkeypatch,
        services,
        lambda: auth_client.post(url),
        between=_put_back(target, user, liked_before),
    )

    assert response.json()["data"] == {"liked": not liked_before, "likesCount": 2 - liked_before}
    assert Like.objects.filter(user=user).exists() is not liked_before
    assert_counters_match_rows()


@pytest.mark.parametrize("letter", list(TARGETS))
def test_a_lean_toggle_of_what_the_caller_may_not_see_answers_as_the_orm_path(
    monkeypatch, auth_client, hidden_video, letter
):
    urls = [f"/api/v1/likes/toggle/{letter}/{uuid.uuid4()}"]
    if letter != "t":  # tweets are public
        urls.append(f"/api/v1/likes/toggle/{letter}/{TARGETS[letter](hidden_video).pk}")
    for url in urls:
        response = assert_same_answer(monkeypatch, services, lambda url=url: auth_client.post(url))
        assert response.status_code == 404
    assert not Like.objects.exists()


def test_get_is_not_allowed_on_a_toggle(auth_client, video):
    response = auth_client.get(f"/api/v1/likes/toggle/v/{video.pk}")
    assert response.status_code == 405
    assert response.json()["success"] is False


# --- Comment likes ----------------------------------------------------------------------------


def test_like_then_unlike_a_comment(auth_client, user, video):
    comment = CommentFactory(video=video)
    add_like(UserFactory(), comment)
    url = f"/api/v1/likes/toggle/c/{comment.pk}"

    assert assert_ok(auth_client.post(url), ADDED) == {"liked": True, "likesCount": 2}
    assert Like.objects.filter(user=user, comment=comment).exists()
    assert assert_ok(auth_client.post(url), REMOVED) == {"liked": False, "likesCount": 1}
    assert not Like.objects.filter(user=user).exists()
    video.refresh_from_db()
    assert video.likes_count == 0  # comment likes are not video likes


def test_liking_a_comment_on_an_invisible_video_is_a_404(auth_client, staff_client, hidden_video):
    comment = CommentFactory(video=hidden_video)
    for client in (auth_client, staff_client):
        response = client.post(f"/api/v1/likes/toggle/c/{comment.pk}")
        assert_error(response, 404, "Comment not found")
    assert not Like.objects.exists()


def test_owner_likes_a_comment_on_their_unpublished_video(other_client, hidden_video):
    comment = CommentFactory(video=hidden_video)
    data = assert_ok(other_client.post(f"/api/v1/likes/toggle/c/{comment.pk}"), ADDED)
    assert data == {"liked": True, "likesCount": 1}


def test_liking_a_missing_comment_is_a_404(auth_client):
    response = auth_client.post(f"/api/v1/likes/toggle/c/{uuid.uuid4()}")
    assert_error(response, 404, "Comment not found")


def test_anonymous_cannot_like_a_comment(api_client, video):
    comment = CommentFactory(video=video)
    assert_error(
        api_client.post(f"/api/v1/likes/toggle/c/{comment.pk}"), 401, "Unauthorized request"
    )
    assert not Like.objects.exists()


# --- Tweet likes ------------------------------------------------------------------------------


def test_like_then_unlike_a_tweet(auth_client, staff_client, user):
    tweet = TweetFactory()
    url = f"/api/v1/likes/toggle/t/{tweet.pk}"

    assert assert_ok(auth_client.post(url), ADDED) == {"liked": True, "likesCount": 1}
    assert assert_ok(staff_client.post(url), ADDED) == {"liked": True, "likesCount": 2}
    assert assert_ok(auth_client.post(url), REMOVED) == {"liked": False, "likesCount": 1}
    assert not Like.objects.filter(user=user).exists()
    assert Like.objects.filter(tweet=tweet).count() == 1


def test_author_may_like_their_own_tweet(auth_client, user):
    tweet = TweetFactory(author=user)
    assert assert_ok(auth_client.post(f"/api/v1/likes/toggle/t/{tweet.pk}"), ADDED)["liked"] is True


def test_liking_a_missing_tweet_is_a_404(auth_client):
    assert_error(auth_client.post(f"/api/v1/likes/toggle/t/{uuid.uuid4()}"), 404, "Tweet not found")
    assert not Like.objects.exists()


def test_anonymous_cannot_like_a_tweet(api_client):
    tweet = TweetFactory()
    assert_error(api_client.post(f"/api/v1/likes/toggle/t/{tweet.pk}"), 401, "Unauthorized request")


# --- GET /likes/videos ------------------------------------------------------------------------


def liked_video_body(video, liked_at):
    video.refresh_from_db()
    return {**video_shape(video), "likedAt": iso(liked_at)}


def test_liked_videos_most_recent_like_first(auth_client, user):
    first, second = VideoFactory(), VideoFactory()
    like_second = LikeFactory(user=user, video=second)
    like_first = LikeFactory(user=user, video=first)  # liked later
    LikeFactory(user=UserFactory(), video=VideoFactory())  # someone else's like
    LikeFactory(user=user, tweet=TweetFactory())  # not a video like

    data = assert_ok(auth_client.get("/api/v1/likes/videos"), "Liked videos fetched successfully")

    docs = assert_page(data, total=2)
    assert docs == [
        liked_video_body(first, like_first.created_at),
        liked_video_body(second, like_second.created_at),
    ]


def test_liked_videos_hide_videos_unpublished_since(auth_client, user, other_user):
    own_hidden = VideoFactory(owner=user, is_published=False)
    others_hidden = VideoFactory(owner=other_user, is_published=False)
    visible = VideoFactory(owner=other_user)
    for video in (own_hidden, others_hidden, visible):
        LikeFactory(user=user, video=video)

    data = assert_ok(auth_client.get("/api/v1/likes/videos"), "Liked videos fetched successfully")

    assert {doc["id"] for doc in assert_page(data, total=2)} == {
        str(own_hidden.pk),
        str(visible.pk),
    }


def test_liked_videos_empty_and_paginated(auth_client, user):
    data = assert_ok(auth_client.get("/api/v1/likes/videos"), "Liked videos fetched successfully")
    assert assert_page(data, total=0) == []

    for _ in range(3):
        LikeFactory(user=user, video=VideoFactory())
    data = assert_ok(
        auth_client.get("/api/v1/likes/videos", {"limit": 2, "page": 2}),
        "Liked videos fetched successfully",
    )
    assert len(assert_page(data, total=3, page=2, limit=2)) == 1


def test_liked_videos_need_a_token(api_client):
    assert_error(api_client.get("/api/v1/likes/videos"), 401, "Unauthorized request")


def test_liked_videos_bad_limit_is_a_400(auth_client):
    assert_error(
        auth_client.get("/api/v1/likes/videos", {"limit": "ten"}),
        400,
        "'limit' must be a positive integer",
    )


def test_liked_videos_query_budget(auth_client, user, django_assert_num_queries):
    for owner in UserFactory.create_batch(4):
        LikeFactory(user=user, video=VideoFactory(owner=owner))

    # 1 the caller's user row (this request caches its copy), 2 COUNT of the liked videos the
    # caller can see, 3 the page of those videos with their owners and likedAt joined.
    with django_assert_num_queries(3):
        response = auth_client.get("/api/v1/likes/videos")

    assert len(response.json()["data"]["docs"]) == 4


def test_cookie_authenticated_toggle_needs_a_trusted_origin(api_client, user, video):
    """A like is a state change: with the ambient cookie it must come from a trusted origin."""
    api_client.cookies["accessToken"] = tokens_for(user)[0]
    url = f"/api/v1/likes/toggle/v/{video.pk}"

    assert_error(
        api_client.post(url, HTTP_ORIGIN="https://evil.example"),
        403,
        "Cross-site request refused: untrusted Origin",
    )
    assert not Like.objects.exists()

    response = api_client.post(url, HTTP_ORIGIN="http://localhost:3000")
    assert assert_ok(response, ADDED) == {"liked": True, "likesCount": 1}
