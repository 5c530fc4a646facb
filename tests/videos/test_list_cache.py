"""The GET /videos page cache (viztube/api/page_cache.py): hits skip the database, structural changes
are visible at once, view counts may lag by the cache's lifetime, and Redis trouble is never an
error."""

import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from ops.deletion import videos_delete
from tests.factories import DEFAULT_PASSWORD, UserFactory, VideoFactory
from tests.foundation.test_throttling import _redis_cache
from tests.videos.conftest import VIDEOS, publish, toggle_url, video_url
from videos.models import Video
from videos.services import video_set_visibility
from viztube.api import page_cache as list_cache
from viztube.api.renderers import dumps

pytestmark = pytest.mark.django_db


def listed(client, **params):
    response = client.get(VIDEOS, params)
    assert response.status_code == 200
    return response.json()["data"]


def titles(client, **params):
    return [doc["title"] for doc in listed(client, **params)["docs"]]


def test_a_repeated_page_is_served_without_sql(api_client):
    VideoFactory.create_batch(3)
    first = listed(api_client)

    with CaptureQueriesContext(connection) as queries:
        second = listed(api_client)

    assert second == first
    assert second["totalDocs"] == 3
    assert queries.captured_queries == []


def test_pages_filters_and_sorts_are_cached_apart(api_client):
    owner = UserFactory()
    VideoFactory(title="Alpha", owner=owner, views=5)
    VideoFactory(title="Bravo", views=50)
    VideoFactory(title="Charlie", owner=owner, views=500)

    newest_first = titles(api_client)
    by_views_asc = titles(api_client, sortBy="views", sortType="asc")
    owners = titles(api_client, userId=str(owner.pk))
    second_page = titles(api_client, limit=2, page=2)
    search = titles(api_client, query="bravo")

    assert newest_first == ["Charlie", "Bravo", "Alpha"]
    assert by_views_asc == ["Alpha", "Bravo", "Charlie"]
    assert owners == ["Charlie", "Alpha"]
    assert second_page == ["Alpha"]
    assert search == ["Bravo"]
    # Asked again, each answer is still its own.
    assert titles(api_client, sortBy="views", sortType="asc") == by_views_asc
    assert titles(api_client, limit=2, page=2) == second_page


def test_publishing_shows_the_new_video_at_once(auth_client, api_client):
    assert listed(api_client)["totalDocs"] == 0

    assert publish(auth_client, title="Fresh").status_code == 201

    assert titles(api_client) == ["Fresh"]


def test_edits_unpublishing_and_deletes_show_at_once(auth_client, api_client, user):
    video = VideoFactory(owner=user, title="Before")
    gone = VideoFactory(owner=user, title="Doomed")
    hidden = VideoFactory(owner=user, title="Hidden soon")
    assert sorted(titles(api_client)) == ["Before", "Doomed", "Hidden soon"]

    assert auth_client.patch(video_url(video), {"title": "After"}, format="json").status_code == 200
    assert auth_client.delete(video_url(gone)).status_code == 200
    assert auth_client.patch(toggle_url(hidden)).status_code == 200

    assert titles(api_client) == ["After"]
    assert listed(api_client)["totalDocs"] == 1


def test_an_owner_renamed_shows_at_once(auth_client, api_client, user):
    VideoFactory(owner=user)
    assert listed(api_client)["docs"][0]["user"]["username"] == user.username

    response = auth_client.patch(
        "/api/v1/user/update-account", {"username": "renamed_owner"}, format="json"
    )

    assert response.status_code == 200
    assert listed(api_client)["docs"][0]["user"]["username"] == "renamed_owner"


def test_admin_style_queryset_changes_retire_pages(api_client):
    VideoFactory.create_batch(2)
    assert listed(api_client)["totalDocs"] == 2

    video_set_visibility(videos=Video.objects.all(), visibility="private")

    assert listed(api_client)["totalDocs"] == 0


