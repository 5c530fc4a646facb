"""PATCH / DELETE /videos/:id and PATCH /videos/toggle/publish/:id on local storage:
owner / other / anonymous / staff, files replaced and deleted after commit."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import file_deletions, files_under, image_upload
from tests.factories import (
    CommentFactory,
    LikeFactory,
    PlaylistVideoFactory,
    VideoFactory,
    WatchHistoryFactory,
)
from tests.videos.conftest import error, iso, publish, toggle_url, video_shape, video_url
from videos.models import Video

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored_video(auth_client):
    """A video of ``user`` published through the API, so both files really exist."""
    response = publish(auth_client, title="Original title", description="Original description")
    assert response.status_code == 201
    return Video.objects.select_related("owner").get(pk=response.json()["data"]["id"])


def snapshot(video):
    return Video.objects.filter(pk=video.pk).values().get()


# --- PATCH --------------------------------------------------------------------------------------


def test_owner_updates_title_and_description_with_json(auth_client, user):
    video = VideoFactory(owner=user, title="Old", description="Old words")

    response = auth_client.patch(
        video_url(video), {"title": "  New title ", "description": "New words"}, format="json"
    )

    assert response.status_code == 200
    video.refresh_from_db()
    assert (video.title, video.description) == ("New title", "New words")
    assert response.json() == {
        "statusCode": 200,
        "data": video_shape(video),
        "message": "Video updated successfully",
        "success": True,
    }


def test_update_is_partial_and_refreshes_the_search_index(auth_client, api_client, user):
    video = VideoFactory(owner=user, title="Old", description="Kept as it is")

    auth_client.patch(video_url(video), {"title": "Zeppelin flight"}, format="json")

    video.refresh_from_db()
    assert (video.title, video.description) == ("Zeppelin flight", "Kept as it is")
    found = api_client.get("/api/v1/videos", {"query": "zeppelin"}).json()["data"]["docs"]
    assert [doc["id"] for doc in found] == [str(video.pk)]


def test_an_empty_description_clears_it(auth_client, user):
    video = VideoFactory(owner=user, description="Something")

    response = auth_client.patch(video_url(video), {"description": ""}, format="json")

    assert response.status_code == 200
    video.refresh_from_db()
    assert video.description == ""


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"title": "   "}, {"title": ["Title cannot be empty"]}),
        ({"title": None}, {"title": ["Title cannot be empty"]}),
        ({"title": "x" * 101}, {"title": ["Title must be at most 100 characters"]}),
        (
            {"description": "x" * 5001},
            {"description": ["Description must be at most 5000 characters"]},
        ),
        (
            {"thumbnail": "https://evil.example/x.png"},
            {
                "thumbnail": [
                    "The submitted data was not a file. Check the encoding type on the form."
                ]
            },
        ),
    ],
)
def test_invalid_update_is_422_and_changes_nothing(auth_client, user, payload, fields):
    video = VideoFactory(owner=user)
    before = snapshot(video)

    response = auth_client.patch(video_url(video), payload, format="json")

    assert response.status_code == 422
    assert error(response)["fields"] == fields
    assert snapshot(video) == before


def test_fields_a_client_may_not_set_are_ignored_on_update(auth_client, user, other_user):
    video = VideoFactory(owner=user, views=5, likes_count=2, comments_count=1)
    before = snapshot(video)

    response = auth_client.patch(
        video_url(video),
        {
            "views": 100000,
            "likesCount": 99,
            "commentsCount": 99,
            "isPublished": False,
            "userId": str(other_user.pk),
            "owner": str(other_user.pk),
            "duration": 1,
            "videoFileUrl": "https://evil.example/v.mp4",
            "id": str(uuid.uuid4()),
            "createdAt": "2000-01-01T00:00:00Z",
        },
        format="json",
    )

    assert response.status_code == 200
    assert snapshot(video) == before  # nothing allowed was sent: nothing written


def test_owner_replaces_the_thumbnail_and_the_old_file_is_deleted_after_commit(
    auth_client, stored_video, media_root, temp_dir, django_capture_on_commit_callbacks
):
    old_thumbnail = stored_video.thumbnail.name

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = auth_client.patch(
            video_url(stored_video),
            {"thumbnail": image_upload("new.jpg", "JPEG", (32, 18)), "title": "With a thumb"},
            format="multipart",
        )

    assert response.status_code == 200
    assert len(file_deletions(callbacks)) == 1
    stored_video.refresh_from_db()
    assert stored_video.thumbnail.name != old_thumbnail
    assert stored_video.thumbnail.name.endswith(".jpg")
    assert stored_video.title == "With a thumb"
    assert (
        response.json()["data"]["thumbnailUrl"]
        == f"http://testserver/media/{stored_video.thumbnail.name}"
    )
    assert files_under(media_root) == sorted(
        [stored_video.video_file.name, stored_video.thumbnail.name]
    )
    assert files_under(temp_dir) == []


def test_old_thumbnail_is_kept_until_the_transaction_commits(auth_client, stored_video, media_root):
    old_thumbnail = stored_video.thumbnail.name

    # The test's transaction never commits: the old file must still be there.
    response = auth_client.patch(
        video_url(stored_video), {"thumbnail": image_upload("n.png")}, format="multipart"
    )

    assert response.status_code == 200
    assert old_thumbnail in files_under(media_root)


def test_an_invalid_new_thumbnail_is_422_and_keeps_the_old_one(
    auth_client, stored_video, media_root, temp_dir
):
    before = snapshot(stored_video)
    files_before = files_under(media_root)

    response = auth_client.patch(
        video_url(stored_video),
        {"thumbnail": SimpleUploadedFile("x.png", b"<svg onload=alert(1)>", "image/png")},
        format="multipart",
    )

    assert response.status_code == 422
    assert error(response)["fields"] == {"thumbnail": ["Must be a JPEG, PNG or WebP image."]}
    assert snapshot(stored_video) == before
    assert files_under(media_root) == files_before
    assert files_under(temp_dir) == []


def test_a_failed_update_deletes_the_new_thumbnail(
    auth_client, stored_video, media_root, monkeypatch
):
    files_before = files_under(media_root)

    def failing_save(self, *args, **kwargs):
        raise RuntimeError("simulated database failure")

    monkeypatch.setattr(Video, "save", failing_save)
    response = auth_client.patch(
        video_url(stored_video), {"thumbnail": image_upload("n.png")}, format="multipart"
    )

    assert response.status_code == 500
    assert files_under(media_root) == files_before


def test_another_user_cannot_update_and_stores_nothing(
    other_client, stored_video, media_root, temp_dir
):
    before = snapshot(stored_video)
    files_before = files_under(media_root)

    response = other_client.patch(
        video_url(stored_video),
        {"title": "Mine now", "thumbnail": image_upload("n.png")},
        format="multipart",
    )

    assert response.status_code == 403
    assert error(response)["message"] == "You are not authorized to update this video"
    assert snapshot(stored_video) == before
    assert files_under(media_root) == files_before
    assert files_under(temp_dir) == []


def test_staff_has_no_special_power_to_update(staff_client, user):
    video = VideoFactory(owner=user)
    before = snapshot(video)

    response = staff_client.patch(video_url(video), {"title": "Moderated"}, format="json")

    assert response.status_code == 403
    assert snapshot(video) == before


def test_anonymous_cannot_update(api_client, user):
    video = VideoFactory(owner=user)
    before = snapshot(video)

    response = api_client.patch(video_url(video), {"title": "Anon"}, format="json")

    assert response.status_code == 401
    assert snapshot(video) == before


def test_another_users_unpublished_video_is_404_not_403(other_client, user):
    video = VideoFactory(owner=user, is_published=False)
    before = snapshot(video)

    response = other_client.patch(video_url(video), {"title": "Found you"}, format="json")

    assert response.status_code == 404
    assert error(response)["message"] == "Video not found"
    assert snapshot(video) == before


def test_owner_can_update_their_unpublished_video(auth_client, user):
    video = VideoFactory(owner=user, is_published=False)

    response = auth_client.patch(video_url(video), {"title": "Draft 2"}, format="json")

    assert response.status_code == 200
    assert response.json()["data"]["isPublished"] is False


def test_update_of_a_missing_video_is_404(auth_client):
    response = auth_client.patch(video_url(uuid.uuid4()), {"title": "x"}, format="json")

    assert response.status_code == 404
    assert error(response)["message"] == "Video not found"


# --- DELETE -------------------------------------------------------------------------------------


def test_owner_deletes_the_video_its_rows_and_both_files_after_commit(
    auth_client, stored_video, media_root, django_capture_on_commit_callbacks
):
    CommentFactory(video=stored_video)
    LikeFactory(video=stored_video)
    WatchHistoryFactory(video=stored_video)
    entry = PlaylistVideoFactory(video=stored_video)

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.delete(video_url(stored_video))

    assert response.status_code == 200
    assert response.json() == {
        "statusCode": 200,
        "data": {},
        "message": "Video deleted successfully",
        "success": True,
    }
    assert not Video.objects.filter(pk=stored_video.pk).exists()
    assert not stored_video.comments.exists()
    assert not stored_video.likes.exists()
    assert not stored_video.watch_entries.exists()
    assert not type(entry).objects.filter(pk=entry.pk).exists()
    assert files_under(media_root) == []


def test_files_stay_until_the_deletion_commits(auth_client, stored_video, media_root):
    response = auth_client.delete(video_url(stored_video))

    assert response.status_code == 200
    # No commit in this test's transaction: the files must not be gone yet.
    assert len(files_under(media_root)) == 2


def test_a_failing_file_delete_is_logged_and_the_video_stays_deleted(
    auth_client, stored_video, media_root, caplog, django_capture_on_commit_callbacks
):
    # Replace the stored video file with a non-empty folder: the storage cannot remove it.
    path = media_root / stored_video.video_file.name
    path.unlink()
    path.mkdir()
    (path / "keep").write_text("x")

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.delete(video_url(stored_video))

    assert response.status_code == 200
    assert not Video.objects.filter(pk=stored_video.pk).exists()
    assert f"Deleting media {stored_video.video_file.name} failed" in caplog.text
    # The thumbnail was still deleted.
    assert files_under(media_root) == [f"{stored_video.video_file.name}/keep"]


@pytest.mark.parametrize(
    ("client_name", "status", "message"),
    [
        ("other_client", 403, "You are not authorized to delete this video"),
        ("staff_client", 403, "You are not authorized to delete this video"),
        ("api_client", 401, "Unauthorized request"),
    ],
)
def test_only_the_owner_may_delete(
    request,
    stored_video,
    media_root,
    client_name,
    status,
    message,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = request.getfixturevalue(client_name).delete(video_url(stored_video))

    assert response.status_code == status
    assert error(response)["message"] == message
    assert Video.objects.filter(pk=stored_video.pk).exists()
    assert file_deletions(callbacks) == []
    assert len(files_under(media_root)) == 2


def test_deleting_another_users_unpublished_video_is_404(other_client, user):
    video = VideoFactory(owner=user, is_published=False)

    response = other_client.delete(video_url(video))

    assert response.status_code == 404
    assert error(response)["message"] == "Video not found"
    assert Video.objects.filter(pk=video.pk).exists()


def test_deleting_a_missing_video_is_404(auth_client):
    response = auth_client.delete(video_url(uuid.uuid4()))

    assert response.status_code == 404
    assert error(response)["message"] == "Video not found"


# --- Toggle publish -----------------------------------------------------------------------------


def test_owner_toggles_publish_both_ways(auth_client, user):
    video = VideoFactory(owner=user)
    updated_at = video.updated_at

    first = auth_client.patch(toggle_url(video))
    video.refresh_from_db()

    assert first.status_code == 200
    assert first.json() == {
        "statusCode": 200,
        "data": video_shape(video),
        "message": "Video publish status toggled",
        "success": True,
    }
    assert video.is_published is False
    assert video.updated_at > updated_at
    assert first.json()["data"]["updatedAt"] == iso(video.updated_at)

    second = auth_client.patch(toggle_url(video))
    assert second.json()["data"]["isPublished"] is True
    assert Video.objects.get(pk=video.pk).is_published is True


def test_toggle_ignores_any_body(auth_client, user):
    video = VideoFactory(owner=user, views=3)

    response = auth_client.patch(
        toggle_url(video), {"isPublished": True, "views": 9, "title": "x"}, format="json"
    )

    video.refresh_from_db()
    assert response.status_code == 200
    assert (video.is_published, video.views, video.title != "x") == (False, 3, True)


@pytest.mark.parametrize(
    ("client_name", "status", "message"),
    [
        ("other_client", 403, "Unauthorized"),
        ("staff_client", 403, "Unauthorized"),
        ("api_client", 401, "Unauthorized request"),
    ],
)
def test_only_the_owner_may_toggle(request, user, client_name, status, message):
    video = VideoFactory(owner=user)

    response = request.getfixturevalue(client_name).patch(toggle_url(video))

    assert response.status_code == status
    assert error(response)["message"] == message
    assert Video.objects.get(pk=video.pk).is_published is True


def test_toggling_another_users_unpublished_video_is_404(other_client, user):
    video = VideoFactory(owner=user, is_published=False)

    response = other_client.patch(toggle_url(video))

    assert response.status_code == 404
    assert Video.objects.get(pk=video.pk).is_published is False


def test_toggling_a_missing_video_is_404(auth_client):
    response = auth_client.patch(toggle_url(uuid.uuid4()))

    assert response.status_code == 404
    assert error(response)["message"] == "Video not found"


def test_toggle_only_answers_patch(auth_client, user):
    video = VideoFactory(owner=user)

    response = auth_client.post(toggle_url(video))

    assert response.status_code == 405
    assert Video.objects.get(pk=video.pk).is_published is True
