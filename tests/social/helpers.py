"""Small assertions shared by the social tests, and the race harness: requests released at
once against a live server."""

import http.client
import json
import threading
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.db.models import F

from social.models import Comment, Like, Subscription, Tweet
from tests.conftest import tokens_for
from tests.factories import CommentFactory, LikeFactory
from tests.shapes import assert_error, iso, person  # noqa: F401 (re-exported)
from videos.models import Video


def assert_ok(response, message, status=200):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"statusCode", "data", "message", "success"}
    assert body["statusCode"] == status
    assert body["success"] is True
    assert body["message"] == message
    return body["data"]


def assert_page(data, *, total, page=1, limit=10):
    pages = -(-total // limit)
    assert {k: v for k, v in data.items() if k != "docs"} == {
        "totalDocs": total,
        "limit": limit,
        "page": page,
        "totalPages": pages,
        "hasNextPage": page < pages,
        "hasPrevPage": page > 1,
    }
    return data["docs"]


def assert_counters_match_rows():
    """Every denormalised counter equals the rows it counts (the counters' invariant)."""
    for video in Video.objects.all():
        assert video.likes_count == Like.objects.filter(video=video).count(), video
        assert video.comments_count == Comment.objects.filter(video=video).count(), video
    for comment in Comment.objects.all():
        assert comment.likes_count == Like.objects.filter(comment=comment).count(), comment
        assert comment.replies_count == Comment.objects.filter(parent=comment).count(), comment
    for tweet in Tweet.objects.all():
        assert tweet.likes_count == Like.objects.filter(tweet=tweet).count(), tweet
    for user in get_user_model().objects.all():
        assert user.subscribers_count == Subscription.objects.filter(channel=user).count(), user
        assert user.subscriptions_count == Subscription.objects.filter(subscriber=user).count(), (
            user
        )


def add_comment(video, *, parent=None, **kwargs):
    """A comment as the service leaves it, for read tests: the row and the counters it moves
    (the video's, and with ``parent``, a thread's top-level comment, its thread's)."""
    comment = CommentFactory(video=video, parent=parent, **kwargs)
    Video.objects.filter(pk=video.pk).update(comments_count=F("comments_count") + 1)
    video.refresh_from_db(fields=["comments_count"])
    if parent is not None:
        Comment.objects.filter(pk=parent.pk).update(replies_count=F("replies_count") + 1)
        parent.refresh_from_db(fields=["replies_count"])
    return comment


def add_like(user, target):
    """A like of ``target`` (video, comment or tweet) as the service leaves it: the row and the
    target's counter, for read tests."""
    like = LikeFactory(user=user, **{target._meta.model_name: target})
    type(target).objects.filter(pk=target.pk).update(likes_count=F("likes_count") + 1)
    target.refresh_from_db(fields=["likes_count"])
    return like


def comment_body(comment, *, likes=0, liked=False):
    """The comment shape of ``comment`` as stored now, with the caller's ``liked`` flag."""
    comment.refresh_from_db()
    return {
        "id": str(comment.pk),
        "content": comment.content,
        "videoId": str(comment.video_id),
        "userId": str(comment.author_id),
        "createdAt": iso(comment.created_at),
        "updatedAt": iso(comment.updated_at),
        "user": person(comment.author),
        "likesCount": likes,
        "isLiked": liked,
        "parentId": str(comment.parent_id) if comment.parent_id else None,
        "repliesCount": comment.replies_count,
        "isPinned": comment.is_pinned,
        "isHearted": comment.is_hearted,
    }


def fire(live_server, requests):
    """Send ``(method, path, token, body)`` requests at the same instant; return
    ``[(status, json_body)]`` in the same order."""
    address = urlsplit(live_server.url)
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)

    def send(index, method, path, token, body):
        payload = json.dumps(body).encode() if body is not None else b""
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        try:
            connection.connect()  # connect first, so the barrier releases only the requests
            barrier.wait(timeout=60)
            connection.request(
                method,
                path,
                body=payload,
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/json",
                    "Content-Length": str(len(payload)),
                },
            )
            response = connection.getresponse()
            results[index] = (response.status, json.loads(response.read()))
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i, *r)) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(result is not None for result in results), results
    return results


def fire_same(live_server, method, path, tokens, body=None):
    """One request per token, all with the same method, path and body."""
    return fire(live_server, [(method, path, token, body) for token in tokens])


def access_token(user):
    return tokens_for(user)[0]
