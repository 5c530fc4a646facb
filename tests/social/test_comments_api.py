"""Comments: GET|POST /comments/:videoId, PATCH|DELETE /comments/c/:commentId."""

import uuid

import pytest

from social import services
from social.models import Comment, Like
from tests.conftest import bearer_client
from tests.factories import UserFactory, VideoFactory
from tests.social.helpers import (
    add_comment,
    add_like,
    assert_counters_match_rows,
    assert_error,
    assert_ok,
    assert_page,
    comment_body,
)
from videos.models import Video
from viztube import errors

pytestmark = pytest.mark.django_db


def comments_url(video):
    return f"/api/v1/comments/{video.pk}"


def comment_url(comment):
    return f"/api/v1/comments/c/{comment.pk}"


@pytest.fixture
def video(user):
    """A published video owned by ``user``."""
    return VideoFactory(owner=user)


@pytest.fixture
def hidden_video(user):
    """An unpublished video owned by ``user``: invisible to everyone else."""
    return VideoFactory(owner=user, is_published=False)


# --- GET /comments/:videoId -------------------------------------------------------------------


def test_anonymous_lists_comments_newest_first_with_counts(api_client, video, other_user):
    older = add_comment(video, author=other_user, content="first")
    newer = add_comment(video, content="second")
    for liker in UserFactory.create_batch(2):
        add_like(liker, older)

    data = assert_ok(api_client.get(comments_url(video)), "Comments fetched successfully")

    docs = assert_page(data, total=2)
    assert docs == [comment_body(newer), comment_body(older, likes=2)]


def test_signed_in_caller_sees_which_comments_they_like(other_client, other_user, video):
    liked = add_comment(video)
    not_liked = add_comment(video)
    add_like(other_user, liked)
    add_like(UserFactory(), not_liked)

    data = assert_ok(other_client.get(comments_url(video)), "Comments fetched successfully")

    flags = {doc["id"]: (doc["isLiked"], doc["likesCount"]) for doc in data["docs"]}
    assert flags == {str(liked.pk): (True, 1), str(not_liked.pk): (False, 1)}


def test_comment_list_is_paginated(api_client, video):
    comments = [add_comment(video, content=f"c{i}") for i in range(5)]

    data = assert_ok(
        api_client.get(comments_url(video), {"page": 2, "limit": 2}),
        "Comments fetched successfully",
    )

    docs = assert_page(data, total=5, page=2, limit=2)
    assert [doc["content"] for doc in docs] == [comments[2].content, comments[1].content]


@pytest.mark.parametrize("query", [{"page": "0"}, {"limit": "-1"}, {"page": "abc"}])
def test_bad_page_parameters_are_a_400(api_client, video, query):
    body = assert_error(
        api_client.get(comments_url(video), query),
        400,
        f"'{next(iter(query))}' must be a positive integer",
    )
    assert body["errors"]


def test_comments_of_a_missing_video_are_a_404(api_client):
    assert_error(api_client.get(f"/api/v1/comments/{uuid.uuid4()}"), 404, "Video not found")


def test_malformed_video_id_is_the_videos_404(api_client):
    assert_error(api_client.get("/api/v1/comments/not-a-uuid"), 404, "Video not found")


@pytest.mark.parametrize("client_name", ["api_client", "other_client", "staff_client"])
def test_comments_of_someone_elses_unpublished_video_are_a_404(request, hidden_video, client_name):
    add_comment(hidden_video)
    client = request.getfixturevalue(client_name)
    assert_error(client.get(comments_url(hidden_video)), 404, "Video not found")


def test_owner_lists_comments_of_their_unpublished_video(auth_client, hidden_video):
    comment = add_comment(hidden_video, content="visible to the owner")
    data = assert_ok(auth_client.get(comments_url(hidden_video)), "Comments fetched successfully")
    assert [doc["id"] for doc in data["docs"]] == [str(comment.pk)]


def test_comment_list_query_budget(other_client, other_user, video, django_assert_num_queries):
    for author in UserFactory.create_batch(4):
        comment = add_comment(video, author=author)
        add_like(other_user, comment)
        add_like(author, comment)

    # 1 the caller's user row (this request caches its copy), 2 one statement: the video,
    # visible to the caller, with the COUNT of its threads (the total), and the page of comments
    # with their authors joined, likes_count and an isLiked EXISTS.
    with django_assert_num_queries(2):
        response = other_client.get(comments_url(video))

    docs = response.json()["data"]["docs"]
    assert len(docs) == 4
    assert all(doc["likesCount"] == 2 and doc["isLiked"] for doc in docs)


def test_anonymous_comment_list_query_budget(api_client, video, django_assert_num_queries):
    for _ in range(3):
        add_comment(video)
    # One statement: the published video with the COUNT of its threads, and the page of
    # comments with their authors joined (no user row to read; isLiked is a constant false).
    with django_assert_num_queries(1):
        response = api_client.get(comments_url(video))
    assert len(response.json()["data"]["docs"]) == 3


