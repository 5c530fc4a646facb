"""Comment threads: replies (POST /comments/:videoId with parentId), the top-level list, the
replies of a thread (GET /comments/c/:commentId/replies), deletes of threads with exact
counters, and the video owner's pin and heart (PATCH /comments/c/:commentId/pin|heart)."""

import uuid

import pytest
from django.db import IntegrityError, connection, transaction

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

pytestmark = pytest.mark.django_db

PARENT_NOT_FOUND = "No comment with this id on this video"


def comments_url(video):
    return f"/api/v1/comments/{video.pk}"


def replies_url(comment):
    return f"/api/v1/comments/c/{comment.pk}/replies"


def pin_url(comment):
    return f"/api/v1/comments/c/{comment.pk}/pin"


def heart_url(comment):
    return f"/api/v1/comments/c/{comment.pk}/heart"


def comments_count(video):
    return Video.objects.values_list("comments_count", flat=True).get(pk=video.pk)


def replies_count(comment):
    return Comment.objects.values_list("replies_count", flat=True).get(pk=comment.pk)


@pytest.fixture
def video(user):
    """A published video owned by ``user`` (``auth_client``)."""
    return VideoFactory(owner=user)


@pytest.fixture
def hidden_video(user):
    return VideoFactory(owner=user, is_published=False)


@pytest.fixture
def thread(video, other_user):
    """``other_user``'s top-level comment on ``user``'s video."""
    return add_comment(video, author=other_user, content="top")


# --- POST /comments/:videoId with parentId ------------------------------------------------------


def test_reply_to_a_top_level_comment_joins_its_thread(other_client, other_user, thread, video):
    response = other_client.post(comments_url(video), {"content": "reply", "parentId": thread.pk})

    data = assert_ok(response, "Comment added successfully", status=201)
    reply = Comment.objects.get(content="reply")
    assert reply.parent_id == thread.pk
    assert data == comment_body(reply)
    assert (data["parentId"], data["repliesCount"]) == (str(thread.pk), 0)
    assert (data["isPinned"], data["isHearted"]) == (False, False)
    assert replies_count(thread) == 1
    assert comments_count(video) == 2
    assert_counters_match_rows()


def test_a_reply_to_a_reply_joins_the_thread_of_the_comment_replied_to(auth_client, thread, video):
    first = add_comment(video, parent=thread, content="first reply")

    response = auth_client.post(comments_url(video), {"content": "nested", "parentId": first.pk})

    data = assert_ok(response, "Comment added successfully", status=201)
    assert data["parentId"] == str(thread.pk)
    assert Comment.objects.get(content="nested").parent_id == thread.pk
    assert replies_count(first) == 0
    assert replies_count(thread) == 2
    assert comments_count(video) == 3
    assert_counters_match_rows()


def test_a_null_parent_id_is_a_top_level_comment(other_client, video):
    response = other_client.post(
        comments_url(video), {"content": "top", "parentId": None}, format="json"
    )
    data = assert_ok(response, "Comment added successfully", status=201)
    assert data["parentId"] is None
    assert Comment.objects.get().parent_id is None


def test_a_form_can_name_the_parent(other_client, thread, video):
    response = other_client.post(
        comments_url(video), {"content": "reply", "parentId": str(thread.pk)}, format="multipart"
    )
    assert assert_ok(response, "Comment added successfully", status=201)["parentId"] == str(
        thread.pk
    )


