"""manage.py recount_counters: rebuilds drifted counters from the rows, set-based."""

import importlib
import io
import uuid

import pytest
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command, load_command_class
from django.db import connection

from ops.deletion import users_delete
from social.models import Comment, Tweet
from tests.conftest import bearer_client
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
User = get_user_model()


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("recount_counters", *args, stdout=out, stderr=err)
    return out.getvalue()


def test_repairs_every_drifted_counter():
    video, quiet_video = VideoFactory(), VideoFactory()
    LikeFactory.create_batch(3, video=video)
    comment = CommentFactory.create_batch(2, video=video)[0]
    LikeFactory.create_batch(2, comment=comment)
    tweet, quiet_tweet = TweetFactory(), TweetFactory()
    LikeFactory(tweet=tweet)
    Tweet.objects.filter(pk=quiet_tweet.pk).update(likes_count=3)
    channel = UserFactory()
    subscriptions = SubscriptionFactory.create_batch(2, channel=channel)
    # Drift in both directions: too low (factories skip counters) and too high.
    Video.objects.filter(pk=quiet_video.pk).update(likes_count=7, comments_count=4)
    User.objects.filter(pk=subscriptions[0].subscriber_id).update(subscriptions_count=5)

    output = run()

    assert_counters_match_rows()
    video.refresh_from_db()
    channel.refresh_from_db()
    assert (video.likes_count, video.comments_count) == (3, 2)
    assert channel.subscribers_count == 2
    assert Comment.objects.get(pk=comment.pk).likes_count == 2
    assert Tweet.objects.get(pk=tweet.pk).likes_count == 1
    assert "Video.likes_count: 2 rows corrected" in output
    assert "Video.comments_count: 2 rows corrected" in output
    assert "Comment.likes_count: 1 row corrected" in output
    assert "Tweet.likes_count: 2 rows corrected" in output
    assert "User.subscribers_count: 1 row corrected" in output
    # Both subscribers were at 0 (the factory) except the one set to 5: all three were wrong.
    assert "User.subscriptions_count: 2 rows corrected" in output
    assert "Done: 10 counters corrected." in output


def test_repairs_a_drifted_replies_count():
    video = VideoFactory()
    thread, quiet = CommentFactory.create_batch(2, video=video)
    replies = CommentFactory.create_batch(3, video=video, parent=thread)
    # Too low on the thread (the factory skips counters), too high on a comment without replies
    # and on a reply (whose count is always 0).
    Comment.objects.filter(pk__in=[quiet.pk, replies[0].pk]).update(replies_count=2)

    output = run()

    assert Comment.objects.get(pk=thread.pk).replies_count == 3
    assert set(Comment.objects.exclude(pk=thread.pk).values_list("replies_count", flat=True)) == {0}
    assert "Comment.replies_count: 3 rows corrected" in output
    assert "Video.comments_count: 1 row corrected" in output  # 5 comments, replies included
    assert Video.objects.get(pk=video.pk).comments_count == 5
    assert_counters_match_rows()


def test_second_run_changes_nothing():
    LikeFactory.create_batch(2, video=VideoFactory())
    run()
    output = run()
    assert "Done: 0 counters corrected." in output
    assert_counters_match_rows()


def test_small_batches_cover_every_row():
    videos = VideoFactory.create_batch(7)
    for video in videos:
        LikeFactory(video=video)
    output = run("--batch-size", "2", "--no-progress")
    assert "Video.likes_count: 7 rows corrected" in output
    assert_counters_match_rows()


def test_queries_do_not_grow_with_rows(django_assert_num_queries):
    for video in VideoFactory.create_batch(40):
        LikeFactory(video=video)
        CommentFactory(video=video)
        TweetFactory()
    # Per table (videos, comments, tweets, users): 1 COUNT for the progress bar; one batch (all
    # rows): SAVEPOINT, SELECT the ids FOR NO KEY UPDATE, one UPDATE per counter, RELEASE; then
    # the empty batch that ends it: SAVEPOINT, SELECT, RELEASE. Videos, comments and users (two
    # counters each): 3 x (1 + 5 + 3) = 27; tweets (one counter): 1 + 4 + 3 = 8; then the
    # published-video catalog row (its SELECT, its UPDATE): 37, whatever the rows.
    with django_assert_num_queries(37):
        run()
    assert_counters_match_rows()


def test_help_explains_the_command():
    parser = load_command_class("ops", "recount_counters").create_parser(
        "manage.py", "recount_counters"
    )
    text = parser.format_help()
    assert "Recompute Video.likes_count" in text
    assert "--batch-size" in text


def test_batch_size_must_be_positive():
    with pytest.raises(CommandError, match="at least 1"):
        run("--batch-size", "0")


def test_deleting_users_through_the_service_keeps_other_counters_exact(auth_client, user):
    """``users_delete`` is what the accounts admin must call: a removed user's likes, comments
    and subscriptions disappear from other people's counters."""
    video = VideoFactory()
    channel, fan = UserFactory(), UserFactory()
    # Someone else's comment and tweet, liked by both (their counters must drop by one).
    comment, tweet = CommentFactory(video=video, author=fan), TweetFactory(author=fan)
    for client in (auth_client, bearer_client(fan)):
        client.post(f"/api/v1/likes/toggle/v/{video.pk}")
        client.post(f"/api/v1/comments/{video.pk}", {"content": "hi"})
        client.post(f"/api/v1/subscriptions/c/{channel.pk}")
        client.post(f"/api/v1/likes/toggle/c/{comment.pk}")
        client.post(f"/api/v1/likes/toggle/t/{tweet.pk}")
    bearer_client(channel).post(f"/api/v1/subscriptions/c/{user.pk}")
    assert Comment.objects.get(pk=comment.pk).likes_count == 2

    users_delete(users=User.objects.filter(pk=user.pk))

    video.refresh_from_db()
    channel.refresh_from_db()
    assert (video.likes_count, video.comments_count) == (1, 2)
    assert Comment.objects.get(pk=comment.pk).likes_count == 1
    assert Tweet.objects.get(pk=tweet.pk).likes_count == 1
    assert (channel.subscribers_count, channel.subscriptions_count) == (1, 0)
    assert not User.objects.filter(pk=user.pk).exists()
    assert_counters_match_rows()


def test_the_migration_that_adds_the_likes_counters_counts_existing_likes():
    migration = importlib.import_module("social.migrations.0003_count_existing_likes")
    liked_comment, quiet_comment = CommentFactory(), CommentFactory()
    LikeFactory.create_batch(3, comment=liked_comment)
    tweet = TweetFactory()
    LikeFactory.create_batch(2, tweet=tweet)
    LikeFactory(video=VideoFactory())  # not theirs

    migration.count_existing_likes(django_apps, schema_editor=None)

    assert Comment.objects.get(pk=liked_comment.pk).likes_count == 3
    assert Comment.objects.get(pk=quiet_comment.pk).likes_count == 0
    assert Tweet.objects.get(pk=tweet.pk).likes_count == 2


def test_a_row_written_without_the_counter_column_starts_at_zero():
    """What a worker of the previous release does during a deploy: no likes_count column."""
    author, new_id = UserFactory(), uuid.uuid4()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO social_tweet (id, author_id, content, created_at, updated_at) "
            "VALUES (%s, %s, 'from an old worker', now(), now())",
            [new_id, author.pk],
        )

    assert Tweet.objects.get(pk=new_id).likes_count == 0
