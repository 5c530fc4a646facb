"""GET / DELETE /user/watch-history and DELETE /user/watch-history/:videoId."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import VideoFactory, WatchHistoryFactory
from tests.videos.conftest import HISTORY, error, iso, video_shape, video_url
from videos.models import WatchHistory

pytestmark = pytest.mark.django_db


def watched(user, video, minutes_ago):
    return WatchHistoryFactory(
        user=user, video=video, watched_at=timezone.now() - timedelta(minutes=minutes_ago)
    )


def entry_url(video):
    return f"{HISTORY}/{video.pk}"


def test_history_lists_watched_videos_most_recent_first(auth_client, user):
    older = watched(user, VideoFactory(), 30)
    newer = watched(user, VideoFactory(), 5)

    response = auth_client.get(HISTORY)

    assert response.status_code == 200
    assert response.json() == {
        "statusCode": 200,
        "data": {
            "docs": [
                {**video_shape(newer.video), "watchedAt": iso(newer.watched_at)},
                {**video_shape(older.video), "watchedAt": iso(older.watched_at)},
            ],
            "totalDocs": 2,
            "limit": 10,
            "page": 1,
            "totalPages": 1,
            "hasNextPage": False,
            "hasPrevPage": False,
        },
        "message": "Watch history fetched",
        "success": True,
    }


def test_empty_history_is_an_empty_page_not_404(auth_client):
    response = auth_client.get(HISTORY)

    assert response.status_code == 200
    assert response.json()["data"]["docs"] == []
    assert response.json()["data"]["totalDocs"] == 0


def test_rewatching_moves_a_video_to_the_top(auth_client, user):
    first = watched(user, VideoFactory(), 30).video
    second = watched(user, VideoFactory(), 5).video

    auth_client.get(video_url(first))
    docs = auth_client.get(HISTORY).json()["data"]["docs"]

    assert [doc["id"] for doc in docs] == [str(first.pk), str(second.pk)]
    assert WatchHistory.objects.filter(user=user).count() == 2


def test_history_hides_videos_the_caller_can_no_longer_see(auth_client, user):
    visible = watched(user, VideoFactory(), 10)
    watched(user, VideoFactory(is_published=False), 5)  # unpublished since by its owner
    own_draft = watched(user, VideoFactory(owner=user, is_published=False), 1)

    docs = auth_client.get(HISTORY).json()["data"]["docs"]

    assert [doc["id"] for doc in docs] == [str(own_draft.video.pk), str(visible.video.pk)]
    assert auth_client.get(HISTORY).json()["data"]["totalDocs"] == 2
    # The hidden row is kept (it reappears if the video is published again).
    assert WatchHistory.objects.filter(user=user).count() == 3


def test_history_shows_only_the_callers_own_entries(auth_client, user, other_user):
    mine = watched(user, VideoFactory(), 5)
    watched(other_user, VideoFactory(), 1)
    watched(other_user, mine.video, 2)

    docs = auth_client.get(HISTORY).json()["data"]["docs"]

    assert [(doc["id"], doc["watchedAt"]) for doc in docs] == [
        (str(mine.video.pk), iso(mine.watched_at))
    ]


def test_staff_sees_only_their_own_history(staff_client, staff_user, user):
    watched(user, VideoFactory(), 5)

    assert staff_client.get(HISTORY).json()["data"]["docs"] == []


def test_history_is_paginated(auth_client, user):
    videos = [watched(user, VideoFactory(), minutes).video for minutes in (1, 2, 3, 4, 5)]

    page = auth_client.get(HISTORY, {"limit": 2, "page": 2}).json()["data"]

    assert [doc["id"] for doc in page["docs"]] == [str(videos[2].pk), str(videos[3].pk)]
    assert (page["totalDocs"], page["totalPages"], page["hasNextPage"]) == (5, 3, True)


def test_bad_page_is_400(auth_client):
    response = auth_client.get(HISTORY, {"page": "first"})

    assert response.status_code == 400
    assert error(response)["message"] == "'page' must be a positive integer"


@pytest.mark.parametrize("method", ["get", "delete"])
def test_anonymous_has_no_history(api_client, user, method):
    watched(user, VideoFactory(), 5)

    response = getattr(api_client, method)(HISTORY)

    assert response.status_code == 401
    assert error(response)["message"] == "Unauthorized request"
    assert WatchHistory.objects.count() == 1


def test_history_runs_a_fixed_number_of_queries(auth_client, user, django_assert_num_queries):
    for minutes in range(5):
        watched(user, VideoFactory(), minutes)

    # 1. the authenticated user, 2. COUNT of visible entries, 3. the page (videos + owners).
    with django_assert_num_queries(3):
        response = auth_client.get(HISTORY, {"limit": 4})
    assert len(response.json()["data"]["docs"]) == 4


# --- Clearing -----------------------------------------------------------------------------------


def test_clearing_removes_all_of_the_callers_entries_only(auth_client, user, other_user):
    watched(user, VideoFactory(), 1)
    watched(user, VideoFactory(is_published=False), 2)  # hidden entries go too
    theirs = watched(other_user, VideoFactory(), 3)

    response = auth_client.delete(HISTORY)

    assert response.status_code == 200
    assert response.json() == {
        "statusCode": 200,
        "data": {"deleted": 2},
        "message": "Watch history cleared",
        "success": True,
    }
    assert list(WatchHistory.objects.all()) == [theirs]


def test_clearing_an_empty_history_is_fine(auth_client):
    response = auth_client.delete(HISTORY)

    assert response.status_code == 200
    assert response.json()["data"] == {"deleted": 0}


def test_removing_one_entry(auth_client, user):
    keep = watched(user, VideoFactory(), 1)
    drop = watched(user, VideoFactory(), 2)

    response = auth_client.delete(entry_url(drop.video))

    assert response.status_code == 200
    assert response.json() == {
        "statusCode": 200,
        "data": {},
        "message": "Video removed from watch history",
        "success": True,
    }
    assert list(WatchHistory.objects.all()) == [keep]


def test_removing_a_video_that_is_not_in_the_history_is_404(auth_client, user, other_user):
    video = VideoFactory()
    theirs = watched(other_user, video, 1)

    response = auth_client.delete(entry_url(video))

    assert response.status_code == 404
    assert error(response)["message"] == "Video not found in watch history"
    assert list(WatchHistory.objects.all()) == [theirs]


def test_removing_an_entry_of_an_invisible_video_is_404(auth_client, user):
    hidden = watched(user, VideoFactory(is_published=False), 1)

    response = auth_client.delete(entry_url(hidden.video))

    assert response.status_code == 404
    assert error(response)["message"] == "Video not found in watch history"
    assert WatchHistory.objects.count() == 1


def test_removing_from_an_unknown_or_malformed_id_is_404(auth_client):
    assert auth_client.delete(f"{HISTORY}/{uuid.uuid4()}").status_code == 404
    assert auth_client.delete(f"{HISTORY}/nope").status_code == 404


def test_anonymous_cannot_remove_an_entry(api_client, user):
    entry = watched(user, VideoFactory(), 1)

    response = api_client.delete(entry_url(entry.video))

    assert response.status_code == 401
    assert WatchHistory.objects.count() == 1


def test_staff_cannot_remove_another_users_entry(staff_client, user):
    entry = watched(user, VideoFactory(), 1)

    response = staff_client.delete(entry_url(entry.video))

    assert response.status_code == 404
    assert WatchHistory.objects.count() == 1
