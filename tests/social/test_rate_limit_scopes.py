"""Which rate limit each social route counts in: toggles in ``toggle``, posting a comment or a
tweet in ``comment``, everything else in ``user`` (signed in) or ``anon``.

Each case lowers only the expected scope to one request a minute: the second request is a 429
exactly when the route counts in that scope."""

import pytest

from tests.conftest import bearer_client
from tests.factories import CommentFactory, TweetFactory, UserFactory, VideoFactory

pytestmark = pytest.mark.django_db

SIGNED_IN = [
    ("get", "comments/{video}", "user"),
    ("post", "comments/{video}", "comment"),
    ("patch", "comments/c/{comment}", "user"),
    ("delete", "comments/c/{comment}", "user"),
    ("get", "comments/c/{comment}/replies", "user"),
    ("patch", "comments/c/{comment}/pin", "toggle"),
    ("patch", "comments/c/{comment}/heart", "toggle"),
    ("post", "likes/toggle/v/{video}", "toggle"),
    ("post", "likes/toggle/c/{comment}", "toggle"),
    ("post", "likes/toggle/t/{tweet}", "toggle"),
    ("get", "likes/videos", "user"),
    ("get", "subscriptions/c/{channel}", "user"),
    ("post", "subscriptions/c/{channel}", "toggle"),
    ("get", "subscriptions/u/{me}", "user"),
    ("post", "tweets", "comment"),
    ("get", "tweets/user/{me}", "user"),
    ("patch", "tweets/{tweet}", "user"),
    ("delete", "tweets/{tweet}", "user"),
    ("get", "user/c/{username}", "user"),
]
ANONYMOUS = [
    ("get", "comments/{video}", "anon"),
    ("get", "comments/c/{comment}/replies", "anon"),
    ("get", "tweets/user/{me}", "anon"),
    ("get", "user/c/{username}", "anon"),
]


@pytest.fixture
def world(user):
    video = VideoFactory(owner=user)
    return {
        "me": user.pk,
        "username": user.username,
        "video": video.pk,
        "comment": CommentFactory(video=video, author=user).pk,
        "tweet": TweetFactory(author=user).pk,
        "channel": UserFactory().pk,
    }


def _two_requests(client, method, path, world):
    url = "/api/v1/" + path.format(**world)
    body = {"content": "Rate-limited words"} if method in ("post", "patch") else None
    return [getattr(client, method)(url, body).status_code for _ in range(2)]


def _only_scope_limited(settings, scope):
    settings.RATE_LIMITS = {
        **dict.fromkeys(settings.RATE_LIMITS, "1000/m"),
        scope: "1/m",
    }


@pytest.mark.parametrize(("method", "path", "scope"), SIGNED_IN)
def test_signed_in_route_counts_in_its_scope(settings, user, world, method, path, scope):
    _only_scope_limited(settings, scope)
    first, second = _two_requests(bearer_client(user), method, path, world)
    assert first in (200, 201)
    assert second == 429


@pytest.mark.parametrize(("method", "path", "scope"), ANONYMOUS)
def test_anonymous_route_counts_in_its_scope(settings, api_client, world, method, path, scope):
    _only_scope_limited(settings, scope)
    assert _two_requests(api_client, method, path, world) == [200, 429]


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [case for case in SIGNED_IN if case[2] != "user"],
)
def test_writes_with_their_own_scope_do_not_spend_the_user_scope(
    settings, user, world, method, path, scope
):
    _only_scope_limited(settings, "user")
    first, second = _two_requests(bearer_client(user), method, path, world)
    assert first in (200, 201)
    assert second != 429
