"""Regressions found by the schemathesis fuzz (tests/fuzz): content must be a JSON string."""

import pytest

from social.models import Comment, Tweet
from tests.factories import CommentFactory, TweetFactory, VideoFactory


@pytest.mark.django_db
def test_comment_with_a_number_as_content_is_refused(auth_client):
    video = VideoFactory()

    response = auth_client.post(f"/api/v1/comments/{video.id}", {"content": 0}, format="json")

    assert response.status_code == 422
    assert response.json()["fields"] == {"content": ["Not a valid string."]}
    assert not Comment.objects.exists()


@pytest.mark.django_db
def test_comment_edit_with_a_boolean_as_content_is_refused(auth_client, user):
    comment = CommentFactory(author=user, content="kept")

    response = auth_client.patch(
        f"/api/v1/comments/c/{comment.id}", {"content": True}, format="json"
    )

    assert response.status_code == 422
    comment.refresh_from_db()
    assert comment.content == "kept"


@pytest.mark.django_db
def test_tweet_with_a_number_as_content_is_refused(auth_client, user):
    response = auth_client.post("/api/v1/tweets", {"content": 12}, format="json")
    assert response.status_code == 422
    assert not Tweet.objects.exists()

    tweet = TweetFactory(author=user, content="kept")
    response = auth_client.patch(f"/api/v1/tweets/{tweet.id}", {"content": 1.5}, format="json")
    assert response.status_code == 422
    tweet.refresh_from_db()
    assert tweet.content == "kept"