@pytest.mark.parametrize(
    "parent_id",
    [
        lambda video: (
            Comment.objects.create(video=VideoFactory(), author=video.owner, content="elsewhere").pk
        ),
        lambda video: str(uuid.uuid4()),
        lambda video: "not-a-uuid",
        lambda video: "",
        lambda video: 5,
        lambda video: True,
        lambda video: [str(Comment.objects.filter(video=video).get().pk)],
    ],
    ids=["other-video", "unknown", "malformed", "empty", "number", "boolean", "list"],
)
def test_a_parent_that_is_not_a_comment_of_the_video_is_a_422(
    other_client, thread, video, parent_id
):
    payload = {"content": "orphan", "parentId": parent_id(video)}
    before = set(Comment.objects.values_list("pk", flat=True))

    response = other_client.post(comments_url(video), payload, format="json")

    body = assert_error(response, 422, "Validation failed")
    assert body["fields"] == {"parentId": [PARENT_NOT_FOUND]}
    assert body["errors"] == [PARENT_NOT_FOUND]
    assert set(Comment.objects.values_list("pk", flat=True)) == before
    assert not Comment.objects.filter(content="orphan").exists()
    assert comments_count(video) == 1
    assert replies_count(thread) == 0


def test_a_reply_on_an_invisible_video_is_a_404_before_the_parent_is_looked_at(
    other_client, hidden_video
):
    hidden_thread = add_comment(hidden_video)
    response = other_client.post(
        comments_url(hidden_video), {"content": "x", "parentId": str(hidden_thread.pk)}
    )
    assert_error(response, 404, "Video not found")
    assert Comment.objects.count() == 1


# --- GET /comments/:videoId: the top-level list -------------------------------------------------


def test_the_list_shows_top_level_comments_pinned_first_then_newest(api_client, video):
    oldest = add_comment(video, content="oldest")
    middle = add_comment(video, content="middle")
    newest = add_comment(video, content="newest")
    for _ in range(2):
        add_comment(video, parent=oldest)
    add_comment(video, parent=newest)
    Comment.objects.filter(pk=middle.pk).update(is_pinned=True, is_hearted=True)

    data = assert_ok(api_client.get(comments_url(video)), "Comments fetched successfully")

    docs = assert_page(data, total=3)
    assert docs == [comment_body(middle), comment_body(newest), comment_body(oldest)]
    assert [(d["isPinned"], d["isHearted"], d["repliesCount"]) for d in docs] == [
        (True, True, 0),
        (False, False, 1),
        (False, False, 2),
    ]
    assert all(doc["parentId"] is None for doc in docs)


def test_total_docs_counts_threads_and_comments_count_counts_replies_too(api_client, video):
    threads = [add_comment(video) for _ in range(3)]
    for parent in (threads[0], threads[0], threads[2]):
        add_comment(video, parent=parent)

    page = assert_ok(
        api_client.get(comments_url(video), {"limit": 2}), "Comments fetched successfully"
    )
    detail = api_client.get(f"/api/v1/videos/{video.pk}").json()["data"]

    assert_page(page, total=3, limit=2)
    assert detail["commentsCount"] == 6


def test_pages_of_threads_do_not_overlap_with_a_pinned_comment(api_client, video):
    comments = [add_comment(video, content=f"c{i}") for i in range(5)]
    Comment.objects.filter(pk=comments[1].pk).update(is_pinned=True)

    pages = [
        assert_page(
            assert_ok(
                api_client.get(comments_url(video), {"page": page, "limit": 2}),
                "Comments fetched successfully",
            ),
            total=5,
            page=page,
            limit=2,
        )
        for page in (1, 2, 3)
    ]

    contents = [doc["content"] for docs in pages for doc in docs]
    assert contents == ["c1", "c4", "c3", "c2", "c0"]


def test_thread_list_query_budget_does_not_grow_with_replies(
    other_client, other_user, video, django_assert_num_queries
):
    for author in UserFactory.create_batch(3):
        thread = add_comment(video, author=author)
        add_like(other_user, thread)
        for _ in range(2):
            add_like(author, add_comment(video, parent=thread, author=author))
    Comment.objects.filter(video=video, parent__isnull=True).update(is_hearted=True)

    # 1 the caller's user row, 2 one statement: the visible video with the COUNT of its
    # top-level comments, and the page (authors joined, the thread columns read with the row,
    # an isLiked EXISTS).
    with django_assert_num_queries(2):
        response = other_client.get(comments_url(video))

    docs = response.json()["data"]["docs"]
    assert [(d["repliesCount"], d["isLiked"], d["isHearted"]) for d in docs] == [
        (2, True, True)
    ] * 3


