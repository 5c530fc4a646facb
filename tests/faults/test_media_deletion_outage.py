"""Cloudinary refusing deletions for a while: the files of videos deleted during the outage are
deleted once it recovers, and nothing is left behind (media.tasks.delete_media).

The suite has no broker, so the deletion tasks run inline after the commit and their retries run
at once (Celery ignores an inline task's countdown): an outage of a few calls per file is ridden
out inline. With a worker the same retries wait 1 s, 2 s, 4 s ... up to 10 minutes, for days
(tests/media/test_media_tasks.py; tests/faults/test_celery_worker.py runs a real worker).
"""

import pytest

from media.tasks import INLINE_ATTEMPTS
from tests.videos.conftest import publish, video_url
from videos.models import Video

pytestmark = pytest.mark.django_db

# The longest outage the inline retries ride out: every attempt at the first file but its last.
OUTAGE_CALLS = INLINE_ATTEMPTS - 1


def referenced_names():
    """Every media name a row references (the fake holds only what these tests stored)."""
    names = set()
    for video_file, thumbnail in Video.objects.values_list("video_file", "thumbnail"):
        names |= {video_file, thumbnail}
    return names


def test_videos_deleted_during_a_cloudinary_outage_leave_no_orphan(
    fake_cloudinary, auth_client, django_capture_on_commit_callbacks
):
    ids = []
    for _ in range(3):
        response = publish(auth_client)
        assert response.status_code == 201
        ids.append(response.json()["data"]["id"])
    assert len(fake_cloudinary.public_ids()) == 6
    for n in range(1, OUTAGE_CALLS + 1):
        fake_cloudinary.fail_destroy(n)

    for video_id in ids[:2]:
        with django_capture_on_commit_callbacks(execute=True):
            assert auth_client.delete(video_url(video_id)).status_code == 200

    statuses = [destroy.status for destroy in fake_cloudinary.destroys]
    # The outage really happened, and the first file was asked again until it went.
    assert statuses == [500] * OUTAGE_CALLS + [200] * 4
    # Zero orphans: the fake holds exactly what the remaining rows reference.
    assert set(fake_cloudinary.public_ids()) == referenced_names()
    assert len(fake_cloudinary.public_ids()) == 2
    assert [str(pk) for pk in Video.objects.values_list("pk", flat=True)] == [ids[2]]
