"""Direct uploads to Cloudinary, against the fake Cloudinary driven by the real SDK: sign, upload
straight to Cloudinary, publish by public id (POST /videos with cloudinaryPublicId), and
Cloudinary's notifications (POST /webhooks/cloudinary) that make the video ready with its HLS
rendition."""

import json
import time
from urllib.parse import urlsplit

import cloudinary.uploader
import pytest
import urllib3
from django.test import Client
from django.utils import timezone

from media import cloudinary_direct
from media import services as media_services
from media.models import DirectUpload
from ops.deletion import users_delete
from tests.conftest import (
    bearer_client,
    image_bytes,
    image_upload,
    media_bytes,
    tokens_for,
    video_upload,
)
from tests.factories import UserFactory
from tests.videos.conftest import VIDEOS, error, video_url
from tests.videos.conftest import publish as publish_in_one_request
from tests.videos.test_video_processing import publish_upload
from tests.videos.test_video_processing import uploaded as session_uploaded
from videos import streaming, tasks
from videos.models import Video

pytestmark = pytest.mark.django_db

SIGN = "/api/v1/uploads/cloudinary-signature"
WEBHOOK = "/api/v1/webhooks/cloudinary"
NOT_FOUND = "Cloudinary upload not found"
NOTHING_UPLOADED = "No video has been uploaded to Cloudinary under this public id"


@pytest.fixture
def cloud(fake_cloudinary, settings):
    # Delivery URLs served by the fake (http), so they can be compared with its host.
    settings.CLOUDINARY_STORAGE = {"SECURE": False}
    return fake_cloudinary


def sign(client):
    response = client.post(SIGN)
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def upload_to(fake, data, fields, *, resource_type="video", filename="clip.mp4"):
    """What a browser does with the signed fields: POST the file straight to Cloudinary."""
    url = f"{fake.url}/v1_1/{fake.cloud_name}/{resource_type}/upload"
    return urllib3.request("POST", url, fields={**fields, "file": (filename, data)})


def uploaded(client, fake, data=None, **kwargs):
    """A public id issued to ``client``'s user, with ``data`` (the sample video) uploaded."""
    signed = sign(client)
    answer = upload_to(
        fake, media_bytes("sample.mp4") if data is None else data, signed["formFields"], **kwargs
    )
    assert answer.status == 200, answer.json()
    return signed["publicId"]


def publish(client, public_id, **fields):
    body = {"title": "Straight to the cloud", "cloudinaryPublicId": public_id, **fields}
    return client.post(VIDEOS, body, format="json")


def deliver(client, notification, *, body=None, **headers):
    """POST a notification to our webhook as Cloudinary would (``body`` and ``headers``
    replace the notification's own)."""
    assert urlsplit(notification.url).path == WEBHOOK
    sent = {**notification.headers, **headers}
    return client.post(
        WEBHOOK,
        notification.body if body is None else body,
        content_type=sent.pop("Content-Type"),
        headers=sent,
    )


def state(video):
    video.refresh_from_db()
    return video.status, video.streaming_url, video.failure_reason


# --- Publishing by public id ----------------------------------------------------------------------


def test_publish_creates_a_processing_video_of_that_asset_and_asks_for_hls(
    cloud, auth_client, user, django_capture_on_commit_callbacks
):
    public_id = uploaded(auth_client, cloud)

    with django_capture_on_commit_callbacks(execute=True):
        response = publish(auth_client, public_id, description="Filmed today")

    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    video = Video.objects.get()
    assert (video.owner, video.video_file.name) == (user, public_id)
    assert (video.title, video.description) == ("Straight to the cloud", "Filmed today")
    assert video.duration == pytest.approx(1.0, abs=0.1)
    assert (video.status, video.streaming_url, video.failure_reason) == ("processing", None, None)
    assert video.published_at is None  # stamped when it becomes ready
    assert (data["id"], data["status"], data["streamingUrl"]) == (str(video.pk), "processing", None)
    assert data["thumbnailUrl"] == ""  # the frame comes after the answer
    assert data["videoFileUrl"].startswith(f"http://{cloud.host}/")
    assert public_id in data["videoFileUrl"]
    # The public id is used up. Without a thumbnail, a frame Cloudinary makes of the video
    # (never downloaded) becomes one, stored as an image asset.
    assert DirectUpload.objects.count() == 0
    assert cloud.frames == [(public_id, "c_limit,h_1280,so_10p,w_1280")]
    assert video.thumbnail.name == f"media/thumbnails/frame-{video.pk.hex}"
    assert cloud.public_ids("image") == [video.thumbnail.name]
    assert cloud.assets[video.thumbnail.name].format == "jpg"
    assert cloud.public_ids("video") == [public_id]
    # One Admin API lookup, then the HLS rendition asked for, to be notified at our webhook.
    assert [(r.params["public_id"], r.resource_type) for r in cloud.resource_lookups] == [
        (public_id, "video")
    ]
    [explicit] = cloud.explicits
    assert explicit.resource_type == "video"
    assert explicit.params["public_id"] == public_id
    assert explicit.params["type"] == "upload"
    assert explicit.params["eager"] == "sp_hd/m3u8"
    assert explicit.params["eager_async"] == "1"
    assert explicit.params["eager_notification_url"] == f"http://testserver{WEBHOOK}"
    assert [job.public_id for job in cloud.eager_jobs] == [public_id]


