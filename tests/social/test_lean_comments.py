"""GET /comments/:videoId and GET /comments/c/:commentId/replies on their lean path (one
statement each, social.lean) answer byte for byte what the serializer path
(CommentOutputSerializer) answers for the same rows, on every page."""

import datetime

import pytest

import social.views
from social.models import Comment
from tests.conftest import bearer_client
from tests.factories import UserFactory, VideoFactory
from tests.lean import assert_same_answer
from tests.social.helpers import add_comment, add_like

pytestmark = pytest.mark.django_db

EDGE_MOMENT = datetime.datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=datetime.UTC)


def same(monkeypatch, client, path):
    return assert_same_answer(monkeypatch, social.views, lambda: client.get(path))


@pytest.fixture
def viewer():
    return UserFactory()


@pytest.fixture
def busy_video(viewer):
    """A video with 7 threads (one pinned, one hearted, some liked by ``viewer``), the second
    oldest with 5 replies, and comments on another video that must not show."""
    video = VideoFactory()
    threads = [add_comment(video, content=f"thread {n}") for n in range(7)]
    for reply in range(5):
        add_comment(video, parent=threads[1], content=f"reply {reply}")
    Comment.objects.filter(pk=threads[2].pk).update(is_pinned=True)
    Comment.objects.filter(pk=threads[4].pk).update(is_hearted=True)
    for comment in (threads[0], threads[2], *Comment.objects.filter(parent=threads[1])[:2]):
        add_like(viewer, comment)
        add_like(UserFactory(), comment)
    add_comment(VideoFactory(), content="elsewhere")
    return video


QUERIES = ["", "?limit=3", "?limit=3&page=2", "?limit=3&page=3", "?page=9", "?limit=500"]


@pytest.mark.parametrize("query", QUERIES)
def test_comment_pages_signed_in_and_anonymous(monkeypatch, viewer, api_client, busy_video, query):
    path = f"/api/v1/comments/{busy_video.pk}{query}"
    signed_in = same(monkeypatch, bearer_client(viewer), path)
    anonymous = same(monkeypatch, api_client, path)
    assert signed_in.status_code == anonymous.status_code == 200
    assert signed_in.json()["data"]["totalDocs"] == 7


def test_the_pinned_thread_comes_first_and_likes_are_the_callers(monkeypatch, viewer, busy_video):
    docs = same(monkeypatch, bearer_client(viewer), f"/api/v1/comments/{busy_video.pk}")
    docs = docs.json()["data"]["docs"]
    assert docs[0]["content"] == "thread 2" and docs[0]["isPinned"] is True
    assert [d["content"] for d in docs[1:]] == [f"thread {n}" for n in (6, 5, 4, 3, 1, 0)]
    assert {d["content"] for d in docs if d["isLiked"]} == {"thread 0", "thread 2"}


@pytest.mark.parametrize("query", ["", "?limit=2", "?limit=2&page=3", "?page=2"])
def test_reply_pages_by_the_thread_and_by_a_reply(
    monkeypatch, viewer, api_client, busy_video, query
):
    thread = Comment.objects.get(content="thread 1")
    reply = Comment.objects.filter(parent=thread).last()
    for comment in (thread, reply):
        path = f"/api/v1/comments/c/{comment.pk}/replies{query}"
        signed_in = same(monkeypatch, bearer_client(viewer), path)
        assert signed_in.json()["data"]["totalDocs"] == 5
        same(monkeypatch, api_client, path)


def test_a_thread_without_replies(monkeypatch, api_client, busy_video):
    thread = Comment.objects.get(content="thread 0")
    response = same(monkeypatch, api_client, f"/api/v1/comments/c/{thread.pk}/replies")
    assert response.json()["data"]["docs"] == []


def test_a_video_without_comments(monkeypatch, viewer):
    video = VideoFactory()
    response = same(monkeypatch, bearer_client(viewer), f"/api/v1/comments/{video.pk}")
    assert response.json()["data"]["totalDocs"] == 0


@pytest.mark.parametrize("query", ["", "?page=0", "?limit=x"])
def test_hidden_missing_and_bad_queries_answer_in_the_same_order(monkeypatch, viewer, query):
    hidden = VideoFactory(is_published=False)
    thread = add_comment(hidden)
    client = bearer_client(viewer)
    paths = [
        f"/api/v1/comments/{hidden.pk}{query}",
        f"/api/v1/comments/c/{thread.pk}/replies{query}",
        f"/api/v1/comments/0197bccc-4c1e-7564-9727-6dd4d7d48191{query}",
        f"/api/v1/comments/not-an-id/replies{query}",
    ]
    for path in paths:
        assert same(monkeypatch, client, path).status_code == 404
    # The owner sees them: a bad query is then a 400.
    owner = bearer_client(hidden.owner)
    expected = 200 if not query else 400
    assert same(monkeypatch, owner, f"/api/v1/comments/{hidden.pk}{query}").status_code == expected


def test_edge_values(monkeypatch, viewer):
    video = VideoFactory()
    author = UserFactory(fullname='Ünïcödé \u2029 "quoted" \\ 😀', avatar="")
    comment = add_comment(video, author=author, content="<script>😀</script>\u2028\ttab")
    Comment.objects.filter(pk=comment.pk).update(created_at=EDGE_MOMENT, updated_at=EDGE_MOMENT)
    data = same(monkeypatch, bearer_client(viewer), f"/api/v1/comments/{video.pk}").json()["data"]
    assert data["docs"][0]["createdAt"] == "2025-12-31T23:59:59.999Z"
    assert data["docs"][0]["user"]["avatar"] == ""
