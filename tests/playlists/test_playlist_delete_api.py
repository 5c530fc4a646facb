"""DELETE /playlist/:playlistId: the owner deletes; the videos stay."""

import pytest

from playlists.models import Playlist, PlaylistVideo
from tests.factories import PlaylistFactory, PlaylistVideoFactory, VideoFactory
from tests.playlists.shapes import error, success
from videos.models import Video

pytestmark = pytest.mark.django_db


def url(playlist_id):
    return f"/api/v1/playlist/{playlist_id}"


@pytest.fixture
def playlist(user):
    playlist = PlaylistFactory(owner=user)
    for _ in range(2):
        PlaylistVideoFactory(playlist=playlist, video=VideoFactory())
    return playlist


def test_owner_deletes_the_playlist_and_its_entries_but_not_the_videos(auth_client, playlist):
    other_playlist = PlaylistFactory(owner=playlist.owner)
    PlaylistVideoFactory(playlist=other_playlist, video=Video.objects.first())

    response = auth_client.delete(url(playlist.id))

    assert response.status_code == 200
    assert response.json() == success({}, "Playlist deleted successfully")
    assert not Playlist.objects.filter(pk=playlist.pk).exists()
    assert not PlaylistVideo.objects.filter(playlist_id=playlist.pk).exists()
    assert Video.objects.count() == 2
    assert PlaylistVideo.objects.filter(playlist=other_playlist).count() == 1


def test_deleted_playlist_is_gone_for_readers(auth_client, api_client, playlist):
    auth_client.delete(url(playlist.id))

    response = api_client.get(url(playlist.id))

    assert response.status_code == 404
    assert response.json() == error(404, "Playlist not found")


@pytest.mark.parametrize("client_name", ["other_client", "staff_client"])
def test_other_users_and_staff_are_403(request, playlist, client_name):
    response = request.getfixturevalue(client_name).delete(url(playlist.id))

    assert response.status_code == 403
    assert response.json() == error(403, "You are not authorized to delete this playlist")
    assert PlaylistVideo.objects.filter(playlist=playlist).count() == 2


def test_anonymous_is_401(api_client, playlist):
    response = api_client.delete(url(playlist.id))

    assert response.status_code == 401
    assert Playlist.objects.filter(pk=playlist.pk).exists()


def test_unknown_playlist_is_404(auth_client, playlist):
    response = auth_client.delete(url("01970000-0000-7000-8000-000000000000"))

    assert response.status_code == 404
    assert response.json() == error(404, "Playlist not found")
    assert Playlist.objects.count() == 1


def test_deleting_twice_is_404_the_second_time(auth_client, playlist):
    assert auth_client.delete(url(playlist.id)).status_code == 200

    response = auth_client.delete(url(playlist.id))

    assert response.status_code == 404
