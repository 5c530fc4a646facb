"""Who sees what, cell by cell: public, unlisted, private and scheduled videos, seen by their
owner, another signed-in user and an anonymous caller, on every path that shows videos."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import bearer_client
from tests.factories import (
    LikeFactory,
    PlaylistFactory,
    PlaylistVideoFactory,
    UserFactory,
    VideoFactory,
    WatchHistoryFactory,
)
from tests.videos.conftest import VIDEOS, video_url

KINDS = ("public", "unlisted", "private", "scheduled")
ROLES = ("owner", "other", "anonymous")
# Which callers reach a video by its id (detail, comments, likes, playlists, history).
REACHABLE = {
    "public": {"owner", "other", "anonymous"},
    "unlisted": {"owner", "other", "anonymous"},
    "private": {"owner"},
    "scheduled": {"owner"},
}


def make_video(kind, owner, **fields):
    if kind == "scheduled":
        return VideoFactory(
            owner=owner,
            visibility="private",
            publish_at=timezone.now() + timedelta(days=1),
            title="Scheduled aardvark",
            **fields,
        )
    return VideoFactory(owner=owner, visibility=kind, title=f"{kind.title()} aardvark", **fields)


@pytest.fixture
def world(db):
    owner, other = UserFactory(), UserFactory()
    videos = {kind: make_video(kind, owner) for kind in KINDS}
    clients = {
        "owner": bearer_client(owner),
        "other": bearer_client(other),
        "anonymous": APIClient(),
    }
    return {"owner": owner, "other": other, "videos": videos, "clients": clients}


def listed_ids(client, **params):
    body = client.get(VIDEOS, params).json()["data"]
    return {doc["id"] for doc in body["docs"]}, body["totalDocs"]


@pytest.mark.parametrize("role", ROLES)
def test_lists_and_search_show_public_videos_only_to_everyone_the_owner_included(world, role):
    client, owner = world["clients"][role], world["owner"]
    public = {str(world["videos"]["public"].pk)}

    assert listed_ids(client) == (public, 1)
    assert listed_ids(client, query="aardvark") == (public, 1)
    assert listed_ids(client, userId=str(owner.pk)) == (public, 1)
    assert listed_ids(client, sortBy="views", sortType="asc") == (public, 1)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", KINDS)
def test_detail_and_comments_follow_the_reachable_rule(world, role, kind):
    client, video = world["clients"][role], world["videos"][kind]
    expected = 200 if role in REACHABLE[kind] else 404

    detail = client.get(video_url(video))
    comments = client.get(f"/api/v1/comments/{video.pk}")

    assert (detail.status_code, comments.status_code) == (expected, expected)
    if expected == 200:
        data = detail.json()["data"]
        assert (data["visibility"], data["isPublished"]) == (
            video.visibility,
            video.visibility != "private",
        )
    else:
        assert detail.json()["message"] == "Video not found"


@pytest.mark.parametrize("role", ("owner", "other"))
@pytest.mark.parametrize("kind", KINDS)
def test_liking_and_adding_to_a_playlist_follow_the_reachable_rule(world, role, kind):
    client, video = world["clients"][role], world["videos"][kind]
    user = world[role]
    playlist = PlaylistFactory(owner=user)
    expected = 200 if role in REACHABLE[kind] else 404

    like = client.post(f"/api/v1/likes/toggle/v/{video.pk}")
    add = client.post(f"/api/v1/playlist/{playlist.pk}/{video.pk}")

    assert (like.status_code, add.status_code) == (expected, expected)
    assert user.likes.filter(video=video).exists() == (expected == 200)
    assert playlist.entries.filter(video=video).exists() == (expected == 200)


@pytest.mark.parametrize("kind", KINDS)
def test_anonymous_callers_cannot_like_or_add(world, kind):
    video = world["videos"][kind]
    client = world["clients"]["anonymous"]

    assert client.post(f"/api/v1/likes/toggle/v/{video.pk}").status_code == 401
    assert not video.likes.exists()


@pytest.mark.parametrize("role", ROLES)
def test_inside_another_users_playlist_only_reachable_videos_show(world, role):
    curator = UserFactory()
    playlist = PlaylistFactory(owner=curator)
    for video in world["videos"].values():
        PlaylistVideoFactory(playlist=playlist, video=video)
    client = world["clients"][role]

    detail = client.get(f"/api/v1/playlist/{playlist.pk}").json()["data"]
    listed = client.get(f"/api/v1/playlist/{playlist.pk}/videos").json()["data"]

    expected = {str(world["videos"][kind].pk) for kind in KINDS if role in REACHABLE[kind]}
    assert {video["id"] for video in detail["videos"]} == expected
    assert {video["id"] for video in listed["docs"]} == expected
    assert detail["totalVideos"] == len(expected)


@pytest.mark.parametrize("role", ("owner", "other"))
def test_liked_videos_and_history_show_only_reachable_videos(world, role):
    user, client = world[role], world["clients"][role]
    for video in world["videos"].values():
        LikeFactory(user=user, video=video)
        WatchHistoryFactory(user=user, video=video)

    liked = client.get("/api/v1/likes/videos").json()["data"]["docs"]
    history = client.get("/api/v1/user/watch-history").json()["data"]["docs"]

    expected = {str(world["videos"][kind].pk) for kind in KINDS if role in REACHABLE[kind]}
    assert {doc["id"] for doc in liked} == expected
    assert {doc["id"] for doc in history} == expected


def test_dashboard_counts_public_videos_as_published_and_lists_them_all(world):
    client = world["clients"]["owner"]

    stats = client.get("/api/v1/dashboard/stats").json()["data"]
    videos = client.get("/api/v1/dashboard/videos").json()["data"]

    assert (stats["totalVideos"], stats["publishedVideos"]) == (4, 1)
    assert {doc["visibility"] for doc in videos["docs"]} == {"public", "unlisted", "private"}
    assert videos["totalDocs"] == 4


def test_a_due_scheduled_video_is_served_by_id_before_the_job_runs(world):
    video = world["videos"]["scheduled"]
    # Its time has come, the periodic job has not run yet.
    type(video).objects.filter(pk=video.pk).update(publish_at=timezone.now() - timedelta(seconds=1))

    for role in ROLES:
        assert world["clients"][role].get(video_url(video)).status_code == 200
    # Lists catch up when the job flips it (tests/videos/test_scheduling.py).
    assert listed_ids(world["clients"]["other"])[1] == 1
