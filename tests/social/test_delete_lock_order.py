"""Deletions and toggles take their row locks in one order (social.services, "Lock order"): a
user deletion (or a staff deletion of comments) paused just before its first DELETE, with all its
locks held, races each other writer that removes the same likes or replies in a thread it
deletes; none may deadlock or fail (a reply to a thread deleted first is refused, as it must
be), and the counters stay exact."""

import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from ops import deletion
from ops.deletion import video_delete
from social import services
from social.models import Comment, Like, Tweet
from tests.factories import CommentFactory, TweetFactory, UserFactory, VideoFactory
from tests.social.helpers import add_like, assert_counters_match_rows
from videos.models import Video

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
User = get_user_model()
PAUSE_SECONDS = 1.5  # longer than PostgreSQL's deadlock_timeout (1 s): a cycle would be found


def _run(name, work, results, pause_before_first_delete=False):
    paused = results[f"{name} paused"]

    def hold_the_first_delete(execute, sql, params, many, context):
        # A like toggle deletes inside a WITH statement (social.services): any DELETE counts.
        if pause_before_first_delete and not paused.is_set() and "DELETE FROM" in sql:
            paused.set()
            time.sleep(PAUSE_SECONDS)
        return execute(sql, params, many, context)

    try:
        with connection.execute_wrapper(hold_the_first_delete):
            results[name] = work()
    except Exception as exc:  # any failure is the finding
        results[name] = exc
    finally:
        connection.close()


def race(first, second):
    """Run ``first`` until its first DELETE, start ``second``, let both finish; their failures."""
    results = {"first paused": threading.Event(), "second paused": threading.Event()}
    one = threading.Thread(target=_run, args=("first", first, results, True))
    one.start()
    assert results["first paused"].wait(20)
    two = threading.Thread(target=_run, args=("second", second, results))
    two.start()
    one.join(60)
    two.join(60)
    return {key: repr(value) for key, value in results.items() if isinstance(value, Exception)}


def liked_comment():
    """A comment on someone's video, liked by one user; returns (video owner, liker, author,
    comment)."""
    owner, liker, author = UserFactory(), UserFactory(), UserFactory()
    comment = CommentFactory(video=VideoFactory(owner=owner), author=author)
    add_like(liker, comment)
    return owner, liker, author, comment


def delete_users(*users):
    return lambda: deletion.users_delete(users=User.objects.filter(pk__in=[u.pk for u in users]))


def staff_delete_comment(comment):
    return lambda: deletion.comments_delete(comments=Comment.objects.filter(pk=comment.pk))


def test_deleting_a_liker_and_the_comment_s_author_at_once():
    _, liker, author, _ = liked_comment()

    assert race(delete_users(liker), delete_users(author)) == {}
    assert not User.objects.filter(pk__in=[liker.pk, author.pk]).exists()
    assert_counters_match_rows()


def test_deleting_a_liker_while_staff_delete_the_comment():
    _, liker, _, comment = liked_comment()
    assert race(delete_users(liker), staff_delete_comment(comment)) == {}
    assert not Comment.objects.filter(pk=comment.pk).exists()
    assert_counters_match_rows()


def test_deleting_a_liker_while_the_owner_deletes_the_video():
    owner, liker, _, comment = liked_comment()

    assert (
        race(delete_users(liker), lambda: video_delete(video_id=comment.video_id, actor=owner))
        == {}
    )
    assert not Comment.objects.filter(pk=comment.pk).exists()
    assert_counters_match_rows()


def test_deleting_a_liker_while_staff_delete_the_tweet():
    liker, tweet = UserFactory(), TweetFactory()
    add_like(liker, tweet)

    assert (
        race(
            delete_users(liker),
            lambda: deletion.tweets_delete(tweets=Tweet.objects.filter(pk=tweet.pk)),
        )
        == {}
    )
    assert not Tweet.objects.filter(pk=tweet.pk).exists()
    assert_counters_match_rows()


def test_a_like_toggle_while_staff_delete_the_comment():
    _, _, _, comment = liked_comment()
    fan = UserFactory()

    # The toggle holds the comment until it commits; the delete waits, then removes both likes.
    failures = race(
        lambda: services.comment_like_toggle(comment_id=comment.pk, user=fan),
        staff_delete_comment(comment),
    )

    assert failures == {}
    assert not Like.objects.filter(comment_id=comment.pk).exists()
    assert_counters_match_rows()


def replied_thread():
    """A thread on someone's video with one reply; returns (thread, reply)."""
    thread = CommentFactory(video=VideoFactory(), author=UserFactory())
    reply = CommentFactory(video=thread.video, parent=thread)
    Comment.objects.filter(pk=thread.pk).update(replies_count=1)
    Video.objects.filter(pk=thread.video_id).update(comments_count=2)
    return thread, reply


def reply_to(thread):
    author = UserFactory()
    return lambda: services.comment_create(
        video_id=thread.video_id, author=author, content="late", parent_id=thread.pk
    )


@pytest.mark.parametrize(
    "delete_thread",
    [staff_delete_comment, lambda thread: delete_users(thread.author)],
    ids=["staff", "deleting its author"],
)
def test_a_reply_while_its_thread_is_deleted(delete_thread):
    """The reply waits for the video's lock, then finds no thread: a 422, nothing left over."""
    thread, _ = replied_thread()

    failures = race(delete_thread(thread), reply_to(thread))

    assert failures.keys() == {"second"}
    assert "InvalidInput" in failures["second"]
    assert not Comment.objects.filter(video_id=thread.video_id).exists()
    assert_counters_match_rows()


def test_deleting_a_replier_while_another_user_replies_in_the_thread():
    thread, reply = replied_thread()

    assert race(delete_users(reply.author), reply_to(thread)) == {}
    assert Comment.objects.filter(parent=thread).count() == 1
    assert_counters_match_rows()
