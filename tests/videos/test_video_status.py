"""Until a video is ready it is its owner's alone and counted nowhere: processing and failed
videos (of every visibility) seen by their owner, another signed-in user and an anonymous caller,
on every path that shows or counts videos; and the two services that end processing."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import bearer_client
from tests.factories import (
    CommentFactory,
    LikeFactory,
    PlaylistFactory,
    PlaylistVideoFactory,
    SubscriptionFactory,
    UserFactory,
    VideoFactory,
    WatchHistoryFactory,
)
from tests.videos.conftest import VIDEOS, video_url
from videos import services
from videos.models import Video, VideoCatalog, VideoStatus
from viztube.api import page_cache

pytestmark = pytest.mark.django_db

ROLES = ("owner", "other", "anonymous")
# (status, visibility) of each video in the world; "ready" is the control.
KINDS = {
    "ready": ("ready", "public"),
    "processing": ("processing", "public"),
    "failed": ("failed", "public"),
    "processing_unlisted": ("processing", "unlisted"),
    "failed_unlisted": ("failed", "unlisted"),
}
NOT_READY = [kind for kind in KINDS if kind != "ready"]


@pytest.fixture
def world(db):
    owner, other = UserFactory(), UserFactory()
    SubscriptionFactory(subscriber=other, channel=owner)
    videos = {
        kind: VideoFactory(
            owner=owner, status=status, visibility=visibility, title=f"{kind} aardvark"
        )
        for kind, (status, visibility) in KINDS.items()
    }
    clients = {
        "owner": bearer_client(owner),
        "other": bearer_client(other),
        "anonymous": APIClient(),
    }
    return {"owner": owner, "other": other, "videos": videos, "clients": clients}


def ids(docs):
    return {doc["id"] for doc in docs}


def only_ready(world):
    return {str(world["videos"]["ready"].pk)}


@pytest.mark.parametrize("role", ROLES)
def test_lists_search_and_the_owner_filter_show_ready_videos_only(world, role):
    client, owner = world["clients"][role], world["owner"]

    for params in ({}, {"query": "aardvark"}, {"userId": str(owner.pk)}, {"sortBy": "duration"}):
        body = client.get(VIDEOS, params).json()["data"]
        assert (ids(body["docs"]), body["totalDocs"]) == (only_ready(world), 1), params


def test_the_catalog_counts_ready_public_videos_only():
    VideoFactory(status="processing")
    VideoFactory(status="failed")
    VideoFactory(status="ready", visibility="unlisted")
    ready = VideoFactory()

    assert VideoCatalog.objects.get().published_videos == 1
    assert APIClient().get(VIDEOS).json()["data"]["totalDocs"] == 1
    Video.objects.filter(pk=ready.pk).update(status="processing")
    assert VideoCatalog.objects.get().published_videos == 0


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", KINDS)
def test_detail_comments_and_replies_are_the_owners_alone_until_ready(world, role, kind):
    client, video = world["clients"][role], world["videos"][kind]
    comment = CommentFactory(video=video, author=world["owner"])
    expected = 200 if kind == "ready" or role == "owner" else 404

    detail = client.get(video_url(video))
    head = client.head(video_url(video))
    comments = client.get(f"/api/v1/comments/{video.pk}")
    replies = client.get(f"/api/v1/comments/c/{comment.pk}/replies")

    assert (detail.status_code, head.status_code) == (expected, expected)
    assert (comments.status_code, replies.status_code) == (expected, expected)
    if expected == 404:
        assert detail.json()["message"] == "Video not found"
    video.refresh_from_db()
    # Nobody's view of a hidden video counts; a viewer other than the owner counts once.
    assert video.views == (1 if kind == "ready" and role != "owner" else 0)


@pytest.mark.parametrize("role", ("owner", "other"))
@pytest.mark.parametrize("kind", KINDS)
def test_liking_commenting_and_adding_to_a_playlist_need_a_ready_video_unless_yours(
    world, role, kind
):
    client, video, user = world["clients"][role], world["videos"][kind], world[role]
    playlist = PlaylistFactory(owner=user)
    expected = 200 if kind == "ready" or role == "owner" else 404

    like = client.post(f"/api/v1/likes/toggle/v/{video.pk}")
    add = client.post(f"/api/v1/playlist/{playlist.pk}/{video.pk}")
    comment = client.post(f"/api/v1/comments/{video.pk}", {"content": "hi"}, format="json")

    assert (like.status_code, add.status_code) == (expected, expected)
    assert comment.status_code == (201 if expected == 200 else 404)
    assert user.likes.filter(video=video).exists() == (expected == 200)
    assert playlist.entries.filter(video=video).exists() == (expected == 200)
    assert video.comments.exists() == (expected == 200)


@pytest.mark.parametrize("role", ROLES)
def test_inside_another_users_playlist_only_ready_videos_show(world, role):
    playlist = PlaylistFactory(owner=UserFactory())
    for video in world["videos"].values():
        PlaylistVideoFactory(playlist=playlist, video=video)
    client = world["clients"][role]

    detail = client.get(f"/api/v1/playlist/{playlist.pk}").json()["data"]
    listed = client.get(f"/api/v1/playlist/{playlist.pk}/videos").json()["data"]

    expected = set(map(str, (v.pk for v in world["videos"].values())))
    if role != "owner":
        expected = only_ready(world)
    assert ids(detail["videos"]) == expected
    assert ids(listed["docs"]) == expected
    assert detail["totalVideos"] == len(expected)


@pytest.mark.parametrize("role", ("owner", "other"))
def test_liked_videos_and_history_show_not_ready_videos_to_their_owner_only(world, role):
    user, client = world[role], world["clients"][role]
    for video in world["videos"].values():
        LikeFactory(user=user, video=video)
        WatchHistoryFactory(user=user, video=video)

    liked = client.get("/api/v1/likes/videos").json()["data"]["docs"]
    history = client.get("/api/v1/user/watch-history").json()["data"]["docs"]

    expected = (
        set(map(str, (v.pk for v in world["videos"].values())))
        if role == "owner"
        else only_ready(world)
    )
    assert (ids(liked), ids(history)) == (expected, expected)


def test_the_feed_carries_ready_videos_only(world):
    docs = world["clients"]["other"].get("/api/v1/feed", {"type": "video"}).json()["data"]["docs"]

    assert {item["id"] for item in docs} == only_ready(world)


def test_the_dashboard_lists_every_video_and_counts_only_ready_public_ones_as_published(world):
    client = world["clients"]["owner"]

    stats = client.get("/api/v1/dashboard/stats").json()["data"]
    listed = client.get("/api/v1/dashboard/videos").json()["data"]

    assert (stats["totalVideos"], stats["publishedVideos"]) == (len(KINDS), 1)
    assert ids(listed["docs"]) == set(map(str, (v.pk for v in world["videos"].values())))


def test_a_due_schedule_shows_a_not_ready_video_to_nobody_else(world):
    video = VideoFactory(
        owner=world["owner"],
        status="processing",
        visibility="private",
        publish_at=timezone.now() - timedelta(seconds=1),
    )

    assert world["clients"]["other"].get(video_url(video)).status_code == 404
    assert world["clients"]["anonymous"].get(video_url(video)).status_code == 404
    assert world["clients"]["owner"].get(video_url(video)).status_code == 200
    # The periodic job leaves it for video_mark_ready.
    assert services.videos_publish_due() == 0
    video.refresh_from_db()
    assert (video.visibility, video.published_at) == ("private", None)


# --- The database --------------------------------------------------------------------------------


def test_a_row_inserted_without_a_status_is_ready():
    owner = UserFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO videos_video (id, owner_id, title, description, video_file, thumbnail,"
            " duration, views, likes_count, comments_count, created_at, updated_at)"
            " VALUES (gen_random_uuid(), %s, 'old release', '', 'videos/x.mp4', 't.png', 1, 0,"
            " 0, 0, now(), now())",
            [owner.pk],
        )
    video = Video.objects.get(title="old release")
    assert (video.status, video.failure_reason, video.streaming_url) == ("ready", None, None)
    assert VideoCatalog.objects.get().published_videos == 1


@pytest.mark.parametrize(
    ("status", "reason"),
    [("failed", None), ("ready", "Broken"), ("processing", "Broken"), ("done", None)],
)
def test_the_database_refuses_a_reason_without_failure_and_an_unknown_status(status, reason):
    video = VideoFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Video.objects.filter(pk=video.pk).update(status=status, failure_reason=reason)


def test_the_list_indexes_hold_the_listed_rows_and_the_lists_still_use_them():
    VideoFactory.create_batch(3)
    query = Video.objects.filter(visibility="public", status="ready").order_by("-created_at", "-id")
    with connection.cursor() as cursor:
        # The planner would rather read three rows from the table; without that choice, the
        # predicate of the partial index must imply the list's filter.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = query[:10].explain()
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'videos_video'"
            " AND (indexname LIKE 'video_listed%%' OR indexname LIKE 'video_owner_sums')"
        )
        definitions = dict(cursor.fetchall())
    assert "video_listed_created" in plan
    assert len(definitions) == 6
    for name, definition in definitions.items():
        if name == "video_owner_sums":
            # The dashboard's sums and its published count, from the index alone.
            assert definition.endswith(
                "INCLUDE (views, likes_count, comments_count, visibility, status)"
            )
        else:
            assert (
                "WHERE (((status)::text = 'ready'::text) AND ((visibility)::text = 'public'::text))"
                in definition
            )


# --- Ending processing ---------------------------------------------------------------------------


def processing_video(**fields):
    fields.setdefault("status", "processing")
    fields.setdefault("thumbnail", "")
    fields.setdefault("duration", 0)
    fields.setdefault("processing_started_at", timezone.now())
    return VideoFactory(**fields)


def test_mark_ready_lists_a_public_video_and_stamps_published_at(
    django_capture_on_commit_callbacks,
):
    video = processing_video()
    assert video.published_at is None

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.video_mark_ready(
            video_id=video.pk,
            duration=4.5,
            thumbnail_name="thumbnails/frame.jpg",
            streaming_url="https://res.example.com/v.m3u8",
        )

    video.refresh_from_db()
    assert (video.status, video.failure_reason, video.processing_started_at) == (
        "ready",
        None,
        None,
    )
    assert (video.duration, video.thumbnail.name, video.streaming_url) == (
        4.5,
        "thumbnails/frame.jpg",
        "https://res.example.com/v.m3u8",
    )
    assert video.published_at is not None
    assert VideoCatalog.objects.get().published_videos == 1
    assert page_cache.retire_pages in callbacks


def test_mark_ready_is_idempotent_and_a_late_call_for_a_deleted_video_is_a_no_op(
    django_capture_on_commit_callbacks, settings
):
    video = processing_video()
    services.video_mark_ready(video_id=video.pk, duration=3.0, thumbnail_name="thumbnails/a.jpg")
    video.refresh_from_db()
    first = (video.updated_at, video.published_at)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        again = services.video_mark_ready(
            video_id=video.pk, duration=3.0, thumbnail_name="thumbnails/a.jpg"
        )
    video.refresh_from_db()
    assert (video.updated_at, video.published_at) == first
    assert again.pk == video.pk
    assert callbacks == []

    video.delete()
    assert services.video_mark_ready(video_id=video.pk, duration=1.0) is None
    assert services.video_mark_failed(video_id=video.pk, reason="Nope") is None


def test_mark_ready_keeps_the_owners_thumbnail_and_deletes_the_frame(
    django_capture_on_commit_callbacks, settings
):
    from pathlib import Path

    frame = Path(settings.MEDIA_ROOT) / "thumbnails" / "frame.jpg"
    frame.parent.mkdir(parents=True)
    frame.write_bytes(b"jpeg")
    video = processing_video(thumbnail="thumbnails/mine.png")

    with django_capture_on_commit_callbacks(execute=True):
        services.video_mark_ready(video_id=video.pk, thumbnail_name="thumbnails/frame.jpg")

    video.refresh_from_db()
    assert video.thumbnail.name == "thumbnails/mine.png"
    assert not frame.exists()


def test_mark_ready_makes_public_a_video_whose_schedule_came_while_it_processed():
    later = processing_video(visibility="private", publish_at=timezone.now() + timedelta(days=1))
    due = processing_video(visibility="private", publish_at=timezone.now() + timedelta(days=1))
    Video.objects.filter(pk=due.pk).update(publish_at=timezone.now() - timedelta(minutes=1))

    services.video_mark_ready(video_id=due.pk)
    services.video_mark_ready(video_id=later.pk)

    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.visibility, due.publish_at, due.published_at is not None) == (
        "public",
        None,
        True,
    )
    assert (later.visibility, later.published_at, later.publish_at is not None) == (
        "private",
        None,
        True,
    )
    assert VideoCatalog.objects.get().published_videos == 1


def test_mark_ready_of_an_unlisted_or_private_video_lists_nothing():
    unlisted = processing_video(visibility="unlisted")
    private = processing_video(visibility="private")

    services.video_mark_ready(video_id=unlisted.pk)
    services.video_mark_ready(video_id=private.pk)

    assert set(Video.objects.values_list("status", "published_at")) == {("ready", None)}
    assert VideoCatalog.objects.get().published_videos == 0


def test_mark_failed_sets_the_reason_and_never_overrides_ready():
    video = processing_video()
    ready = VideoFactory()

    services.video_mark_failed(video_id=video.pk, reason="The video has no readable duration")
    services.video_mark_failed(video_id=ready.pk, reason="Too late")

    video.refresh_from_db()
    ready.refresh_from_db()
    assert (video.status, video.failure_reason, video.processing_started_at) == (
        "failed",
        "The video has no readable duration",
        None,
    )
    assert (ready.status, ready.failure_reason) == ("ready", None)
    assert video.published_at is None
    assert VideoCatalog.objects.get().published_videos == 1


def test_a_failed_video_that_becomes_ready_loses_its_reason():
    video = processing_video(status="failed", failure_reason="It took too long")

    services.video_mark_ready(video_id=video.pk, duration=2.0)

    video.refresh_from_db()
    assert (video.status, video.failure_reason) == (VideoStatus.READY, None)
    assert video.published_at is not None


def test_toggling_a_processing_video_public_stamps_no_published_at(world):
    video = VideoFactory(owner=world["owner"], status="processing", visibility="private")

    response = world["clients"]["owner"].patch(f"{VIDEOS}/toggle/publish/{video.pk}")

    assert response.status_code == 200
    video.refresh_from_db()
    assert (video.visibility, video.published_at) == ("public", None)
    assert VideoCatalog.objects.get().published_videos == 1  # the world's ready video only
