"""GET /videos/:id: visibility, the detail shape, view counting rules, watch history, budget."""

import time
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import bearer_client
from tests.factories import (
    LikeFactory,
    SubscriptionFactory,
    UserFactory,
    VideoFactory,
    WatchHistoryFactory,
)
from tests.videos.conftest import error, video_shape, video_url
from videos.models import Video, WatchHistory

pytestmark = pytest.mark.django_db


def views_of(video):
    return Video.objects.values_list("views", flat=True).get(pk=video.pk)


def test_anonymous_gets_a_published_video_in_the_detail_shape(api_client):
    video = VideoFactory(likes_count=3, comments_count=2)
    video.owner.subscribers_count = 7
    video.owner.save(update_fields=["subscribers_count"])

    response = api_client.get(video_url(video))

    assert response.status_code == 200
    expected = video_shape(video)
    expected["views"] = 1
    expected["user"].update(subscribersCount=7, isSubscribed=False)
    expected.update(likesCount=3, commentsCount=2, isLiked=False)
    assert response.json() == {
        "statusCode": 200,
        "data": expected,
        "message": "Video fetched successfully",
        "success": True,
    }


def test_caller_flags_show_their_like_and_subscription(auth_client, user):
    video = VideoFactory()
    LikeFactory(user=user, video=video)
    SubscriptionFactory(subscriber=user, channel=video.owner)
    # Another user's like and subscription do not count for the caller.
    unrelated = VideoFactory()
    LikeFactory(video=unrelated)
    SubscriptionFactory(channel=unrelated.owner)

    data = auth_client.get(video_url(video)).json()["data"]
    other_data = auth_client.get(video_url(unrelated)).json()["data"]

    assert (data["isLiked"], data["user"]["isSubscribed"]) == (True, True)
    assert (other_data["isLiked"], other_data["user"]["isSubscribed"]) == (False, False)


def test_anonymous_flags_are_false_even_when_others_liked(api_client):
    video = VideoFactory()
    LikeFactory(video=video)
    SubscriptionFactory(channel=video.owner)

    data = api_client.get(video_url(video)).json()["data"]

    assert (data["isLiked"], data["user"]["isSubscribed"]) == (False, False)


# --- Visibility ---------------------------------------------------------------------------------


@pytest.mark.parametrize("client_name", ["api_client", "other_client", "staff_client"])
def test_unpublished_video_is_404_for_everyone_but_its_owner(request, user, client_name):
    video = VideoFactory(owner=user, is_published=False)

    response = request.getfixturevalue(client_name).get(video_url(video))

    assert response.status_code == 404
    assert error(response)["message"] == "Video not found"
    assert views_of(video) == 0
    assert WatchHistory.objects.count() == 0


def test_owner_sees_their_unpublished_video_without_counting_a_view(auth_client, user):
    video = VideoFactory(owner=user, is_published=False)

    response = auth_client.get(video_url(video))

    assert response.status_code == 200
    assert response.json()["data"]["isPublished"] is False
    assert response.json()["data"]["views"] == 0
    assert views_of(video) == 0


def test_unknown_video_is_404(auth_client):
    response = auth_client.get(video_url(uuid.uuid4()))

    assert response.status_code == 404
    assert error(response)["message"] == "Video not found"
    assert WatchHistory.objects.count() == 0


def test_malformed_id_is_404(api_client):
    response = api_client.get("/api/v1/videos/not-a-uuid")

    assert response.status_code == 404
    assert error(response)["statusCode"] == 404


# --- View counting ------------------------------------------------------------------------------


def test_a_view_is_counted_without_touching_updated_at(other_client):
    video = VideoFactory(views=41)
    updated_at = video.updated_at

    response = other_client.get(video_url(video))

    assert response.json()["data"]["views"] == 42
    video.refresh_from_db()
    assert video.views == 42
    assert video.updated_at == updated_at
    assert response.json()["data"]["updatedAt"] == video_shape(video)["updatedAt"]


def test_the_owners_own_views_are_not_counted(auth_client, user):
    video = VideoFactory(owner=user)

    for _ in range(3):
        assert auth_client.get(video_url(video)).json()["data"]["views"] == 0

    assert views_of(video) == 0


def test_repeat_views_by_one_user_count_once(other_client):
    video = VideoFactory()

    answers = [other_client.get(video_url(video)).json()["data"]["views"] for _ in range(3)]

    assert answers == [1, 1, 1]
    assert views_of(video) == 1