# --- GET /comments/c/:commentId/replies ---------------------------------------------------------


def test_replies_are_listed_oldest_first(api_client, thread, video):
    replies = [add_comment(video, parent=thread, content=f"r{i}") for i in range(3)]
    add_comment(video, parent=add_comment(video), content="another thread")
    add_like(UserFactory(), replies[1])
    Comment.objects.filter(pk=replies[2].pk).update(is_hearted=True)

    data = assert_ok(api_client.get(replies_url(thread)), "Replies fetched successfully")

    docs = assert_page(data, total=3)
    assert docs == [
        comment_body(replies[0]),
        comment_body(replies[1], likes=1),
        comment_body(replies[2]),
    ]
    assert {doc["parentId"] for doc in docs} == {str(thread.pk)}
    assert docs[2]["isHearted"] is True


def test_replies_are_paginated(api_client, thread, video):
    replies = [add_comment(video, parent=thread, content=f"r{i}") for i in range(5)]

    data = assert_ok(
        api_client.get(replies_url(thread), {"page": 2, "limit": 2}), "Replies fetched successfully"
    )

    docs = assert_page(data, total=5, page=2, limit=2)
    assert [doc["id"] for doc in docs] == [str(replies[2].pk), str(replies[3].pk)]


def test_the_id_of_a_reply_lists_its_thread(api_client, thread, video):
    replies = [add_comment(video, parent=thread) for _ in range(2)]

    data = assert_ok(api_client.get(replies_url(replies[1])), "Replies fetched successfully")

    assert [doc["id"] for doc in assert_page(data, total=2)] == [str(r.pk) for r in replies]


def test_a_comment_without_replies_has_an_empty_page(api_client, thread):
    data = assert_ok(api_client.get(replies_url(thread)), "Replies fetched successfully")
    assert assert_page(data, total=0) == []


@pytest.mark.parametrize("comment_id", [uuid.uuid4(), "not-a-uuid"], ids=["missing", "malformed"])
def test_replies_of_a_missing_comment_are_a_404(api_client, comment_id):
    response = api_client.get(f"/api/v1/comments/c/{comment_id}/replies")
    assert_error(response, 404, "Comment not found")


@pytest.mark.parametrize("client_name", ["api_client", "other_client", "staff_client"])
def test_replies_on_an_invisible_video_are_a_404(request, hidden_video, client_name):
    hidden_thread = add_comment(hidden_video)
    add_comment(hidden_video, parent=hidden_thread)
    client = request.getfixturevalue(client_name)
    assert_error(client.get(replies_url(hidden_thread)), 404, "Comment not found")


def test_the_owner_reads_replies_on_their_unpublished_video(auth_client, hidden_video):
    hidden_thread = add_comment(hidden_video)
    reply = add_comment(hidden_video, parent=hidden_thread)
    data = assert_ok(auth_client.get(replies_url(hidden_thread)), "Replies fetched successfully")
    assert [doc["id"] for doc in data["docs"]] == [str(reply.pk)]


def test_replies_query_budget(other_client, other_user, thread, video, django_assert_num_queries):
    for author in UserFactory.create_batch(4):
        add_like(other_user, add_comment(video, parent=thread, author=author))

    # 1 the caller's user row, 2 one statement: the visible comment with its thread's
    # repliesCount (the total: no COUNT), and the page of replies with their authors joined and
    # an isLiked EXISTS.
    with django_assert_num_queries(2):
        response = other_client.get(replies_url(thread))

    docs = response.json()["data"]["docs"]
    assert len(docs) == 4
    assert all(doc["isLiked"] and doc["likesCount"] == 1 for doc in docs)


