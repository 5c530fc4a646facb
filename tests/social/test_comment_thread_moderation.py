"""Threads through the deletes that cascade (ops.deletion: staff, a user's deletion, a video's)
and in the admin: replies go with their thread, every counter stays exact, and the comment
changelist shows the threads."""

import pytest
from django.contrib.auth import get_user_model

from ops import deletion
from social.models import Comment, Like
from tests.factories import UserFactory, VideoFactory
from tests.social.helpers import add_comment, add_like, assert_counters_match_rows
from videos.models import Video

pytestmark = pytest.mark.django_db
User = get_user_model()


def replies_count(comment):
    return Comment.objects.values_list("replies_count", flat=True).get(pk=comment.pk)


def comments_count(video):
    return Video.objects.values_list("comments_count", flat=True).get(pk=video.pk)


# --- Staff deletes (ops.deletion.comments_delete, the admin's) ----------------------------------


def test_staff_delete_threads_and_replies_of_other_threads_at_once():
    video, other_video = VideoFactory(), VideoFactory()
    doomed_thread = add_comment(video)
    doomed_replies = [add_comment(video, parent=doomed_thread) for _ in range(2)]
    survivor = add_comment(video)
    lost_reply, kept_reply = (add_comment(video, parent=survivor) for _ in range(2))
    elsewhere = add_comment(other_video)
    elsewhere_reply = add_comment(other_video, parent=elsewhere)
    for comment in (doomed_replies[0], lost_reply, elsewhere_reply):
        add_like(UserFactory(), comment)

    deleted = deletion.comments_delete(
        comments=Comment.objects.filter(
            pk__in=[doomed_thread.pk, doomed_replies[1].pk, lost_reply.pk, elsewhere_reply.pk]
        )
    )

    # The thread with both its replies (one also named), a reply of each other thread.
    assert deleted == 5
    assert set(Comment.objects.all()) == {survivor, kept_reply, elsewhere}
    assert not Like.objects.exists()
    assert (comments_count(video), comments_count(other_video)) == (2, 1)
    assert (replies_count(survivor), replies_count(elsewhere)) == (1, 0)
    assert_counters_match_rows()


def test_staff_delete_of_nothing_deletes_nothing():
    assert deletion.comments_delete(comments=Comment.objects.none()) == 0


# --- A user's deletion --------------------------------------------------------------------------


def test_deleting_a_user_takes_their_replies_off_other_people_s_threads():
    leaving = UserFactory()
    video = VideoFactory()
    thread = add_comment(video)
    add_comment(video, parent=thread, author=leaving)
    kept = add_comment(video, parent=thread)
    second = add_comment(VideoFactory())
    add_comment(second.video, parent=second, author=leaving)

    deletion.users_delete(users=User.objects.filter(pk=leaving.pk))

    assert set(Comment.objects.filter(parent__isnull=False)) == {kept}
    assert (replies_count(thread), replies_count(second)) == (1, 0)
    assert comments_count(video) == 2
    assert_counters_match_rows()


def test_deleting_a_user_deletes_other_people_s_replies_in_their_threads():
    leaving, replier = UserFactory(), UserFactory()
    video = VideoFactory()
    their_thread = add_comment(video, author=leaving)
    others = [add_comment(video, parent=their_thread, author=replier) for _ in range(2)]
    add_like(UserFactory(), others[0])
    another = add_comment(video, author=replier)
    add_comment(video, parent=another, author=leaving)

    deletion.users_delete(users=User.objects.filter(pk=leaving.pk))

    assert list(Comment.objects.all()) == [another]
    assert replies_count(another) == 0
    assert comments_count(video) == 1
    assert not Like.objects.exists()
    assert User.objects.filter(pk=replier.pk).exists()
    assert_counters_match_rows()


# --- A video's deletion -------------------------------------------------------------------------


