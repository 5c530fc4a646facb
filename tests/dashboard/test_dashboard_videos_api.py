"""GET /dashboard/videos: the caller's videos, newest first, unpublished included, with counters."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from tests.factories import CommentFactory, LikeFactory, VideoFactory
from tests.playlists.shapes import error, page, success, video_doc
from videos.models import Video

pytestmark = pytest.mark.django_db

URL = "/api/v1/dashboard/videos"
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def made_at(video, days):
    Video.objects.filter(pk=video.pk).update(created_at=T0 + timedelta(days=days))
    video.refresh_from_db()
    return video


@pytest.fixture
def channel(user):
    """Three videos of ``user`` (the middle one unpublished) with likes and comments, created in
    an order unlike their dates; plus another channel's video."""
    middle = made_at(VideoFactory(owner=user, is_published=False, views=5), 2)
    oldest = made_at(VideoFactory(owner=user, views=1), 1)
    newest = made_at(VideoFactory(owner=user, views=9), 3)
    LikeFactory.create_batch(2, video=newest)
    LikeFactory(video=middle)
    CommentFactory.create_batch(3, video=newest)
    LikeFactory(comment=CommentFactory(video=oldest))  # a comment like: not a video like
    VideoFactory(views=100)  # someone else's
    call_command("recount_counters", no_progress=True, stdout=io.StringIO())
    return [Video.objects.get(pk=v.pk) for v in (newest, middle, oldest)]


def doc(video, likes, comments):
    return {**video_doc(video), "likesCount": likes, "commentsCount": comments}


def test_owner_gets_all_their_videos_newest_first_with_counts(auth_client, channel):
    newest, middle, oldest = channel

    response = auth_client.get(URL)

    assert response.status_code == 200
    assert response.json() == success(
        page([doc(newest, 2, 3), doc(middle, 1, 0), doc(oldest, 0, 1)], total=3),
        "Videos fetched",
    )


def test_paginated(auth_client, channel):
    oldest = channel[-1]

    second = auth_client.get(URL, {"page": 2, "limit": 2}).json()["data"]

    assert second == page([doc(oldest, 0, 1)], total=3, limit=2, page_number=2)


@pytest.mark.parametrize("query", [{"page": "0"}, {"limit": "ten"}, {"page": "-3"}])
def test_bad_page_parameters_are_400(auth_client, channel, query):
    response = auth_client.get(URL, query)

    assert response.status_code == 400
    assert response.json()["success"] is False


@pytest.mark.parametrize("client_name", ["other_client", "staff_client"])
def test_other_users_and_staff_see_only_their_own_videos(request, channel, client_name):
    response = request.getfixturevalue(client_name).get(URL)

    assert response.json() == success(page([], total=0), "Videos fetched")


def test_anonymous_is_401(api_client, channel):
    response = api_client.get(URL)

    assert response.status_code == 401
    assert response.json() == error(401, "Unauthorized request")


def test_query_budget(auth_client, channel, django_assert_num_queries):
    # 1 the caller (authentication)  2 COUNT of the caller's videos
    # 3 the page of videos with their owner (counters are columns of the video rows)
    with django_assert_num_queries(3):
        response = auth_client.get(URL)

    assert len(response.json()["data"]["docs"]) == 3