def test_a_change_retires_pages_again_after_its_commit(
    auth_client, user, django_capture_on_commit_callbacks
):
    video = VideoFactory(owner=user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        auth_client.patch(video_url(video), {"title": "Edited"}, format="json")

    # A reader between the change and its commit may cache the old rows under the new version.
    assert list_cache.retire_pages in callbacks


def test_view_counts_in_a_cached_page_may_lag(api_client, other_client):
    """Decision: a view is not a structural change; the detail shows the live count."""
    video = VideoFactory(views=7)
    assert listed(api_client)["docs"][0]["views"] == 7

    detail = other_client.get(video_url(video)).json()["data"]

    assert detail["views"] == 8
    assert listed(api_client)["docs"][0]["views"] == 7
    assert Video.objects.get(pk=video.pk).views == 8


def test_a_lifetime_of_zero_turns_the_cache_off(api_client, settings):
    settings.VIDEO_LIST_CACHE_SECONDS = 0
    video = VideoFactory(views=7)
    listed(api_client)
    Video.objects.filter(pk=video.pk).update(views=9)

    with CaptureQueriesContext(connection) as queries:
        docs = listed(api_client)["docs"]

    assert docs[0]["views"] == 9
    assert len(queries.captured_queries) >= 2


def test_pages_live_no_longer_than_the_lifetime(api_client, settings):
    _redis_cache(settings)
    settings.VIDEO_LIST_CACHE_SECONDS = 10
    VideoFactory()
    listed(api_client)
    from django.core.cache import cache

    redis = cache.client.get_client()
    keys = [k for k in redis.scan_iter(cache.make_key("videos:list:page:*"))]

    assert len(keys) == 1
    assert 0 < redis.ttl(keys[0]) <= 10


def test_redis_down_builds_the_page_and_answers_200(api_client, settings):
    _redis_cache(settings, location="redis://127.0.0.1:1/0")
    VideoFactory(title="Still listed")

    assert titles(api_client) == ["Still listed"]
    assert titles(api_client, query=uuid.uuid4().hex[:8]) == []


def test_a_sign_in_does_not_retire_cached_pages(api_client, user):
    VideoFactory(owner=user)
    listed(api_client)

    signed_in = api_client.post(
        "/api/v1/user/login",
        {"username": user.username, "password": DEFAULT_PASSWORD},
        format="json",
    )
    with CaptureQueriesContext(connection) as queries:
        listed(APIClient())  # anonymous, like the first reader

    assert signed_in.status_code == 200
    user.refresh_from_db()
    assert user.last_login is not None  # the sign-in did save the user
    assert queries.captured_queries == []


def test_a_moderators_bulk_delete_retires_pages(api_client):
    VideoFactory.create_batch(3)
    assert listed(api_client)["totalDocs"] == 3

    videos_delete(videos=Video.objects.all()[:2])

    assert listed(api_client)["totalDocs"] == 1


def _sent_bytes(round_trip):
    return b"".join(bytes(chunk) for chunk in round_trip)


def test_a_cached_page_costs_one_redis_round_trip(api_client, settings, redis_round_trips):
    _redis_cache(settings)
    VideoFactory.create_batch(2)
    first = listed(api_client)
    redis_round_trips.clear()

    with CaptureQueriesContext(connection) as queries:
        again = listed(api_client)

    assert again == first
    assert queries.captured_queries == []
    # The anonymous rate-limit count, then the version and the page in one MGET.
    assert len(redis_round_trips) == 2
    assert b"MGET" in _sent_bytes(redis_round_trips[1])


def test_a_page_built_while_a_change_lands_is_not_served_after_it(settings):
    _redis_cache(settings)

    def build_during_a_change():
        # A writer retires the pages while this reader is still reading the old rows.
        list_cache.retire_pages()
        return {"docs": ["stale"]}

    built = list_cache.page_body(("a page",), build_during_a_change)
    next_read = list_cache.page_body(("a page",), lambda: {"docs": ["fresh"]})
    cached = list_cache.page_body(("a page",), lambda: {"docs": ["not called"]})

    assert dumps(built) == b'{"docs":["stale"]}'  # its own reader still gets it
    assert dumps(next_read) == b'{"docs":["fresh"]}'
    assert dumps(cached) == b'{"docs":["fresh"]}'


def test_an_indent_asked_for_indents_cached_pages_too(api_client):
    VideoFactory.create_batch(2)
    compact = listed(api_client)

    for _ in range(2):  # built, then from the cache
        response = api_client.get(VIDEOS, HTTP_ACCEPT="application/json; indent=4")
        text = response.content.decode()
        assert response.status_code == 200
        assert text == json.dumps(
            response.json(), indent=4, ensure_ascii=False, separators=(",", ":")
        )
        assert '\n                "title":' in text  # a doc's field, four levels in
    assert response.json()["data"] == compact
