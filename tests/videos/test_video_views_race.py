"""View counting under real concurrency: a live server, a transactional database, and a
``threading.Barrier`` releasing identical requests at once."""

import json
import threading
import urllib.request

import pytest

from tests.conftest import tokens_for
from tests.factories import UserFactory, VideoFactory
from videos.models import Video, WatchHistory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def get_all_at_once(url, headers_per_request):
    """GET ``url`` once per headers dict, all released together; returns the answers."""
    barrier = threading.Barrier(len(headers_per_request))
    results = [None] * len(headers_per_request)

    def worker(index, headers):
        request = urllib.request.Request(url, headers=headers)
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                results[index] = (response.status, json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            results[index] = (exc.code, json.loads(exc.read()))

    threads = [
        threading.Thread(target=worker, args=(index, headers))
        for index, headers in enumerate(headers_per_request)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def bearer(user):
    access, _ = tokens_for(user)
    return {"Authorization": f"Bearer {access}"}


def test_fifty_concurrent_first_views_by_fifty_users_add_exactly_fifty(live_server):
    video = VideoFactory(views=0)
    updated_at = video.updated_at
    viewers = [UserFactory() for _ in range(50)]

    results = get_all_at_once(
        f"{live_server.url}/api/v1/videos/{video.pk}", [bearer(user) for user in viewers]
    )

    assert [status for status, _ in results] == [200] * 50
    video.refresh_from_db()
    assert video.views == 50
    assert video.updated_at == updated_at
    assert WatchHistory.objects.filter(video=video).count() == 50
    # Every answer included its own view: the counts seen are all between 1 and 50.
    assert all(1 <= body["data"]["views"] <= 50 for _, body in results)


def test_a_burst_of_views_by_one_user_counts_once(live_server):
    video = VideoFactory(views=0)
    viewer = UserFactory()
    headers = bearer(viewer)

    results = get_all_at_once(f"{live_server.url}/api/v1/videos/{video.pk}", [headers] * 10)

    assert [status for status, _ in results] == [200] * 10
    assert Video.objects.get(pk=video.pk).views == 1
    assert WatchHistory.objects.filter(video=video, user=viewer).count() == 1


def test_a_burst_of_anonymous_views_from_one_address_counts_once(live_server):
    video = VideoFactory(views=0)

    results = get_all_at_once(f"{live_server.url}/api/v1/videos/{video.pk}", [{}] * 10)

    assert [status for status, _ in results] == [200] * 10
    assert Video.objects.get(pk=video.pk).views == 1
    assert WatchHistory.objects.count() == 0
