"""Visibility changes and scheduled publishing: the owner's routes, their bad input, the publish
toggle of the original API, and the periodic job that makes scheduled videos public."""

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tests.factories import VideoFactory
from tests.videos.conftest import VIDEOS, error, publish, toggle_url, video_url
from videos.models import Video, VideoCatalog
from videos.services import videos_publish_due
from viztube import periodic

pytestmark = pytest.mark.django_db


def iso_in(**delta):
    """A time from now, to the millisecond (the API's precision)."""
    moment = timezone.now() + timedelta(**delta)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000).isoformat()


def listed_ids(client):
    return [doc["id"] for doc in client.get(VIDEOS).json()["data"]["docs"]]


def scheduled(owner, **delta):
    return VideoFactory(
        owner=owner, visibility="private", publish_at=timezone.now() + timedelta(**delta)
    )


# --- Publishing with a visibility or a schedule -------------------------------------------------


def test_publishing_unlisted_keeps_the_video_out_of_lists(auth_client, api_client):
    response = publish(auth_client, visibility="unlisted")

    assert response.status_code == 201
    data = response.json()["data"]
    assert (data["visibility"], data["isPublished"], data["publishedAt"]) == (
        "unlisted",
        True,
        None,
    )
    assert listed_ids(api_client) == []
    assert api_client.get(video_url(data["id"])).status_code == 200


def test_publishing_with_a_schedule_makes_a_private_video_waiting_for_its_time(
    auth_client, api_client
):
    publish_at = iso_in(hours=2)

    response = publish(auth_client, publishAt=publish_at)

    assert response.status_code == 201
    data = response.json()["data"]
    assert (data["visibility"], data["isPublished"], data["publishedAt"]) == (
        "private",
        False,
        None,
    )
    assert parse_datetime(data["publishAt"]) == parse_datetime(publish_at)
    assert api_client.get(video_url(data["id"])).status_code == 404
    assert listed_ids(api_client) == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"publishAt": iso_in(seconds=-5)}, "publishAt", "publishAt must be in the future"),
        ({"publishAt": iso_in(days=367)}, "publishAt", "publishAt must be at most 366 days ahead"),
        ({"publishAt": "next tuesday"}, "publishAt", "publishAt must be an ISO 8601 date and time"),
        (
            {"visibility": "secret"},
            "visibility",
            "visibility must be one of: public, unlisted, private",
        ),
        ({"visibility": "public", "publishAt": iso_in(hours=1)}, "visibility", None),
    ],
)
def test_bad_publishing_fields_are_a_422_and_store_nothing(
    auth_client, media_root, fields, field, message
):
    response = publish(auth_client, **fields)

    assert response.status_code == 422
    body = error(response)
    assert set(body["fields"]) == {field}
    if message:
        assert body["fields"][field] == [message]
    assert not Video.objects.exists()
    assert not any(path.is_file() for path in media_root.rglob("*"))


# --- Changing visibility and schedule -----------------------------------------------------------


def test_visibility_moves_and_published_at_is_the_first_time_the_video_went_public(
    auth_client, user, api_client
):
    video = VideoFactory(owner=user, visibility="private", published_at=None)

    unlisted = auth_client.patch(video_url(video), {"visibility": "unlisted"}, format="json")
    assert unlisted.json()["data"]["publishedAt"] is None
    public = auth_client.patch(video_url(video), {"visibility": "public"}, format="json")
    first_public = public.json()["data"]["publishedAt"]
    assert first_public is not None
    assert listed_ids(api_client) == [str(video.pk)]
    private = auth_client.patch(video_url(video), {"visibility": "private"}, format="json")
    again = auth_client.patch(video_url(video), {"visibility": "public"}, format="json")

    assert private.json()["data"]["publishedAt"] == first_public
    assert again.json()["data"]["publishedAt"] == first_public
    video.refresh_from_db()
    assert video.visibility == "public"
    assert abs(video.published_at - parse_datetime(first_public)) < timedelta(milliseconds=1)


def test_a_schedule_is_set_moved_and_cancelled_by_patch(auth_client, user):
    video = VideoFactory(owner=user)
    first, second = iso_in(hours=1), iso_in(days=3)

    set_ = auth_client.patch(video_url(video), {"publishAt": first}, format="json")
    moved = auth_client.patch(video_url(video), {"publishAt": second}, format="json")
    cancelled = auth_client.patch(video_url(video), {"publishAt": None}, format="json")

    assert set_.json()["data"]["visibility"] == "private"
    assert parse_datetime(moved.json()["data"]["publishAt"]) == parse_datetime(second)
    assert (cancelled.json()["data"]["publishAt"], cancelled.json()["data"]["visibility"]) == (
        None,
        "private",
    )
    video.refresh_from_db()
    assert (video.visibility, video.publish_at) == ("private", None)