def test_anonymous_replies_query_budget(api_client, thread, video, django_assert_num_queries):
    reply = add_comment(video, parent=thread)
    for _ in range(2):
        add_comment(video, parent=thread)
    # One statement: the visible reply with its thread's repliesCount (a reply's id: the
    # thread joined), and the page of replies with their authors joined.
    with django_assert_num_queries(1):
        response = api_client.get(replies_url(reply))
    assert response.json()["data"]["totalDocs"] == 3


# --- DELETE /comments/c/:commentId: threads -----------------------------------------------------


def test_deleting_a_top_level_comment_deletes_its_replies_and_their_likes(
    other_client, thread, video
):
    replies = [add_comment(video, parent=thread) for _ in range(3)]
    add_like(UserFactory(), replies[0])
    add_like(UserFactory(), thread)
    other_thread = add_comment(video)
    kept = add_comment(video, parent=other_thread)

    assert_ok(
        other_client.delete(f"/api/v1/comments/c/{thread.pk}"), "Comment deleted successfully"
    )

    assert set(Comment.objects.all()) == {other_thread, kept}
    assert not Like.objects.exists()
    assert comments_count(video) == 2
    assert replies_count(other_thread) == 1
    assert_counters_match_rows()


@pytest.mark.parametrize("deleter", ["author", "video owner"])
def test_deleting_a_reply_takes_it_off_its_thread(thread, video, deleter):
    reply = add_comment(video, parent=thread, author=UserFactory())
    kept = add_comment(video, parent=thread)
    add_like(UserFactory(), reply)
    client = bearer_client(reply.author if deleter == "author" else video.owner)

    assert_ok(client.delete(f"/api/v1/comments/c/{reply.pk}"), "Comment deleted successfully")

    assert set(Comment.objects.all()) == {thread, kept}
    assert replies_count(thread) == 1
    assert comments_count(video) == 2
    assert not Like.objects.exists()
    assert_counters_match_rows()


# --- PATCH /comments/c/:commentId/pin -----------------------------------------------------------


def test_the_video_owner_pins_and_unpins_a_comment(auth_client, thread):
    data = assert_ok(auth_client.patch(pin_url(thread)), "Comment pinned successfully")
    assert data == {"isPinned": True}
    assert Comment.objects.get(pk=thread.pk).is_pinned

    data = assert_ok(auth_client.patch(pin_url(thread)), "Comment unpinned successfully")
    assert data == {"isPinned": False}
    assert not Comment.objects.filter(is_pinned=True).exists()


def test_pinning_a_comment_unpins_the_video_s_pinned_one(auth_client, thread, video):
    newer = add_comment(video)
    elsewhere = add_comment(VideoFactory(owner=video.owner))
    Comment.objects.filter(pk__in=[thread.pk, elsewhere.pk]).update(is_pinned=True)

    assert_ok(auth_client.patch(pin_url(newer)), "Comment pinned successfully")

    assert set(Comment.objects.filter(is_pinned=True)) == {newer, elsewhere}
    docs = auth_client.get(comments_url(video)).json()["data"]["docs"]
    assert [(doc["id"], doc["isPinned"]) for doc in docs] == [
        (str(newer.pk), True),
        (str(thread.pk), False),
    ]


def test_a_reply_cannot_be_pinned(auth_client, thread, video):
    reply = add_comment(video, parent=thread)
    body = assert_error(
        auth_client.patch(pin_url(reply)),
        422,
        "A reply cannot be pinned; pin the comment that starts its thread",
    )
    assert "fields" not in body
    assert not Comment.objects.filter(is_pinned=True).exists()


@pytest.mark.parametrize("is_staff", [False, True])
def test_only_the_video_owner_pins(thread, video, is_staff):
    for target in (thread, add_comment(video, parent=thread)):
        client = bearer_client(UserFactory(is_staff=is_staff))
        assert_error(client.patch(pin_url(target)), 403, "You are not allowed to pin this comment")
    # The comment's own author is not the video's owner either.
    assert_error(
        bearer_client(thread.author).patch(pin_url(thread)),
        403,
        "You are not allowed to pin this comment",
    )
    assert not Comment.objects.filter(is_pinned=True).exists()