def test_different_users_each_count(other_client, staff_client):
    video = VideoFactory()

    other_client.get(video_url(video))
    staff_client.get(video_url(video))
    bearer_client(UserFactory()).get(video_url(video))

    assert views_of(video) == 3


def test_a_user_counts_once_per_video_not_once_overall(other_client):
    first, second = VideoFactory(), VideoFactory()

    other_client.get(video_url(first))
    other_client.get(video_url(second))

    assert (views_of(first), views_of(second)) == (1, 1)


def test_anonymous_views_are_deduplicated_by_client_address(api_client):
    video = VideoFactory()

    api_client.get(video_url(video), REMOTE_ADDR="203.0.113.5")
    api_client.get(video_url(video), REMOTE_ADDR="203.0.113.5")
    api_client.get(video_url(video), REMOTE_ADDR="198.51.100.7")

    assert views_of(video) == 2


def test_a_spoofed_forwarded_for_header_does_not_mint_views(api_client):
    video = VideoFactory()

    for n in range(5):
        api_client.get(
            video_url(video), REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}"
        )

    assert views_of(video) == 1


def test_signed_in_and_anonymous_views_from_one_address_are_different_viewers(
    api_client, other_client
):
    video = VideoFactory()

    api_client.get(video_url(video), REMOTE_ADDR="127.0.0.1")
    other_client.get(video_url(video), REMOTE_ADDR="127.0.0.1")

    assert views_of(video) == 2


def test_a_repeat_view_counts_again_after_the_dedup_window(settings, other_client):
    settings.VIEW_DEDUP_MINUTES = 0.02  # 1.2 seconds
    video = VideoFactory()

    other_client.get(video_url(video))
    other_client.get(video_url(video))
    time.sleep(1.3)
    other_client.get(video_url(video))

    assert views_of(video) == 2


def test_head_answers_without_counting_a_view_or_recording_history(other_client):
    video = VideoFactory()

    response = other_client.head(video_url(video))

    assert response.status_code == 200
    assert views_of(video) == 0
    assert WatchHistory.objects.count() == 0


def test_head_of_an_invisible_video_is_404(other_client, user):
    video = VideoFactory(owner=user, is_published=False)

    assert other_client.head(video_url(video)).status_code == 404


# --- Watch history ------------------------------------------------------------------------------


def test_a_signed_in_viewer_gets_a_watch_history_entry(other_client, other_user):
    video = VideoFactory()

    other_client.get(video_url(video))

    entry = WatchHistory.objects.get()
    assert (entry.user, entry.video) == (other_user, video)


def test_the_owner_gets_a_history_entry_too(auth_client, user):
    video = VideoFactory(owner=user)

    auth_client.get(video_url(video))

    assert WatchHistory.objects.filter(user=user, video=video).count() == 1


def test_anonymous_viewers_get_no_history(api_client):
    api_client.get(video_url(VideoFactory()))

    assert WatchHistory.objects.count() == 0


def test_rewatching_moves_the_entry_forward_without_a_second_row(other_client, other_user):
    video = VideoFactory()
    old = WatchHistoryFactory(user=other_user, video=video)

    other_client.get(video_url(video))

    entry = WatchHistory.objects.get()
    assert entry.pk == old.pk
    assert entry.watched_at > old.watched_at


# --- Query budget -------------------------------------------------------------------------------


def test_detail_runs_a_fixed_number_of_queries(
    auth_client, user, api_client, django_assert_num_queries
):
    video = VideoFactory()
    for _ in range(3):
        LikeFactory(video=video)
        SubscriptionFactory(channel=video.owner)

    # 1. the authenticated user (until its copy is cached), 2. the video with its owner and
    # both Exists flags, with the watch-history upsert and the F() increment in the same
    # statement.
    with django_assert_num_queries(2):
        assert auth_client.get(video_url(video)).status_code == 200

    # A repeat view (not counted): the read and the history upsert.
    with django_assert_num_queries(1):
        assert auth_client.get(video_url(video)).status_code == 200

    # The video with its owner and the F() increment.
    with django_assert_num_queries(1):
        assert api_client.get(video_url(video)).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_signed_in_view_is_written_without_a_transaction_around_it():
    video, viewer = VideoFactory(), UserFactory()
    client = bearer_client(viewer)

    with CaptureQueriesContext(connection) as queries:
        assert client.get(video_url(video)).status_code == 200

    statements = [query["sql"] for query in queries.captured_queries]
    assert not {"BEGIN", "COMMIT"} & set(statements)
    assert sum("ON CONFLICT" in sql for sql in statements) == 1
    assert views_of(video) == 1
    assert WatchHistory.objects.filter(user=viewer, video=video).count() == 1
