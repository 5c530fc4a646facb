"""The unfiltered list's totalDocs comes from a trigger-kept row: exact after every kind of write;
deep pages are read with a deferred join and match a plain OFFSET."""

import pytest
from django.core.management import call_command
from django.db import connection

from ops.deletion import users_delete, videos_delete
from tests.factories import UserFactory, VideoFactory
from videos.models import Video, VideoCatalog
from videos.services import video_set_visibility

pytestmark = pytest.mark.django_db
LIST = "/api/v1/videos"


def listed_total(client):
    response = client.get(LIST)
    assert response.status_code == 200
    return response.json()["data"]["totalDocs"]


def test_total_follows_inserts_publish_changes_views_and_deletes(api_client):
    owner = UserFactory()
    videos = VideoFactory.create_batch(4, owner=owner)
    VideoFactory(owner=owner, is_published=False)
    assert listed_total(api_client) == 4

    Video.objects.filter(pk=videos[0].pk).update(views=99)
    assert VideoCatalog.objects.get().published_videos == 4
    video_set_visibility(
        videos=Video.objects.filter(pk__in=[videos[1].pk, videos[2].pk]), visibility="private"
    )
    assert listed_total(api_client) == 2
    video_set_visibility(videos=Video.objects.filter(owner=owner), visibility="public")
    assert listed_total(api_client) == 5
    videos_delete(videos=Video.objects.filter(pk=videos[3].pk))  # as the admin deletes
    assert listed_total(api_client) == 4
    users_delete(users=type(owner).objects.filter(pk=owner.pk))  # as the admin deletes
    assert listed_total(api_client) == 0
    assert Video.objects.filter(visibility="public").count() == 0


def test_filtered_lists_still_count_rows(api_client):
    mine, theirs = UserFactory(), UserFactory()
    VideoFactory.create_batch(2, owner=mine)
    VideoFactory.create_batch(3, owner=theirs)
    response = api_client.get(LIST, {"userId": str(mine.pk)})
    assert response.json()["data"]["totalDocs"] == 2


def test_recount_repairs_a_catalog_row_written_behind_the_triggers(api_client):
    VideoFactory.create_batch(3)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE videos_videocatalog SET published_videos = 77 WHERE id = 1")
    assert listed_total(api_client) == 77
    call_command("recount_counters", "--no-progress", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert listed_total(api_client) == 3


def test_deep_pages_match_a_plain_offset_and_run_a_fixed_number_of_queries(
    api_client, django_assert_num_queries
):
    owner = UserFactory()
    VideoFactory.create_batch(230, owner=owner)
    expected = [
        str(pk)
        for pk in Video.objects.filter(visibility="public")
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)[220:230]
    ]
    # The catalog row, the ids of the page (index only), the rows of those ids.
    with django_assert_num_queries(3):
        response = api_client.get(LIST, {"page": 23, "limit": 10})
    body = response.json()["data"]
    assert [doc["id"] for doc in body["docs"]] == expected
    assert body["totalDocs"] == 230
    assert body["hasNextPage"] is False


def test_without_the_catalog_row_the_list_counts_and_recount_restores_it(api_client):
    VideoFactory.create_batch(2)
    VideoCatalog.objects.all().delete()  # what `manage.py flush` does to it

    assert listed_total(api_client) == 2
    call_command("recount_counters", "--no-progress", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert VideoCatalog.objects.get(pk=1).published_videos == 2
