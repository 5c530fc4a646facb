"""BOLA-1 with remote media: against the fake Cloudinary server (real SDK), another user's or
staff's attempts on A's video (delete, thumbnail replacement, publish toggle) neither destroy nor
upload any asset; the owner's delete does destroy both (the control)."""

import pytest

from tests.conftest import image_upload, tokens_for, video_upload
from tests.factories import UserFactory
from tests.security.world import SIGNED_IN, World
from videos.models import Video

pytestmark = pytest.mark.django_db


@pytest.fixture
def cloud(fake_cloudinary, settings):
    settings.CLOUDINARY_STORAGE = {"SECURE": False}
    return fake_cloudinary


@pytest.fixture
def people():
    world = World(
        users={
            "owner": UserFactory(),
            "other": UserFactory(),
            "staff": UserFactory(is_staff=True),
        }
    )
    world.tokens = {role: tokens_for(world.users[role]) for role in SIGNED_IN}
    return world


def _publish(client):
    body = {
        "title": "On the cloud",
        "videoFile": video_upload(),
        "thumbnail": image_upload("thumb.png"),
    }
    response = client.post("/api/v1/videos", body, format="multipart")
    assert response.status_code == 201, response.content[:300]
    return Video.objects.get(pk=response.json()["data"]["id"])


@pytest.mark.parametrize("published", [True, False], ids=["published", "unpublished"])
def test_others_cannot_touch_the_owners_remote_media(
    cloud, people, published, django_capture_on_commit_callbacks
):
    video = _publish(people.client("owner"))
    if not published:
        Video.objects.filter(pk=video.pk).update(visibility="private")
    assets, uploads, destroys = cloud.public_ids(), len(cloud.uploads), len(cloud.destroys)
    denied = 403 if published else 404
    url = f"/api/v1/videos/{video.pk}"

    for role in ("other", "staff"):
        client = people.client(role)
        with django_capture_on_commit_callbacks(execute=True):
            answers = [
                client.delete(url),
                client.patch(url, {"thumbnail": image_upload("evil.png")}, format="multipart"),
                client.patch(f"/api/v1/videos/toggle/publish/{video.pk}"),
            ]
        assert [a.status_code for a in answers] == [denied] * 3, role

    assert cloud.public_ids() == assets
    assert (len(cloud.uploads), len(cloud.destroys)) == (uploads, destroys)
    assert Video.objects.filter(
        pk=video.pk, visibility="public" if published else "private"
    ).exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert people.client("owner").delete(url).status_code == 200
    assert cloud.public_ids() == []