# --- POST /comments/:videoId ------------------------------------------------------------------


def test_add_comment_trims_counts_and_answers_201(other_client, other_user, video):
    response = other_client.post(comments_url(video), {"content": "  Nice video!  "})

    data = assert_ok(response, "Comment added successfully", status=201)
    comment = Comment.objects.get()
    assert comment.content == "Nice video!"
    assert comment.author == other_user
    assert data == comment_body(comment)
    video.refresh_from_db()
    assert video.comments_count == 1
    assert_counters_match_rows()


def test_client_cannot_choose_author_video_or_counts(other_client, other_user, video, user):
    elsewhere = VideoFactory()
    response = other_client.post(
        comments_url(video),
        {
            "content": "hello",
            "userId": str(user.pk),
            "videoId": str(elsewhere.pk),
            "likesCount": 99,
            "id": str(uuid.uuid4()),
        },
    )

    data = assert_ok(response, "Comment added successfully", status=201)
    comment = Comment.objects.get()
    assert (comment.author, comment.video) == (other_user, video)
    assert data["likesCount"] == 0
    assert data["id"] == str(comment.pk)


def test_comment_of_exactly_2000_characters_is_accepted(other_client, video):
    response = other_client.post(comments_url(video), {"content": "x" * 2000})
    assert_ok(response, "Comment added successfully", status=201)
    assert len(Comment.objects.get().content) == 2000


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "Comment cannot be empty"),
        ({"content": ""}, "Comment cannot be empty"),
        ({"content": "   \n\t "}, "Comment cannot be empty"),
        ({"content": None}, "Comment cannot be empty"),
        ({"content": "x" * 2001}, "Comment must be at most 2000 characters"),
        ({"content": "  " + "x" * 2001 + "  "}, "Comment must be at most 2000 characters"),
        ({"content": ["a", "b"]}, "Not a valid string."),
        ({"content": "bad\x00byte"}, "Null characters are not allowed."),
    ],
)
def test_invalid_comment_is_a_422_and_stores_nothing(other_client, video, payload, message):
    body = assert_error(other_client.post(comments_url(video), payload), 422, "Validation failed")

    assert body["fields"] == {"content": [message]}
    assert body["errors"] == [message]
    assert not Comment.objects.exists()
    video.refresh_from_db()
    assert video.comments_count == 0


def test_malformed_json_is_a_400(other_client, video):
    response = other_client.post(comments_url(video), "{bad", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert not Comment.objects.exists()


def test_anonymous_cannot_comment(api_client, video):
    assert_error(
        api_client.post(comments_url(video), {"content": "hi"}), 401, "Unauthorized request"
    )
    assert not Comment.objects.exists()


def test_commenting_on_a_missing_video_is_a_404(other_client):
    response = other_client.post(f"/api/v1/comments/{uuid.uuid4()}", {"content": "hi"})
    assert_error(response, 404, "Video not found")
    assert not Comment.objects.exists()


@pytest.mark.parametrize("client_name", ["other_client", "staff_client"])
def test_commenting_on_someone_elses_unpublished_video_is_a_404(request, hidden_video, client_name):
    client = request.getfixturevalue(client_name)
    assert_error(client.post(comments_url(hidden_video), {"content": "hi"}), 404, "Video not found")
    assert not Comment.objects.exists()
    hidden_video.refresh_from_db()
    assert hidden_video.comments_count == 0


def test_owner_comments_on_their_unpublished_video(auth_client, hidden_video):
    assert_ok(
        auth_client.post(comments_url(hidden_video), {"content": "note"}),
        "Comment added successfully",
        status=201,
    )
    hidden_video.refresh_from_db()
    assert hidden_video.comments_count == 1


# --- PATCH /comments/c/:commentId -------------------------------------------------------------


@pytest.fixture
def comment(video, other_user):
    """``other_user``'s comment on ``user``'s published video."""
    return add_comment(video, author=other_user, content="original")


def test_author_edits_comment(other_client, other_user, comment):
    add_like(other_user, comment)
    add_like(UserFactory(), comment)
    before = comment.updated_at

    response = other_client.patch(comment_url(comment), {"content": "  edited  "})

    data = assert_ok(response, "Comment updated successfully")
    comment.refresh_from_db()
    assert comment.content == "edited"
    assert comment.updated_at > before
    assert data == comment_body(comment, likes=2, liked=True)


def test_edit_ignores_fields_the_client_may_not_set(other_client, other_user, comment, user):
    created_at = comment.created_at
    response = other_client.patch(
        comment_url(comment),
        {
            "content": "edited",
            "userId": str(user.pk),
            "videoId": str(VideoFactory().pk),
            "createdAt": "2000-01-01T00:00:00.000Z",
            "likesCount": 50,
        },
    )

    assert_ok(response, "Comment updated successfully")
    comment.refresh_from_db()
    assert comment.author == other_user
    assert comment.video.owner == user
    assert comment.created_at == created_at
    assert not Like.objects.exists()


@pytest.mark.parametrize("client_name", ["auth_client", "staff_client"])
def test_only_the_author_edits_a_comment(request, comment, client_name):
    # auth_client is the video's owner: owners may delete comments on their video, not edit them.
    client = request.getfixturevalue(client_name)
    response = client.patch(comment_url(comment), {"content": "hijacked"})
    assert_error(response, 403, "You are not allowed to edit this comment")
    comment.refresh_from_db()
    assert comment.content == "original"


def test_anonymous_cannot_edit_a_comment(api_client, comment):
    assert_error(
        api_client.patch(comment_url(comment), {"content": "x"}), 401, "Unauthorized request"
    )
    comment.refresh_from_db()
    assert comment.content == "original"


def test_editing_a_missing_comment_is_a_404(other_client):
    response = other_client.patch(f"/api/v1/comments/c/{uuid.uuid4()}", {"content": "x"})
    assert_error(response, 404, "Comment not found")


def test_comment_on_a_video_unpublished_since_is_a_404_even_for_its_author(
    other_client, comment, video
):
    video.visibility = "private"
    video.save(update_fields=["visibility"])
    assert_error(
        other_client.patch(comment_url(comment), {"content": "x"}), 404, "Comment not found"
    )
    assert_error(other_client.delete(comment_url(comment)), 404, "Comment not found")
    assert Comment.objects.filter(pk=comment.pk, content="original").exists()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "Content is required"),
        ({"content": "  "}, "Content is required"),
        ({"content": "y" * 2001}, "Comment must be at most 2000 characters"),
    ],
)
def test_invalid_edit_is_a_422_and_changes_nothing(other_client, comment, payload, message):
    body = assert_error(other_client.patch(comment_url(comment), payload), 422, "Validation failed")
    assert body["fields"] == {"content": [message]}
    comment.refresh_from_db()
    assert comment.content == "original"


