"""POST and DELETE /playlist/:playlistId/:videoId: the owner adds and removes videos."""

from datetime import UTC, datetime

import pytest

from playlists.models import Playlist, PlaylistVideo
from tests.factories import PlaylistFactory, PlaylistVideoFactory, VideoFactory
from tests.playlists.shapes import error, playlist_summary, success

pytestmark = pytest.mark.django_db

LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)
UNKNOWN = "01970000-0000-7000-8000-000000000000"


def url(playlist_id, video_id):
    return f"/api/v1/playlist/{playlist_id}/{video_id}"


@pytest.fixture
def playlist(user):
    playlist = PlaylistFactory(owner=user)
    Playlist.objects.filter(pk=playlist.pk).update(updated_at=LONG_AGO)
    return playlist


def updated_at(playlist):
    return Playlist.objects.get(pk=playlist.pk).updated_at


def entries(playlist):
    return list(PlaylistVideo.objects.filter(playlist=playlist).values_list("video_id", flat=True))


# --- adding -----------------------------------------------------------------------------------


def test_owner_adds_a_published_video(auth_client, playlist):
    video = VideoFactory(thumbnail="thumbnails/added.png")

    response = auth_client.post(url(playlist.id, video.id))

    assert response.status_code == 200
    assert entries(playlist) == [video.id]
    assert updated_at(playlist) > LONG_AGO
    assert response.json() == success(
        playlist_summary(
            playlist, total_videos=1, thumbnail="http://testserver/media/thumbnails/added.png"
        ),
        "Video added to playlist",
    )


def test_owner_adds_their_own_unpublished_video_which_others_do_not_see(
    auth_client, api_client, playlist, user
):
    video = VideoFactory(owner=user, is_published=False)

    response = auth_client.post(url(playlist.id, video.id))

    assert response.status_code == 200
    assert entries(playlist) == [video.id]
    public = api_client.get(f"/api/v1/playlist/{playlist.id}").json()["data"]
    assert (public["totalVideos"], public["videos"]) == (0, [])


def test_someone_elses_unpublished_video_is_404(auth_client, playlist):
    video = VideoFactory(is_published=False)

    response = auth_client.post(url(playlist.id, video.id))

    assert response.status_code == 404
    assert response.json() == error(404, "Video not found")
    assert entries(playlist) == []
    assert updated_at(playlist) == LONG_AGO


def test_unknown_video_is_404(auth_client, playlist):
    response = auth_client.post(url(playlist.id, UNKNOWN))

    assert response.status_code == 404
    assert response.json() == error(404, "Video not found")
    assert entries(playlist) == []


def test_adding_twice_is_409_and_keeps_one_entry(auth_client, playlist):
    video = VideoFactory()
    assert auth_client.post(url(playlist.id, video.id)).status_code == 200
    first_update = updated_at(playlist)

    response = auth_client.post(url(playlist.id, video.id))

    assert response.status_code == 409
    assert response.json() == error(409, "Video already in playlist")
    assert entries(playlist) == [video.id]
    assert updated_at(playlist) == first_update


def test_the_same_video_may_be_in_two_playlists(auth_client, playlist, user):
    video = VideoFactory()
    second = PlaylistFactory(owner=user)

    assert auth_client.post(url(playlist.id, video.id)).status_code == 200
    assert auth_client.post(url(second.id, video.id)).status_code == 200

    assert PlaylistVideo.objects.filter(video=video).count() == 2


@pytest.mark.parametrize("client_name", ["other_client", "staff_client"])
def test_adding_to_other_users_playlist_is_403(request, playlist, client_name):
    video = VideoFactory()

    response = request.getfixturevalue(client_name).post(url(playlist.id, video.id))

    assert response.status_code == 403
    assert response.json() == error(403, "You are not authorized to edit this playlist")
    assert entries(playlist) == []