def test_deleting_videos_deletes_their_threads():
    owner = UserFactory()
    video, kept_video = VideoFactory(owner=owner), VideoFactory()
    thread = add_comment(video)
    add_like(UserFactory(), add_comment(video, parent=thread))
    Comment.objects.filter(pk=thread.pk).update(is_pinned=True)
    kept = add_comment(kept_video, parent=add_comment(kept_video))

    deletion.video_delete(video_id=video.pk, actor=owner)

    assert not Comment.objects.filter(video_id=video.pk).exists()
    assert Comment.objects.filter(pk=kept.pk).exists()
    assert not Like.objects.exists()
    assert_counters_match_rows()


# --- Admin --------------------------------------------------------------------------------------


@pytest.fixture
def threads():
    video = VideoFactory(title="Threads")
    top = add_comment(video, content="the top-level comment")
    replies = [add_comment(video, parent=top, content=f"reply {i}") for i in range(3)]
    lone = add_comment(video, content="a lone comment")
    Comment.objects.filter(pk=top.pk).update(is_pinned=True)
    Comment.objects.filter(pk=replies[0].pk).update(is_hearted=True)
    return top, replies, lone


def test_the_changelist_shows_threads_without_a_query_per_row(
    admin_client, threads, django_assert_num_queries
):
    top, replies, _ = threads

    # As for every comment page: 1 session, 2 admin user, 3 COUNT filtered, 4 COUNT total, 5 the
    # page, with each reply's top-level comment joined like its author and video.
    with django_assert_num_queries(5):
        response = admin_client.get("/admin/social/comment/")

    assert response.status_code == 200
    content = response.content.decode()
    for header in ("Reply to", "Replies", "Is pinned", "Is hearted"):
        assert f">{header}</" in content, header
    # Each reply links to its thread's comment; the thread links to the changelist of its replies.
    assert content.count(f'href="/admin/social/comment/{top.pk}/change/"') >= len(replies)
    assert f'href="/admin/social/comment/?parent__id__exact={top.pk}">3</a>' in content
    assert content.count('src="/static/admin/img/icon-yes.svg"') == 2  # the pin, the heart


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"level": "top"}, lambda top, replies, lone: {top, lone}),
        ({"level": "reply"}, lambda top, replies, lone: set(replies)),
        ({"is_pinned__exact": "1"}, lambda top, replies, lone: {top}),
        ({"is_hearted__exact": "1"}, lambda top, replies, lone: {replies[0]}),
        ({"parent__id__exact": "{top}"}, lambda top, replies, lone: set(replies)),
    ],
    ids=["top-level", "replies", "pinned", "hearted", "one-thread"],
)
def test_the_changelist_filters_threads(admin_client, threads, query, expected):
    top = threads[0]
    query = {key: value.format(top=top.pk) for key, value in query.items()}

    response = admin_client.get("/admin/social/comment/", query)

    assert response.status_code == 200
    assert set(response.context["cl"].result_list) == expected(*threads)


def test_a_reply_s_page_names_its_thread(admin_client, threads):
    top, replies, _ = threads
    content = admin_client.get(f"/admin/social/comment/{replies[0].pk}/change/").content.decode()
    assert f'href="/admin/social/comment/{top.pk}/change/"' in content


def test_deleting_a_thread_in_the_admin_deletes_its_replies_and_keeps_counters(
    admin_client, threads
):
    top, _, lone = threads

    response = admin_client.post(f"/admin/social/comment/{top.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert list(Comment.objects.all()) == [lone]
    assert comments_count(lone.video) == 1
    assert_counters_match_rows()


def test_bulk_deleting_replies_in_the_admin_keeps_the_thread_s_count(admin_client, threads):
    top, replies, lone = threads

    response = admin_client.post(
        "/admin/social/comment/",
        {
            "action": "delete_selected",
            "_selected_action": [str(replies[0].pk), str(replies[1].pk)],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert set(Comment.objects.all()) == {top, replies[2], lone}
    assert replies_count(top) == 1
    assert_counters_match_rows()
