"""GET /videos/:id on its lean path (one statement, videos.services.video_watch_data) answers
byte for byte what the serializer path (VideoDetailSerializer) answers for the same rows."""

import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

import ops.views
from tests.conftest import bearer_client
from tests.factories import LikeFactory, SubscriptionFactory, UserFactory, VideoFactory
from tests.lean import assert_same_answer
from tests.videos.conftest import video_url
from videos.models import Video

pytestmark = pytest.mark.django_db

EDGE_MOMENT = datetime.datetime(2026, 2, 3, 4, 5, 6, 999999, tzinfo=datetime.UTC)


def same_detail(monkeypatch, client, video, method="get"):
    """The detail of ``video`` by both paths; the view the first one counted is taken back
    (the count and the de-dup key) so that the second counts it again."""
    views = Video.objects.values_list("views", flat=True).get(pk=video.pk)

    def between():
        Video.objects.filter(pk=video.pk).update(views=views)
        cache.clear()

    response = assert_same_answer(
        monkeypatch, ops.views, lambda: getattr(client, method)(video_url(video)), between=between
    )
    assert response.status_code in (200, 404)
    return response


@pytest.fixture
def viewer():
    return UserFactory()


def test_anonymous(monkeypatch, api_client):
    video = VideoFactory(likes_count=3, comments_count=2, views=9)
    body = same_detail(monkeypatch, api_client, video).json()["data"]
    assert body["views"] == 10
    assert (body["isLiked"], body["user"]["isSubscribed"]) == (False, False)


def test_signed_in_neither_liked_nor_subscribed(monkeypatch, viewer):
    video = VideoFactory()
    LikeFactory(video=video)  # someone else's like
    SubscriptionFactory(channel=video.owner)
    body = same_detail(monkeypatch, bearer_client(viewer), video).json()["data"]
    assert (body["isLiked"], body["user"]["isSubscribed"]) == (False, False)


def test_signed_in_liked_and_subscribed(monkeypatch, viewer):
    video = VideoFactory(likes_count=1)
    LikeFactory(video=video, user=viewer)
    SubscriptionFactory(channel=video.owner, subscriber=viewer)
    video.owner.subscribers_count = 1
    video.owner.save(update_fields=["subscribers_count"])
    body = same_detail(monkeypatch, bearer_client(viewer), video).json()["data"]
    assert (body["isLiked"], body["user"]["isSubscribed"]) == (True, True)
    assert body["views"] == 1


def test_the_owner_on_their_private_scheduled_video(monkeypatch):
    video = VideoFactory(is_published=False, publish_at=timezone.now() + datetime.timedelta(days=1))
    LikeFactory(video=video, user=video.owner)
    body = same_detail(monkeypatch, bearer_client(video.owner), video).json()["data"]
    assert body["views"] == 0  # the owner's own view is not counted
    assert body["isPublished"] is False
    assert body["publishAt"] is not None and body["publishedAt"] is None
    assert (body["isLiked"], body["user"]["isSubscribed"]) == (True, False)


def test_a_scheduled_video_whose_time_has_come_before_the_job_ran(monkeypatch, api_client):
    video = VideoFactory(is_published=False, publish_at=timezone.now() - datetime.timedelta(1))
    body = same_detail(monkeypatch, api_client, video).json()["data"]
    assert body["visibility"] == "private"


@pytest.mark.parametrize("visibility", ["unlisted", "private"])
def test_unlisted_and_private_for_another_user(monkeypatch, viewer, visibility):
    video = VideoFactory(visibility=visibility)
    response = same_detail(monkeypatch, bearer_client(viewer), video)
    assert response.status_code == (200 if visibility == "unlisted" else 404)


def test_missing_and_malformed_ids(monkeypatch, api_client):
    for path in ("/api/v1/videos/0197bccc-4c1e-7564-9727-6dd4d7d48191", "/api/v1/videos/x"):
        response = assert_same_answer(monkeypatch, ops.views, lambda p=path: api_client.get(p))
        assert response.status_code == 404