def test_a_processing_video_is_its_owners_alone(cloud, auth_client, other_client):
    video_id = publish(auth_client, uploaded(auth_client, cloud)).json()["data"]["id"]

    assert auth_client.get(video_url(video_id)).status_code == 200
    assert other_client.get(video_url(video_id)).status_code == 404
    assert other_client.get(VIDEOS).json()["data"]["totalDocs"] == 0


def test_a_thumbnail_may_come_with_it_in_multipart(cloud, auth_client):
    public_id = uploaded(auth_client, cloud)
    body = {
        "title": "With a thumbnail",
        "cloudinaryPublicId": public_id,
        "thumbnail": image_upload("thumb.png", "PNG", (16, 9)),
        "visibility": "unlisted",
    }

    response = auth_client.post(VIDEOS, body, format="multipart")

    assert response.status_code == 201, response.json()
    video = Video.objects.get()
    assert video.visibility == "unlisted"
    assert cloud.public_ids("image") == [video.thumbnail.name]
    assert response.json()["data"]["thumbnailUrl"].startswith(f"http://{cloud.host}/")
    assert cloud.frames == []  # the owner's own thumbnail: no frame is asked for


def test_nothing_uploaded_under_the_public_id_is_a_409(cloud, auth_client):
    public_id = sign(auth_client)["publicId"]

    response = publish(auth_client, public_id)

    assert response.status_code == 409
    assert error(response)["message"] == NOTHING_UPLOADED
    assert Video.objects.count() == 0
    # The public id stays open: the upload may still come.
    assert DirectUpload.objects.filter(public_id=public_id).exists()
    assert cloud.explicits == []


def test_an_image_uploaded_under_the_public_id_is_no_video(cloud, auth_client):
    signed = sign(auth_client)
    image = upload_to(
        cloud, image_bytes(), signed["formFields"], resource_type="image", filename="still.png"
    )
    assert image.status == 200
    assert cloud.public_ids("image") == [signed["publicId"]]

    response = publish(auth_client, signed["publicId"])

    assert response.status_code == 409
    assert error(response)["message"] == NOTHING_UPLOADED
    assert Video.objects.count() == 0
    assert cloud.explicits == []


def test_a_file_without_a_video_track_is_a_422(cloud, auth_client):
    public_id = uploaded(auth_client, cloud, media_bytes("audio_only.m4a"), filename="a.m4a")

    response = publish(auth_client, public_id)

    assert response.status_code == 422
    assert error(response)["fields"] == {
        "cloudinaryPublicId": ["The uploaded file has no video track"]
    }
    assert Video.objects.count() == 0
    assert cloud.explicits == []


def test_a_video_over_the_size_cap_is_a_413_and_its_asset_is_destroyed(
    cloud, auth_client, settings, django_capture_on_commit_callbacks
):
    settings.VIDEO_MAX_UPLOAD_MB = 1
    padded = media_bytes("sample.mp4") + b"\0" * (1024 * 1024)
    public_id = uploaded(auth_client, cloud, padded)
    assert cloud.assets[public_id].bytes > 1024 * 1024

    with django_capture_on_commit_callbacks(execute=True):
        response = publish(auth_client, public_id)

    assert response.status_code == 413
    assert error(response)["message"] == "The uploaded video is larger than 1 MB"
    assert Video.objects.count() == 0
    assert cloud.public_ids() == []
    assert [(d.params["public_id"], d.resource_type) for d in cloud.destroys] == [
        (public_id, "video")
    ]
    assert DirectUpload.objects.filter(public_id=public_id).exists()
    assert cloud.explicits == []


