"""Staff moderation in the Django admin: list without N+1, search, filters, actions, deletion
of media after commit."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import files_under
from tests.factories import UserFactory, VideoFactory
from tests.videos.conftest import publish
from videos.models import Video

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/videos/video/"


def listed_titles(response):
    return sorted(str(video) for video in response.context["cl"].result_list)


@pytest.mark.parametrize("count", [3, 12])
def test_changelist_shows_owner_and_views_in_a_fixed_number_of_queries(
    admin_client, django_assert_num_queries, count
):
    for _ in range(count):
        VideoFactory(views=7)

    # 1. the session, 2. the staff user, 3. filtered COUNT, 4. unfiltered COUNT,
    # 5. the page with owners joined, 6. the date hierarchy's MIN/MAX, 7. its distinct days.
    with django_assert_num_queries(7):
        response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    content = response.content.decode()
    assert content.count('class="field-views"') == count
    rows = list(response.context["cl"].result_list)
    assert all("owner" in row._state.fields_cache for row in rows)


def test_search_by_title_and_by_owner_username(admin_client):
    owner = UserFactory(username="kayaker")
    VideoFactory(title="Rapids at dawn", owner=owner)
    VideoFactory(title="Kayak basics")
    VideoFactory(title="Something else")

    by_title = admin_client.get(CHANGELIST, {"q": "rapids"})
    by_owner = admin_client.get(CHANGELIST, {"q": "kayaker"})

    assert listed_titles(by_title) == ["Rapids at dawn"]
    assert listed_titles(by_owner) == ["Rapids at dawn"]


def test_filter_by_published(admin_client):
    VideoFactory(title="Live", is_published=True)
    VideoFactory(title="Draft", is_published=False)

    response = admin_client.get(CHANGELIST, {"visibility__exact": "private"})

    assert listed_titles(response) == ["Draft"]


def test_unpublish_and_publish_actions(admin_client):
    videos = [VideoFactory(), VideoFactory(), VideoFactory()]
    chosen = [str(videos[0].pk), str(videos[1].pk)]

    response = admin_client.post(CHANGELIST, {"action": "make_private", "_selected_action": chosen})
    assert response.status_code == 302
    assert sorted(
        Video.objects.filter(visibility="private").values_list("pk", flat=True)
    ) == sorted(v.pk for v in videos[:2])

    admin_client.post(CHANGELIST, {"action": "make_public", "_selected_action": chosen})
    assert Video.objects.filter(visibility="private").count() == 0


def test_delete_selected_deletes_rows_and_media_after_commit(
    admin_client, auth_client, media_root, django_capture_on_commit_callbacks
):
    for title in ("One", "Two", "Three"):
        assert publish(auth_client, title=title).status_code == 201
    keep = Video.objects.get(title="Three")
    chosen = [str(v.pk) for v in Video.objects.exclude(pk=keep.pk)]

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST, {"action": "delete_selected", "_selected_action": chosen, "post": "yes"}
        )

    assert response.status_code == 302
    assert list(Video.objects.all()) == [keep]
    assert files_under(media_root) == sorted([keep.video_file.name, keep.thumbnail.name])


def test_deleting_one_video_from_its_page_deletes_its_media(
    admin_client, auth_client, media_root, django_capture_on_commit_callbacks
):
    assert publish(auth_client).status_code == 201
    video = Video.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{CHANGELIST}{video.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert Video.objects.count() == 0
    assert files_under(media_root) == []


def test_admin_cannot_replace_media_or_counters_through_the_form(admin_client):
    video = VideoFactory(views=5)

    response = admin_client.get(f"{CHANGELIST}{video.pk}/change/")

    form = response.context["adminform"].form
    assert set(form.fields) == {"owner", "title", "description", "visibility", "publish_at"}


def test_non_staff_users_are_sent_to_the_login_page(user):
    client = Client()
    client.force_login(user)

    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_scheduled_filter_lists_the_videos_waiting_for_their_time(admin_client):
    VideoFactory(title="Now")
    VideoFactory(title="Later", visibility="private", publish_at=timezone.now() + timedelta(days=1))

    scheduled = admin_client.get(CHANGELIST, {"scheduled": "yes"})
    not_scheduled = admin_client.get(CHANGELIST, {"scheduled": "no"})

    assert listed_titles(scheduled) == ["Later"]
    assert listed_titles(not_scheduled) == ["Now"]


def test_make_unlisted_stamps_nothing_and_make_public_stamps_published_at(admin_client):
    video = VideoFactory(visibility="private", published_at=None)

    admin_client.post(CHANGELIST, {"action": "make_unlisted", "_selected_action": [video.pk]})
    video.refresh_from_db()
    assert (video.visibility, video.published_at) == ("unlisted", None)

    admin_client.post(CHANGELIST, {"action": "make_public", "_selected_action": [video.pk]})
    video.refresh_from_db()
    assert video.visibility == "public" and video.published_at is not None


def test_the_form_refuses_a_schedule_on_a_video_that_is_not_private(admin_client):
    video = VideoFactory(title="Kept")
    form = admin_client.get(f"{CHANGELIST}{video.pk}/change/").context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    later = timezone.now() + timedelta(days=1)
    data.update(
        {
            "visibility": "public",
            "publish_at_0": later.date().isoformat(),
            "publish_at_1": "12:00:00",
        }
    )

    response = admin_client.post(f"{CHANGELIST}{video.pk}/change/", data)

    assert response.status_code == 200  # the form again, with the error
    assert "A scheduled video stays private until its publish time." in response.content.decode()
    video.refresh_from_db()
    assert (video.visibility, video.publish_at) == ("public", None)