def test_showing_a_scheduled_video_now_cancels_its_schedule(auth_client, user):
    video = scheduled(user, hours=5)

    response = auth_client.patch(video_url(video), {"visibility": "unlisted"}, format="json")

    assert response.json()["data"]["publishAt"] is None
    video.refresh_from_db()
    assert (video.visibility, video.publish_at) == ("unlisted", None)


def test_a_schedule_sent_in_a_form_works_too(auth_client, user):
    video = VideoFactory(owner=user)
    publish_at = iso_in(hours=1)

    response = auth_client.patch(video_url(video), {"publishAt": publish_at}, format="multipart")

    assert response.status_code == 200
    video.refresh_from_db()
    assert (video.visibility, video.publish_at) == ("private", parse_datetime(publish_at))


@pytest.mark.parametrize(
    "body",
    [
        {"visibility": "everyone"},
        {"visibility": None},
        {"visibility": 1},
        {"publishAt": "yesterday"},
        {"publishAt": iso_in(minutes=-1)},
        {"publishAt": iso_in(days=400)},
        {"publishAt": iso_in(hours=1), "visibility": "unlisted"},
    ],
)
def test_bad_updates_are_a_422_and_change_nothing(auth_client, user, body):
    video = VideoFactory(owner=user, title="Kept")
    before = Video.objects.filter(pk=video.pk).values().get()

    response = auth_client.patch(video_url(video), {**body, "title": "Changed"}, format="json")

    assert response.status_code == 422
    assert set(error(response)["fields"]) <= {"visibility", "publishAt"}
    assert Video.objects.filter(pk=video.pk).values().get() == before


def test_another_user_cannot_change_visibility(other_client, user):
    video = VideoFactory(owner=user)

    response = other_client.patch(video_url(video), {"visibility": "private"}, format="json")

    assert response.status_code == 403
    video.refresh_from_db()
    assert video.visibility == "public"


# --- The original API's toggle ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "after"), [("private", "public"), ("public", "private"), ("unlisted", "private")]
)
def test_the_toggle_keeps_its_meaning(auth_client, user, start, after):
    video = VideoFactory(owner=user, visibility=start)

    response = auth_client.patch(toggle_url(video))

    assert response.status_code == 200
    assert (response.json()["data"]["visibility"], response.json()["data"]["isPublished"]) == (
        after,
        after != "private",
    )


def test_toggling_a_scheduled_video_publishes_it_now_and_cancels_the_schedule(
    auth_client, user, api_client
):
    video = scheduled(user, days=2)

    response = auth_client.patch(toggle_url(video))

    data = response.json()["data"]
    assert (data["visibility"], data["publishAt"]) == ("public", None)
    assert data["publishedAt"] is not None
    assert listed_ids(api_client) == [str(video.pk)]


# --- The periodic job ---------------------------------------------------------------------------


def test_the_job_makes_due_videos_public_through_the_publish_path(user, api_client):
    due = [scheduled(user, days=1) for _ in range(3)]
    waiting = scheduled(user, days=1)
    Video.objects.filter(pk__in=[v.pk for v in due]).update(
        publish_at=timezone.now() - timedelta(seconds=1)
    )
    assert listed_ids(api_client) == []  # cached now: the flip must retire this page

    assert videos_publish_due(batch_size=2) == 3

    assert sorted(listed_ids(api_client)) == sorted(str(v.pk) for v in due)
    assert VideoCatalog.objects.get().published_videos == 3
    for video in due:
        video.refresh_from_db()
        assert (video.visibility, video.publish_at) == ("public", None)
        assert video.published_at is not None
    waiting.refresh_from_db()
    assert waiting.visibility == "private" and waiting.publish_at is not None
    assert videos_publish_due() == 0


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_scheduled_video_goes_public_on_time_without_any_request(
    auth_client, api_client, settings
):
    """End to end: scheduled through the API a moment ahead, published by the periodic task
    (the in-process runner of the beat schedule, as without a broker), seen in the public list."""
    publish_at = timezone.now() + timedelta(seconds=1.5)
    video_id = publish(auth_client, publishAt=publish_at.isoformat()).json()["data"]["id"]
    entry = settings.CELERY_BEAT_SCHEDULE["publish-scheduled-videos"]
    schedule = {"publish-scheduled-videos": {**entry, "schedule": 0.2}}
    stop = threading.Event()
    runner = threading.Thread(target=periodic.run_forever, args=(0.05, stop, schedule))
    runner.start()
    try:
        deadline = time.monotonic() + 15
        while listed_ids(api_client) != [video_id] and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        runner.join()

    assert listed_ids(api_client) == [video_id]
    video = Video.objects.get(pk=video_id)
    assert video.published_at >= publish_at
    assert video.publish_at is None


def test_a_cached_list_page_drops_a_video_made_unlisted_at_once(auth_client, user, api_client):
    video = VideoFactory(owner=user)
    assert listed_ids(api_client) == [str(video.pk)]  # now cached

    auth_client.patch(video_url(video), {"visibility": "unlisted"}, format="json")

    assert listed_ids(api_client) == []
