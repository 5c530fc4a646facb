"""Direct uploads to Cloudinary under concurrency: a live server, a transactional database, the
fake Cloudinary, and identical requests released together by a barrier."""

import json
import threading
import urllib.error
import urllib.request

import pytest
import urllib3

from media.models import DirectUpload
from tests.conftest import media_bytes, tokens_for
from tests.factories import UserFactory
from videos.models import Video

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CALLERS = 6


def call(url, *, headers, data):
    request = urllib.request.Request(url, data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def all_at_once(count, send):
    barrier = threading.Barrier(count)
    results = [None] * count

    def worker(index):
        barrier.wait()
        results[index] = send()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def uploaded(fake_cloudinary, live_server, settings):
    """A user, their bearer header, and a public id issued to them with the video uploaded."""
    # Delivery URLs served by the fake (http): the frame of the video is fetched from there.
    settings.CLOUDINARY_STORAGE = {"SECURE": False}
    user = UserFactory()
    headers = {"Authorization": f"Bearer {tokens_for(user)[0]}"}
    status, body = call(
        f"{live_server.url}/api/v1/uploads/cloudinary-signature", headers=headers, data=b""
    )
    assert status == 201, body
    signed = body["data"]
    answer = urllib3.request(
        "POST",
        signed["uploadUrl"],
        fields={**signed["formFields"], "file": ("clip.mp4", media_bytes("sample.mp4"))},
    )
    assert answer.status == 200
    return headers, signed["publicId"]


def test_one_public_id_published_at_once_by_several_requests_makes_one_video(
    fake_cloudinary, live_server, uploaded
):
    headers, public_id = uploaded
    body = json.dumps({"title": "Once", "cloudinaryPublicId": public_id}).encode()

    results = all_at_once(
        CALLERS,
        lambda: call(
            f"{live_server.url}/api/v1/videos",
            headers={**headers, "Content-Type": "application/json"},
            data=body,
        ),
    )

    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [404] * (CALLERS - 1), results
    assert Video.objects.filter(video_file=public_id).count() == 1
    assert DirectUpload.objects.count() == 0
    # The rendition was asked for once, for the one video.
    assert [r.params["public_id"] for r in fake_cloudinary.explicits] == [public_id]


def test_one_notification_delivered_at_once_makes_the_video_ready_once(
    fake_cloudinary, live_server, uploaded
):
    headers, public_id = uploaded
    status, body = call(
        f"{live_server.url}/api/v1/videos",
        headers={**headers, "Content-Type": "application/json"},
        data=json.dumps({"title": "Once", "cloudinaryPublicId": public_id}).encode(),
    )
    assert status == 201, body
    notification = fake_cloudinary.finish_eager(public_id)

    results = all_at_once(
        CALLERS,
        lambda: call(
            f"{live_server.url}/api/v1/webhooks/cloudinary",
            headers=notification.headers,
            data=notification.body,
        ),
    )

    assert [status for status, _ in results] == [200] * CALLERS
    video = Video.objects.get()
    assert (video.status, video.streaming_url) == (
        "ready",
        notification.payload["eager"][0]["secure_url"],
    )
    assert video.published_at is not None