def test_a_public_id_that_was_not_issued_is_a_404_before_cloudinary_is_asked(
    cloud, auth_client, django_capture_on_commit_callbacks
):
    public_id = "media/videos/" + "0" * 32
    cloudinary.uploader.upload(
        media_bytes("sample.mp4"), resource_type="video", public_id=public_id
    )

    response = publish(auth_client, public_id)

    assert response.status_code == 404
    assert error(response)["message"] == NOT_FOUND
    assert Video.objects.count() == 0
    assert cloud.resource_lookups == [] and cloud.explicits == []
    assert cloud.public_ids() == [public_id]


def test_another_users_public_id_is_a_404(cloud, auth_client, other_client):
    theirs = uploaded(other_client, cloud)

    response = publish(auth_client, theirs)

    assert response.status_code == 404
    assert error(response)["message"] == NOT_FOUND
    assert Video.objects.count() == 0
    assert DirectUpload.objects.get().public_id == theirs
    assert cloud.resource_lookups == []
    # Theirs to publish still.
    assert publish(other_client, theirs).status_code == 201


def test_an_expired_public_id_is_a_404(cloud, auth_client):
    public_id = uploaded(auth_client, cloud)
    DirectUpload.objects.update(expires_at=timezone.now())

    response = publish(auth_client, public_id)

    assert response.status_code == 404
    assert Video.objects.count() == 0


def test_a_public_id_is_published_once(cloud, auth_client):
    public_id = uploaded(auth_client, cloud)
    assert publish(auth_client, public_id).status_code == 201

    again = publish(auth_client, public_id)

    assert again.status_code == 404
    assert error(again)["message"] == NOT_FOUND
    assert Video.objects.count() == 1


def test_a_public_id_taken_while_its_asset_was_checked_is_a_404_and_nothing_stays(
    cloud, auth_client, monkeypatch
):
    public_id = uploaded(auth_client, cloud)
    real_check = media_services.direct_upload_check

    def check_then_lose_the_race(**kwargs):
        asset = real_check(**kwargs)
        DirectUpload.objects.all().delete()  # another request published it meanwhile
        return asset

    monkeypatch.setattr("videos.services.direct_upload_check", check_then_lose_the_race)
    body = {
        "title": "Too late",
        "cloudinaryPublicId": public_id,
        "thumbnail": image_upload("thumb.png"),
    }

    response = auth_client.post(VIDEOS, body, format="multipart")

    assert response.status_code == 404
    assert Video.objects.count() == 0
    # The thumbnail stored for it was destroyed again.
    assert cloud.public_ids("image") == []
    assert cloud.explicits == []


def test_cloudinary_unreachable_for_the_lookup_is_a_502_and_nothing_is_written(cloud, auth_client):
    public_id = uploaded(auth_client, cloud)
    cloud.fail("resource", status=500)

    response = publish(auth_client, public_id)

    assert response.status_code == 502
    assert Video.objects.count() == 0
    assert DirectUpload.objects.filter(public_id=public_id).exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"cloudinaryPublicId": ""}, "cloudinaryPublicId", "cloudinaryPublicId cannot be empty"),
        ({"cloudinaryPublicId": None}, "cloudinaryPublicId", "cloudinaryPublicId cannot be empty"),
        ({"cloudinaryPublicId": 12}, "cloudinaryPublicId", None),
        ({"cloudinaryPublicId": "x" * 256}, "cloudinaryPublicId", None),
        ({"title": ""}, "title", "Title is required"),
        ({"visibility": "everyone"}, "visibility", None),
    ],
)
def test_invalid_fields_are_a_422_and_nothing_is_asked_of_cloudinary(
    cloud, auth_client, fields, field, message
):
    public_id = uploaded(auth_client, cloud)

    response = publish(auth_client, public_id, **fields)

    assert response.status_code == 422
    problems = error(response)["fields"]
    assert field in problems
    if message:
        assert problems[field] == [message]
    assert Video.objects.count() == 0
    assert cloud.resource_lookups == []