# --- DELETE /comments/c/:commentId ------------------------------------------------------------


def test_author_deletes_comment_and_its_likes(other_client, other_user, comment, video):
    add_like(other_user, comment)
    kept = add_comment(video)

    data = assert_ok(other_client.delete(comment_url(comment)), "Comment deleted successfully")

    assert data == {}
    assert list(Comment.objects.all()) == [kept]
    assert not Like.objects.exists()
    video.refresh_from_db()
    assert video.comments_count == 1
    assert_counters_match_rows()


def test_video_owner_deletes_a_comment_on_their_video(auth_client, comment, video):
    assert_ok(auth_client.delete(comment_url(comment)), "Comment deleted successfully")
    assert not Comment.objects.exists()
    video.refresh_from_db()
    assert video.comments_count == 0


def test_owner_of_an_unpublished_video_moderates_its_comments(
    auth_client, hidden_video, other_user
):
    comment = add_comment(hidden_video, author=other_user)
    assert_ok(auth_client.delete(comment_url(comment)), "Comment deleted successfully")
    assert not Comment.objects.exists()


@pytest.mark.parametrize("is_staff", [False, True])
def test_others_cannot_delete_a_comment(comment, video, is_staff):
    client = bearer_client(UserFactory(is_staff=is_staff))
    assert_error(
        client.delete(comment_url(comment)), 403, "You are not allowed to delete this comment"
    )
    assert Comment.objects.filter(pk=comment.pk).exists()
    video.refresh_from_db()
    assert video.comments_count == 1


def test_anonymous_cannot_delete_a_comment(api_client, comment):
    assert_error(api_client.delete(comment_url(comment)), 401, "Unauthorized request")
    assert Comment.objects.filter(pk=comment.pk).exists()


def test_deleting_a_missing_comment_is_a_404(other_client, comment):
    assert_error(
        other_client.delete(f"/api/v1/comments/c/{uuid.uuid4()}"), 404, "Comment not found"
    )
    assert Comment.objects.filter(pk=comment.pk).exists()


def test_deleting_twice_is_a_404_the_second_time(other_client, comment, video):
    assert_ok(other_client.delete(comment_url(comment)), "Comment deleted successfully")
    assert_error(other_client.delete(comment_url(comment)), 404, "Comment not found")
    video.refresh_from_db()
    assert video.comments_count == 0


def test_trailing_slash_is_accepted(other_client, video):
    response = other_client.post(comments_url(video) + "/", {"content": "slash"})
    assert_ok(response, "Comment added successfully", status=201)


def test_comment_on_a_video_deleted_after_the_visibility_check_is_a_404(monkeypatch, user):
    """The window between the check and the insert: the counter UPDATE finds no row, so the
    service answers 404 instead of inserting a comment whose deferred foreign key would fail at
    COMMIT (a 500)."""
    video = VideoFactory()
    stale = Video.objects.get(pk=video.pk)
    video.delete()
    monkeypatch.setattr(services, "video_get_for_viewer", lambda video_id, viewer: stale)

    with pytest.raises(errors.NotFound, match="Video not found"):
        services.comment_create(video_id=stale.pk, author=user, content="too late")
    assert not Comment.objects.exists()
