"""The services and selectors of ``social`` refuse with the domain errors of ``viztube.errors``
(never DRF's exceptions), so a command, a task or the admin can call them as a view does."""

import uuid

import pytest
from rest_framework.exceptions import APIException

from social import selectors, services
from tests.factories import CommentFactory, TweetFactory, UserFactory, VideoFactory
from viztube import errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    author, stranger = UserFactory(), UserFactory()
    video = VideoFactory(owner=author)
    return {
        "author": author,
        "stranger": stranger,
        "hidden_video": VideoFactory(owner=author, is_published=False),
        "comment": CommentFactory(video=video, author=author),
        "tweet": TweetFactory(author=author),
    }


CASES = {
    "comments of a missing video": (
        lambda w: selectors.comment_list_for_video(video_id=uuid.uuid4(), viewer=w["stranger"]),
        errors.NotFound,
        "Video not found",
    ),
    "comments of someone else's unpublished video": (
        lambda w: selectors.comment_list_for_video(
            video_id=w["hidden_video"].pk, viewer=w["stranger"]
        ),
        errors.NotFound,
        "Video not found",
    ),
    "tweets of a missing user": (
        lambda w: selectors.tweet_list_for_user(user_id=uuid.uuid4(), viewer=w["stranger"]),
        errors.NotFound,
        "User not found",
    ),
    "subscribers of a missing channel": (
        lambda w: selectors.subscriber_list(channel_id=uuid.uuid4()),
        errors.NotFound,
        "User not found",
    ),
    "channels of a missing subscriber": (
        lambda w: selectors.subscribed_channel_list(subscriber_id=uuid.uuid4()),
        errors.NotFound,
        "User not found",
    ),
    "a missing channel profile": (
        lambda w: selectors.channel_profile_get(username="nobody", viewer=w["stranger"]),
        errors.NotFound,
        "Channel not found",
    ),
    "editing someone else's comment": (
        lambda w: services.comment_update(
            comment_id=w["comment"].pk, user=w["stranger"], content="mine now"
        ),
        errors.NotAllowed,
        "You are not allowed to edit this comment",
    ),
    "deleting someone else's comment": (
        lambda w: services.comment_delete(comment_id=w["comment"].pk, user=w["stranger"]),
        errors.NotAllowed,
        "You are not allowed to delete this comment",
    ),
    "editing someone else's tweet": (
        lambda w: services.tweet_update(
            tweet_id=w["tweet"].pk, user=w["stranger"], content="mine now"
        ),
        errors.NotAllowed,
        "You are not allowed to edit this tweet",
    ),
    "deleting someone else's tweet": (
        lambda w: services.tweet_delete(tweet_id=w["tweet"].pk, user=w["stranger"]),
        errors.NotAllowed,
        "You are not allowed to delete this tweet",
    ),
    "liking a missing video": (
        lambda w: services.video_like_toggle(video_id=uuid.uuid4(), user=w["stranger"]),
        errors.NotFound,
        "Video not found",
    ),
    "liking a missing comment": (
        lambda w: services.comment_like_toggle(comment_id=uuid.uuid4(), user=w["stranger"]),
        errors.NotFound,
        "Comment not found",
    ),
    "liking a missing tweet": (
        lambda w: services.tweet_like_toggle(tweet_id=uuid.uuid4(), user=w["stranger"]),
        errors.NotFound,
        "Tweet not found",
    ),
    "subscribing to oneself": (
        lambda w: services.subscription_toggle(
            subscriber=w["stranger"], channel_id=w["stranger"].pk
        ),
        errors.InvalidRequest,
        "You cannot subscribe to your own channel",
    ),
    "subscribing to a missing channel": (
        lambda w: services.subscription_toggle(subscriber=w["stranger"], channel_id=uuid.uuid4()),
        errors.NotFound,
        "Channel not found",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_refusals_are_domain_errors(world, case):
    call, error_class, message = case
    with pytest.raises(error_class) as caught:
        call(world)
    assert caught.value.message == message
    assert not isinstance(caught.value, APIException)