def test_a_video_file_and_a_public_id_together_are_a_422(cloud, auth_client):
    public_id = uploaded(auth_client, cloud)
    body = {"title": "Both", "cloudinaryPublicId": public_id, "videoFile": video_upload()}

    response = auth_client.post(VIDEOS, body, format="multipart")

    assert response.status_code == 422
    assert error(response)["fields"] == {
        "cloudinaryPublicId": [
            "Send the video one way only: videoFile, uploadId or cloudinaryPublicId"
        ]
    }
    assert Video.objects.count() == 0
    assert len(cloud.uploads) == 1  # only the client's own upload


def test_without_cloudinary_publishing_by_public_id_is_a_404(auth_client):
    response = publish(auth_client, "media/videos/" + "0" * 32)

    assert response.status_code == 404
    assert error(response)["message"] == (
        "Direct uploads to Cloudinary are not available on this server"
    )
    assert Video.objects.count() == 0


def test_anonymous_callers_cannot_publish_by_public_id(cloud, api_client, auth_client):
    public_id = uploaded(auth_client, cloud)

    response = publish(api_client, public_id)

    assert response.status_code == 401
    assert Video.objects.count() == 0


def test_a_failed_hls_request_is_tried_again_then_fails_the_video(
    cloud, auth_client, django_capture_on_commit_callbacks
):
    first = uploaded(auth_client, cloud)
    cloud.fail("explicit", n=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert publish(auth_client, first).status_code == 201
    # Tried again at once (no broker: inline), and taken the second time.
    assert [r.status for r in cloud.explicits] == [500, 200]
    assert Video.objects.get().status == "processing"

    second = uploaded(auth_client, cloud)
    for n in range(1, tasks.INLINE_ATTEMPTS + 1):
        cloud.fail("explicit", n=n)
    with django_capture_on_commit_callbacks(execute=True):
        video_id = publish(auth_client, second).json()["data"]["id"]

    video = Video.objects.get(pk=video_id)
    assert state(video) == ("failed", None, streaming.STREAMING_NOT_REQUESTED)
    assert [r.status for r in cloud.explicits[2:]] == [500] * tasks.INLINE_ATTEMPTS


def test_a_video_whose_asset_is_gone_before_the_hls_request_fails(
    cloud, auth_client, django_capture_on_commit_callbacks
):
    public_id = uploaded(auth_client, cloud)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        video_id = publish(auth_client, public_id).json()["data"]["id"]
    cloudinary.uploader.destroy(public_id, resource_type="video")

    for callback in callbacks:
        callback()

    assert state(Video.objects.get(pk=video_id)) == ("failed", None, streaming.STREAMING_REFUSED)
    assert [r.status for r in cloud.explicits] == [404]


def test_a_public_id_with_an_upload_id_is_a_422(cloud, auth_client):
    public_id = uploaded(auth_client, cloud)

    response = publish(auth_client, public_id, uploadId="0190a4f2-0000-7000-8000-000000000001")

    assert response.status_code == 422
    assert error(response)["fields"] == {
        "cloudinaryPublicId": [
            "Send the video one way only: videoFile, uploadId or cloudinaryPublicId"
        ]
    }
    assert Video.objects.count() == 0


def test_a_video_cloudinary_makes_no_frame_of_keeps_no_thumbnail_until_ready(
    cloud, auth_client, monkeypatch, django_capture_on_commit_callbacks
):
    public_id = uploaded(auth_client, cloud)
    monkeypatch.setattr(cloudinary_direct, "FRAME_TRANSFORMATION", {"width": 10})  # no so_: 404

    with django_capture_on_commit_callbacks(execute=True):
        video_id = publish(auth_client, public_id).json()["data"]["id"]

    video = Video.objects.get(pk=video_id)
    assert (video.status, video.thumbnail.name) == ("processing", "")
    assert cloud.public_ids("image") == []
    # The rendition is asked for all the same.
    assert [job.public_id for job in cloud.eager_jobs] == [public_id]


def test_a_frame_cloudinary_cannot_deliver_does_not_hold_up_the_rendition(
    cloud, auth_client, settings, caplog, django_capture_on_commit_callbacks
):
    public_id = uploaded(auth_client, cloud)
    # https delivery URLs, which the fake (http only) cannot answer: every frame request fails.
    settings.CLOUDINARY_STORAGE = {"SECURE": True}

    with django_capture_on_commit_callbacks(execute=True):
        video_id = publish(auth_client, public_id).json()["data"]["id"]

    video = Video.objects.get(pk=video_id)
    assert (video.status, video.thumbnail.name) == ("processing", "")
    assert cloud.public_ids("image") == []
    assert [job.public_id for job in cloud.eager_jobs] == [public_id]
    assert "Taking a frame of video" in caplog.text
    # The notification makes it ready all the same, without a thumbnail.
    assert deliver(auth_client, cloud.finish_eager()).status_code == 200
    assert state(video)[0] == "ready"


def test_a_session_published_on_cloudinary_is_ready_then_gets_its_rendition(
    cloud, auth_client, other_client, api_client, settings, django_capture_on_commit_callbacks
):
    settings.CLOUDINARY_UPLOAD_CHUNK_BYTES = 2000
    cloud.min_part_bytes = 2000
    upload_id = session_uploaded(auth_client, media_bytes("sample.mp4"), chunk=700)

    with django_capture_on_commit_callbacks(execute=True):
        assert publish_upload(auth_client, upload_id).status_code == 201

    # The processing checked the bytes and made it ready, then asked for the rendition.
    video = Video.objects.get()
    assert state(video) == ("ready", None, None)
    [explicit] = cloud.explicits
    assert explicit.params["public_id"] == video.video_file.name
    assert explicit.params["eager_notification_url"] == f"http://testserver{WEBHOOK}"
    assert cloud.frames == []  # the processing took its frame from the bytes

    notification = cloud.finish_eager(video.video_file.name)
    assert deliver(api_client, notification).status_code == 200

    hls = notification.payload["eager"][0]["secure_url"]
    assert state(video) == ("ready", hls, None)
    assert other_client.get(video_url(video)).json()["data"]["streamingUrl"] == hls


def test_a_session_video_whose_rendition_cannot_be_asked_for_stays_ready(
    cloud, auth_client, settings, django_capture_on_commit_callbacks
):
    upload_id = session_uploaded(auth_client, media_bytes("sample.mp4"), chunk=700)
    for n in range(1, tasks.INLINE_ATTEMPTS + 1):
        cloud.fail("explicit", n=n)

    with django_capture_on_commit_callbacks(execute=True):
        assert publish_upload(auth_client, upload_id).status_code == 201

    assert state(Video.objects.get()) == ("ready", None, None)
    assert [r.status for r in cloud.explicits] == [500] * tasks.INLINE_ATTEMPTS


def test_a_video_published_in_one_request_on_cloudinary_gets_its_rendition_too(
    cloud, auth_client, api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = publish_in_one_request(auth_client)

    assert response.status_code == 201, response.json()
    video = Video.objects.get()
    assert state(video) == ("ready", None, None)
    [explicit] = cloud.explicits
    assert explicit.params["public_id"] == video.video_file.name
    assert cloud.frames == []
    notification = cloud.finish_eager(video.video_file.name)
    assert deliver(api_client, notification).status_code == 200
    assert state(video)[:2] == ("ready", notification.payload["eager"][0]["secure_url"])


def test_without_cloudinary_no_rendition_is_asked_for(
    auth_client, django_capture_on_commit_callbacks
):
    upload_id = session_uploaded(auth_client, media_bytes("sample.mp4"), chunk=700)

    with django_capture_on_commit_callbacks(execute=True):
        assert publish_upload(auth_client, upload_id).status_code == 201

    assert state(Video.objects.get()) == ("ready", None, None)


# --- Cloudinary's notifications ---------------------------------------------------------------


@pytest.fixture
def processing(cloud, auth_client, django_capture_on_commit_callbacks):
    """A video published by public id, its HLS rendition asked for."""
    with django_capture_on_commit_callbacks(execute=True):
        response = publish(auth_client, uploaded(auth_client, cloud))
    return Video.objects.get(pk=response.json()["data"]["id"])


def test_a_finished_rendition_makes_the_video_ready_with_its_streaming_url(
    cloud, processing, api_client
):
    notification = cloud.finish_eager(processing.video_file.name)
    url = notification.payload["eager"][0]["secure_url"]

    response = deliver(api_client, notification)

    assert response.status_code == 200
    assert response.json() == {
        "statusCode": 200,
        "data": {},
        "message": "Notification applied",
        "success": True,
    }
    assert url.endswith(
        f"/sp_hd/v{cloud.assets[processing.video_file.name].version}/{processing.video_file.name}.m3u8"
    )
    assert state(processing) == ("ready", url, None)
    assert processing.published_at is not None
    assert processing.processing_started_at is None


def test_the_same_notification_twice_changes_nothing_more(cloud, processing, api_client):
    notification = cloud.finish_eager()
    assert deliver(api_client, notification).status_code == 200
    processing.refresh_from_db()
    after_first = (processing.updated_at, processing.published_at, processing.streaming_url)

    again = deliver(api_client, notification)

    assert again.status_code == 200
    processing.refresh_from_db()
    assert (processing.updated_at, processing.published_at, processing.streaming_url) == after_first
    assert processing.status == "ready"


def test_a_failed_rendition_fails_the_video_with_cloudinarys_reason(cloud, processing, api_client):
    notification = cloud.finish_eager(failed="Video is too long")

    response = deliver(api_client, notification)

    assert response.status_code == 200
    assert state(processing) == (
        "failed",
        None,
        "Cloudinary could not make the streaming version: Video is too long",
    )
    # Replayed: the same.
    assert deliver(api_client, notification).status_code == 200
    assert state(processing)[0] == "failed"


def test_a_late_failure_never_undoes_a_ready_video(cloud, processing, auth_client, api_client):
    cloudinary_direct.request_streaming(
        processing.video_file.name, notification_url=f"http://testserver{WEBHOOK}"
    )
    assert deliver(api_client, cloud.finish_eager()).status_code == 200

    late = deliver(api_client, cloud.finish_eager(failed="Timeout"))

    assert late.status_code == 200
    assert state(processing)[:2] == ("ready", processing.streaming_url)
    assert processing.streaming_url.endswith(".m3u8")


def test_a_bad_signature_is_a_401_and_changes_nothing(cloud, processing, api_client):
    notification = cloud.finish_eager()
    forged = notification.body.replace(b"complete", b"failed")

    for response in (
        deliver(api_client, notification, body=forged),
        deliver(api_client, notification, **{"X-Cld-Signature": "0" * 40}),
        deliver(api_client, notification, **{"X-Cld-Signature": ""}),
    ):
        assert response.status_code == 401
        error(response)
    assert state(processing) == ("processing", None, None)


def test_a_notification_without_its_headers_is_a_401(cloud, processing, api_client):
    notification = cloud.finish_eager()

    response = api_client.post(WEBHOOK, notification.body, content_type="application/json")

    assert response.status_code == 401
    assert error(response)["message"] == (
        "The notification is not signed (X-Cld-Signature and X-Cld-Timestamp)"
    )
    assert state(processing) == ("processing", None, None)


def test_a_stale_notification_is_a_401_even_when_signed(cloud, processing, api_client):
    notification = cloud.finish_eager()
    stale = cloud.sign_notification(notification.body, timestamp=int(time.time()) - 3 * 3600)

    response = deliver(api_client, notification, **stale)

    assert response.status_code == 401
    assert error(response)["message"] == (
        "The notification's timestamp is too old, or ahead of the server's clock"
    )
    assert state(processing) == ("processing", None, None)


def test_a_notification_about_an_asset_no_video_uses_is_acknowledged(cloud, processing, api_client):
    body = json.dumps(
        {
            "notification_type": "eager",
            "public_id": "media/videos/someone-elses",
            "eager": [{"transformation": "sp_hd/m3u8", "secure_url": "https://x/y.m3u8"}],
        }
    ).encode()

    response = api_client.post(
        WEBHOOK, body, content_type="application/json", headers=cloud.sign_notification(body)
    )

    assert response.status_code == 200
    assert response.json()["message"] == "Notification received"
    assert state(processing) == ("processing", None, None)


def test_other_notifications_are_acknowledged_without_effect(cloud, processing, api_client):
    body = json.dumps(
        {"notification_type": "upload", "public_id": processing.video_file.name}
    ).encode()

    response = api_client.post(
        WEBHOOK, body, content_type="application/json", headers=cloud.sign_notification(body)
    )

    assert response.status_code == 200
    assert response.json()["message"] == "Notification received"
    assert state(processing) == ("processing", None, None)


@pytest.mark.parametrize(
    "body", [b"", b"{", b"[]", b"\xff\xfe\x00", b"null", b'{"eager": {"a": 1}}', b"[" * 50_000]
)
def test_garbage_bodies_are_refused_cleanly(cloud, processing, api_client, body):
    unsigned = api_client.post(WEBHOOK, body, content_type="application/json")
    signed = api_client.post(
        WEBHOOK,
        body,
        content_type="application/octet-stream",
        headers=cloud.sign_notification(body),
    )

    assert unsigned.status_code == 401
    assert signed.status_code in (200, 400)
    if signed.status_code == 400:
        assert error(signed)["message"] == "The notification's body is not a JSON object"
    assert state(processing) == ("processing", None, None)


def test_a_token_sent_along_is_not_read(cloud, processing, api_client):
    notification = cloud.finish_eager()

    response = deliver(api_client, notification, Authorization="Bearer not-a-token")

    assert response.status_code == 200
    assert state(processing)[0] == "ready"


def test_no_csrf_token_nor_trusted_origin_is_asked_for(cloud, processing, user):
    # A browser-like client that enforces CSRF, with the user's cookies and a foreign Origin:
    # the webhook reads no credential, so neither the CSRF check nor the cross-site check apply.
    browser = Client(enforce_csrf_checks=True)
    browser.cookies["accessToken"] = tokens_for(user)[0]
    notification = cloud.finish_eager()

    response = browser.post(
        WEBHOOK,
        notification.body,
        content_type="application/json",
        headers={
            "X-Cld-Timestamp": notification.headers["X-Cld-Timestamp"],
            "X-Cld-Signature": notification.headers["X-Cld-Signature"],
            "Origin": "https://elsewhere.example",
        },
    )

    assert response.status_code == 200
    assert state(processing)[0] == "ready"


def test_without_cloudinary_the_webhook_is_a_404(api_client):
    response = api_client.post(WEBHOOK, b"{}", content_type="application/json")

    assert response.status_code == 404
    assert error(response)["message"] == "Cloudinary notifications are not used on this server"


def test_only_post_is_answered(cloud, api_client):
    assert api_client.get(WEBHOOK).status_code == 405


# --- Deleting ----------------------------------------------------------------------------------


def test_a_deleted_users_unpublished_uploads_are_destroyed(
    cloud, django_capture_on_commit_callbacks
):
    user = UserFactory()
    uploaded(bearer_client(user), cloud)

    with django_capture_on_commit_callbacks(execute=True):
        users_delete(users=type(user).objects.filter(pk=user.pk))

    assert DirectUpload.objects.count() == 0
    assert cloud.public_ids() == []


# --- End to end -----------------------------------------------------------------------------------


def test_sign_upload_publish_notify_and_everyone_can_stream_it(
    cloud, auth_client, other_client, api_client, django_capture_on_commit_callbacks
):
    # 1. The client asks for a signature and uploads straight to Cloudinary with it.
    signed = sign(auth_client)
    stored = upload_to(cloud, media_bytes("sample.webm"), signed["formFields"], filename="c.webm")
    assert stored.json()["public_id"] == signed["publicId"]

    # 2. It publishes the video by its public id: processing, visible to its owner only.
    with django_capture_on_commit_callbacks(execute=True):
        published = publish(auth_client, signed["publicId"], title="Sunset")
    assert published.status_code == 201
    video_id = published.json()["data"]["id"]
    assert other_client.get(video_url(video_id)).status_code == 404

    # 3. Cloudinary makes the HLS rendition and notifies the webhook it was given.
    assert [job.public_id for job in cloud.eager_jobs] == [signed["publicId"]]
    notification = cloud.finish_eager(signed["publicId"])
    assert notification.url == f"http://testserver{WEBHOOK}"
    assert deliver(api_client, notification).status_code == 200

    # 4. Ready: listed, and anyone gets its streaming URL.
    hls = notification.payload["eager"][0]["secure_url"]
    detail = other_client.get(video_url(video_id))
    assert detail.status_code == 200
    assert (detail.json()["data"]["status"], detail.json()["data"]["streamingUrl"]) == (
        "ready",
        hls,
    )
    [listed] = api_client.get(VIDEOS).json()["data"]["docs"]
    assert (listed["id"], listed["title"], listed["streamingUrl"]) == (video_id, "Sunset", hls)
    assert hls.startswith("https://") and hls.endswith(".m3u8")