def test_edge_values(monkeypatch, viewer):
    owner = UserFactory(fullname='Zoë \u2028 «quoted» "name" \\ 😀', avatar="")
    video = VideoFactory(
        owner=owner,
        title="Ünïcödé 😀 <b>&</b>",
        description="",
        thumbnail="thumbnails/with space & ü.png",
        video_file="videos/../odd/name.mp4",
        duration=0.1 + 0.2,
        views=0,
        likes_count=0,
        comments_count=0,
    )
    Video.objects.filter(pk=video.pk).update(
        created_at=EDGE_MOMENT, updated_at=EDGE_MOMENT.replace(microsecond=0)
    )
    body = same_detail(monkeypatch, bearer_client(viewer), video).json()["data"]
    assert body["createdAt"] == "2026-02-03T04:05:06.999Z"
    assert body["description"] == "" and body["user"]["avatar"] == ""


def test_head_answers_the_same_without_counting(monkeypatch, viewer):
    video = VideoFactory(views=4)
    same_detail(monkeypatch, bearer_client(viewer), video, method="head")
    assert Video.objects.get(pk=video.pk).views == 4


def test_media_base_url_and_cloudinary_urls(monkeypatch, viewer, settings, fake_cloudinary):
    settings.MEDIA_BASE_URL = "https://cdn.example.org"
    video = VideoFactory(owner=UserFactory(avatar="avatars/a.png"))
    body = same_detail(monkeypatch, bearer_client(viewer), video).json()["data"]
    cloud = "https://res.cloudinary.com/viztube-fake"
    assert body["thumbnailUrl"] == f"{cloud}/image/upload/v1/media/{video.thumbnail.name}"
    assert body["videoFileUrl"] == f"{cloud}/video/upload/v1/media/{video.video_file.name}"
    assert body["user"]["avatar"] == f"{cloud}/image/upload/v1/media/avatars/a.png"


# --- The de-dup key, taken before the statement that counts ------------------------------------


def view_key(video, user):
    return f"video-view:{video.pk}:user:{user.pk}"


def test_a_view_not_counted_leaves_no_key_behind(viewer):
    hidden = VideoFactory(is_published=False)
    client = bearer_client(viewer)
    assert client.get(video_url(hidden)).status_code == 404
    assert bearer_client(hidden.owner).get(video_url(hidden)).status_code == 200
    assert cache.get(view_key(hidden, viewer)) is None
    assert cache.get(view_key(hidden, hidden.owner)) is None

    # Shown later, inside what would have been the de-dup window: the first view counts.
    Video.objects.filter(pk=hidden.pk).update(visibility="public")
    assert client.get(video_url(hidden)).json()["data"]["views"] == 1
    assert cache.get(view_key(hidden, viewer)) == 1
    assert client.get(video_url(hidden)).json()["data"]["views"] == 1
    assert Video.objects.get(pk=hidden.pk).views == 1


@pytest.mark.parametrize("status", ["processing", "failed"])
def test_a_video_not_ready_to_its_owner_and_to_others(monkeypatch, viewer, status):
    video = VideoFactory(status=status, thumbnail="", duration=0)
    body = same_detail(monkeypatch, bearer_client(video.owner), video).json()["data"]
    assert (body["status"], body["thumbnailUrl"], body["streamingUrl"]) == (status, "", None)
    assert body["failureReason"] == video.failure_reason
    assert (body["failureReason"] is None) == (status == "processing")
    assert same_detail(monkeypatch, bearer_client(viewer), video).status_code == 404


def test_a_ready_video_with_a_streaming_url(monkeypatch, api_client):
    video = VideoFactory(streaming_url="https://res.example.com/v/é/video.m3u8?x=1&y=2")
    body = same_detail(monkeypatch, api_client, video).json()["data"]
    assert (body["status"], body["failureReason"]) == ("ready", None)
    assert body["streamingUrl"] == "https://res.example.com/v/é/video.m3u8?x=1&y=2"
