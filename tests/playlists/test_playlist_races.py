"""Simultaneous requests against a live server and a real transactional database (a test wrapped
in one transaction would serialise them and hide the race)."""

import json
import threading
import urllib.error
import urllib.request

import pytest

from playlists.models import PlaylistVideo
from tests.conftest import tokens_for
from tests.factories import PlaylistFactory, UserFactory, VideoFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def burst(requests_to_send):
    """Send ``(method, url, token)`` requests at the same instant; return ``(status, body)`` each."""
    barrier = threading.Barrier(len(requests_to_send))
    results = [None] * len(requests_to_send)

    def send(index, method, url, token):
        request = urllib.request.Request(
            url, method=method, headers={"Authorization": f"Bearer {token}"}
        )
        barrier.wait(timeout=10)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                results[index] = (response.status, json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            results[index] = (exc.code, json.loads(exc.read()))

    threads = [
        threading.Thread(target=send, args=(i, *spec)) for i, spec in enumerate(requests_to_send)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.parametrize("clicks", [2, 6])
def test_double_click_on_add_gives_one_success_and_409s_never_a_500(live_server, clicks):
    owner = UserFactory()
    playlist = PlaylistFactory(owner=owner)
    video = VideoFactory()
    access, _ = tokens_for(owner)
    url = f"{live_server.url}/api/v1/playlist/{playlist.id}/{video.id}"

    results = burst([("POST", url, access)] * clicks)

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * (clicks - 1)
    conflicts = [body for status, body in results if status == 409]
    assert all(body["message"] == "Video already in playlist" for body in conflicts)
    assert PlaylistVideo.objects.filter(playlist=playlist, video=video).count() == 1


def test_simultaneous_adds_of_different_videos_all_land(live_server):
    owner = UserFactory()
    playlist = PlaylistFactory(owner=owner)
    videos = [VideoFactory() for _ in range(5)]
    access, _ = tokens_for(owner)

    results = burst(
        [
            ("POST", f"{live_server.url}/api/v1/playlist/{playlist.id}/{v.id}", access)
            for v in videos
        ]
    )

    assert [status for status, _ in results] == [200] * 5
    assert set(
        PlaylistVideo.objects.filter(playlist=playlist).values_list("video_id", flat=True)
    ) == {v.id for v in videos}


def test_double_click_on_remove_gives_one_success_and_one_404(live_server):
    owner = UserFactory()
    playlist = PlaylistFactory(owner=owner)
    video = VideoFactory()
    PlaylistVideo.objects.create(playlist=playlist, video=video)
    access, _ = tokens_for(owner)
    url = f"{live_server.url}/api/v1/playlist/{playlist.id}/{video.id}"

    results = burst([("DELETE", url, access)] * 2)

    assert sorted(status for status, _ in results) == [200, 404]
    assert not PlaylistVideo.objects.exists()