def test_adding_anonymously_is_401(api_client, playlist):
    response = api_client.post(url(playlist.id, VideoFactory().id))

    assert response.status_code == 401
    assert entries(playlist) == []


def test_adding_to_an_unknown_playlist_is_404(auth_client):
    response = auth_client.post(url(UNKNOWN, VideoFactory().id))

    assert response.status_code == 404
    assert response.json() == error(404, "Playlist not found")
    assert not PlaylistVideo.objects.exists()


def test_unknown_playlist_and_unknown_video_say_playlist_not_found(auth_client):
    response = auth_client.post(url(UNKNOWN, UNKNOWN))

    assert response.json() == error(404, "Playlist not found")


def test_malformed_video_id_is_404(auth_client, playlist):
    response = auth_client.post(url(playlist.id, "42"))

    assert response.status_code == 404
    assert entries(playlist) == []


# --- removing ---------------------------------------------------------------------------------


def test_owner_removes_a_video(auth_client, playlist):
    kept, removed = VideoFactory(), VideoFactory()
    PlaylistVideoFactory(playlist=playlist, video=kept)
    PlaylistVideoFactory(playlist=playlist, video=removed)
    Playlist.objects.filter(pk=playlist.pk).update(updated_at=LONG_AGO)

    response = auth_client.delete(url(playlist.id, removed.id))

    assert response.status_code == 200
    assert response.json() == success({}, "Video removed from playlist")
    assert entries(playlist) == [kept.id]
    assert updated_at(playlist) > LONG_AGO
    assert PlaylistVideo.objects.count() == 1
    removed.refresh_from_db()  # the video itself stays


def test_owner_removes_a_video_that_was_unpublished_since(auth_client, playlist):
    video = VideoFactory()
    PlaylistVideoFactory(playlist=playlist, video=video)
    video.visibility = "private"
    video.save()

    response = auth_client.delete(url(playlist.id, video.id))

    assert response.status_code == 200
    assert entries(playlist) == []


def test_removing_a_video_that_is_not_there_is_404(auth_client, playlist):
    elsewhere = VideoFactory()
    PlaylistVideoFactory(video=elsewhere)

    response = auth_client.delete(url(playlist.id, elsewhere.id))

    assert response.status_code == 404
    assert response.json() == error(404, "Video not in playlist")
    assert updated_at(playlist) == LONG_AGO
    assert PlaylistVideo.objects.count() == 1


def test_removing_twice_is_404_the_second_time(auth_client, playlist):
    video = VideoFactory()
    PlaylistVideoFactory(playlist=playlist, video=video)

    assert auth_client.delete(url(playlist.id, video.id)).status_code == 200
    response = auth_client.delete(url(playlist.id, video.id))

    assert response.status_code == 404
    assert response.json() == error(404, "Video not in playlist")


@pytest.mark.parametrize("client_name", ["other_client", "staff_client"])
def test_removing_from_other_users_playlist_is_403(request, playlist, client_name):
    video = VideoFactory()
    PlaylistVideoFactory(playlist=playlist, video=video)

    response = request.getfixturevalue(client_name).delete(url(playlist.id, video.id))

    assert response.status_code == 403
    assert response.json() == error(403, "You are not authorized to edit this playlist")
    assert entries(playlist) == [video.id]


def test_removing_anonymously_is_401(api_client, playlist):
    video = VideoFactory()
    PlaylistVideoFactory(playlist=playlist, video=video)

    response = api_client.delete(url(playlist.id, video.id))

    assert response.status_code == 401
    assert entries(playlist) == [video.id]


def test_removing_from_an_unknown_playlist_is_404(auth_client):
    response = auth_client.delete(url(UNKNOWN, VideoFactory().id))

    assert response.status_code == 404
    assert response.json() == error(404, "Playlist not found")


def test_other_methods_are_405(auth_client, playlist):
    video = VideoFactory()

    response = auth_client.patch(url(playlist.id, video.id), {})

    assert response.status_code == 405
    assert entries(playlist) == []
