"""Small assertions shared by the social tests."""

import datetime

from django.contrib.auth import get_user_model

from social.models import Comment, Like, Subscription
from videos.models import Video


def iso(moment):
    """A datetime as the API writes it: ISO-8601 UTC, milliseconds, ``Z``."""
    return (
        moment.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(timespec="milliseconds")
        + "Z"
    )


def person(user):
    return {
        "id": str(user.pk),
        "username": user.username,
        "fullname": user.fullname,
        "avatar": f"/media/{user.avatar.name}" if user.avatar else "",
    }


def assert_error(response, status, message):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["statusCode"] == status
    assert body["success"] is False
    assert body["data"] is None
    assert body["message"] == message
    return body


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
    """Every denormalised counter equals the rows it counts (the issue's invariant)."""
    for video in Video.objects.all():
        assert video.likes_count == Like.objects.filter(video=video).count(), video
        assert video.comments_count == Comment.objects.filter(video=video).count(), video
    for user in get_user_model().objects.all():
        assert user.subscribers_count == Subscription.objects.filter(channel=user).count(), user
        assert user.subscriptions_count == Subscription.objects.filter(subscriber=user).count(), (
            user
        )