def test_anonymous_cannot_pin_or_heart(api_client, thread):
    assert_error(api_client.patch(pin_url(thread)), 401, "Unauthorized request")
    assert_error(api_client.patch(heart_url(thread)), 401, "Unauthorized request")
    thread.refresh_from_db()
    assert (thread.is_pinned, thread.is_hearted) == (False, False)


@pytest.mark.parametrize("url", [pin_url, heart_url], ids=["pin", "heart"])
def test_a_missing_or_malformed_comment_is_a_404(auth_client, url):
    class Missing:
        pk = uuid.uuid4()

    class Malformed:
        pk = "not-a-uuid"

    for target in (Missing, Malformed):
        assert_error(auth_client.patch(url(target)), 404, "Comment not found")


@pytest.mark.parametrize("url", [pin_url, heart_url], ids=["pin", "heart"])
def test_a_comment_on_a_video_the_caller_cannot_see_is_a_404(hidden_video, url):
    hidden_thread = add_comment(hidden_video)
    for client in (bearer_client(UserFactory()), bearer_client(UserFactory(is_staff=True))):
        assert_error(client.patch(url(hidden_thread)), 404, "Comment not found")
    # Its owner may: the video is theirs.
    assert bearer_client(hidden_video.owner).patch(url(hidden_thread)).status_code == 200


# --- PATCH /comments/c/:commentId/heart ---------------------------------------------------------


def test_the_video_owner_hearts_a_top_level_comment_and_a_reply(auth_client, thread, video):
    reply = add_comment(video, parent=thread)

    for target in (thread, reply):
        data = assert_ok(auth_client.patch(heart_url(target)), "Comment hearted successfully")
        assert data == {"isHearted": True}
    assert set(Comment.objects.filter(is_hearted=True)) == {thread, reply}
    replies = auth_client.get(replies_url(thread)).json()["data"]["docs"]
    assert [doc["isHearted"] for doc in replies] == [True]

    data = assert_ok(auth_client.patch(heart_url(reply)), "Heart removed successfully")
    assert data == {"isHearted": False}
    assert set(Comment.objects.filter(is_hearted=True)) == {thread}


@pytest.mark.parametrize("is_staff", [False, True])
def test_only_the_video_owner_hearts(thread, is_staff):
    client = bearer_client(UserFactory(is_staff=is_staff))
    assert_error(client.patch(heart_url(thread)), 403, "You are not allowed to heart this comment")
    assert not Comment.objects.filter(is_hearted=True).exists()


# --- The database's own guarantees --------------------------------------------------------------


def test_the_database_refuses_a_second_pinned_comment_on_a_video(video):
    first, second = add_comment(video), add_comment(video)
    Comment.objects.filter(pk=first.pk).update(is_pinned=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Comment.objects.filter(pk=second.pk).update(is_pinned=True)
    # Another video may have its own.
    Comment.objects.filter(pk=add_comment(VideoFactory()).pk).update(is_pinned=True)
    assert Comment.objects.filter(is_pinned=True).count() == 2


def test_the_database_refuses_a_negative_replies_count(thread):
    with pytest.raises(IntegrityError), transaction.atomic():
        Comment.objects.filter(pk=thread.pk).update(replies_count=-1)
    assert replies_count(thread) == 0


def test_a_comment_written_without_the_thread_columns_is_a_top_level_one(video, user):
    """What a worker of the previous release inserts during a deploy: none of the new columns."""
    new_id = uuid.uuid4()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO social_comment (id, video_id, author_id, content, created_at, updated_at)"
            " VALUES (%s, %s, %s, 'from an old worker', now(), now())",
            [new_id, video.pk, user.pk],
        )

    comment = Comment.objects.get(pk=new_id)
    assert (comment.parent_id, comment.replies_count) == (None, 0)
    assert (comment.is_pinned, comment.is_hearted, comment.likes_count) == (False, False, 0)
