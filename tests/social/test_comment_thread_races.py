"""Threads under concurrency, against a live server and a real database: pins of one video at
once leave exactly one pinned comment (and no 500), and replies racing deletes of replies or of
their whole thread leave every counter equal to the rows.

Requests are released together by a ``threading.Barrier`` (``tests.social.helpers.fire``).
Every trial uses fresh users, so no per-user rate limit interferes.
"""

from collections import Counter

import pytest

from social.models import Comment
from tests.factories import UserFactory, VideoFactory
from tests.social.helpers import (
    access_token,
    add_comment,
    assert_counters_match_rows,
    fire,
    fire_same,
)
from videos.models import Video

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
TRIALS = 10


def comments_url(video):
    return f"/api/v1/comments/{video.pk}"


def comment_url(comment, action=""):
    return f"/api/v1/comments/c/{comment.pk}{action}"


def rows_and_counters(video, thread=None):
    """``(comment rows of the video, its comments_count)``, and with ``thread``, ``(its reply
    rows, its replies_count)`` too."""
    counted = Video.objects.values_list("comments_count", flat=True).get(pk=video.pk)
    result = [(Comment.objects.filter(video=video).count(), counted)]
    if thread is not None:
        replies = Comment.objects.values_list("replies_count", flat=True).get(pk=thread.pk)
        result.append((Comment.objects.filter(parent=thread).count(), replies))
    return result


@pytest.mark.parametrize("comments", [2, 5])
def test_pins_of_several_comments_of_one_video_leave_exactly_one_pinned(live_server, comments):
    for _ in range(TRIALS):
        video = VideoFactory()
        targets = [add_comment(video) for _ in range(comments)]
        token = access_token(video.owner)

        results = fire(
            live_server,
            [("PATCH", comment_url(target, "/pin"), token, None) for target in targets],
        )

        # Serialised by the video's row lock: each pin moved the pin, none failed on the unique
        # constraint (a 500) or found it taken.
        assert [status for status, _ in results] == [200] * comments, results
        assert all(body["data"] == {"isPinned": True} for _, body in results), results
        pinned = list(Comment.objects.filter(video=video, is_pinned=True))
        assert len(pinned) == 1
        assert pinned[0] in targets


def test_a_double_click_on_the_heart_ends_where_it_started(live_server):
    for _ in range(TRIALS):
        video = VideoFactory()
        comment = add_comment(video)

        results = fire_same(
            live_server,
            "PATCH",
            comment_url(comment, "/heart"),
            [access_token(video.owner)] * 2,
        )

        assert [status for status, _ in results] == [200, 200], results
        assert Counter(body["data"]["isHearted"] for _, body in results) == {True: 1, False: 1}
        assert not Comment.objects.get(pk=comment.pk).is_hearted


def test_replies_and_deletes_of_replies_at_once_keep_the_counts_exact(live_server):
    for _ in range(TRIALS):
        video = VideoFactory()
        thread = add_comment(video)
        doomed = [add_comment(video, parent=thread, author=UserFactory()) for _ in range(4)]
        requests = [
            (
                "POST",
                comments_url(video),
                access_token(UserFactory()),
                {
                    "content": "reply",
                    "parentId": str(thread.pk),
                },
            )
            for _ in range(6)
        ] + [("DELETE", comment_url(reply), access_token(reply.author), None) for reply in doomed]

        results = fire(live_server, requests)

        assert [status for status, _ in results] == [201] * 6 + [200] * 4, results
        assert rows_and_counters(video, thread) == [(7, 7), (6, 6)]
    assert_counters_match_rows()


def test_replies_racing_the_deletion_of_their_thread_leave_nothing_behind(live_server):
    """A reply that commits first is deleted with the thread; one that comes after finds no
    thread (422). Either way no reply outlives its thread and the video's count is exact."""
    outcomes = Counter()
    for _ in range(TRIALS):
        video = VideoFactory()
        thread = add_comment(video, author=UserFactory())
        for _ in range(2):
            add_comment(video, parent=thread)
        replies = [
            (
                "POST",
                comments_url(video),
                access_token(UserFactory()),
                {
                    "content": "late reply",
                    "parentId": str(thread.pk),
                },
            )
            for _ in range(6)
        ]
        delete = ("DELETE", comment_url(thread), access_token(thread.author), None)

        results = fire(live_server, [*replies[:3], delete, *replies[3:]])

        statuses = [status for status, _ in results]
        assert statuses[3] == 200, results
        assert set(statuses[:3] + statuses[4:]) <= {201, 422}, results
        outcomes.update(statuses)
        assert rows_and_counters(video) == [(0, 0)]
    assert_counters_match_rows()
    # Both orders happened at least once over the trials (else the race was not exercised).
    assert outcomes[201] and outcomes[422], outcomes
