"""POST /uploads/cloudinary-signature: signed parameters for one upload straight to Cloudinary
(the fake, which checks every signature with the real SDK's algorithm)."""

import re
from datetime import timedelta

import cloudinary.utils
import pytest
import urllib3
from django.utils import timezone

from media import services
from media.models import DirectUpload
from tests.conftest import media_bytes
from tests.media.conftest import error

pytestmark = pytest.mark.django_db

SIGN = "/api/v1/uploads/cloudinary-signature"
PUBLIC_ID = re.compile(r"^media/videos/[0-9a-f]{32}$")


def signed(client, **body):
    response = client.post(SIGN, body or None, format="json")
    assert response.status_code in (200, 201), response.json()
    return response.json()["data"]


def upload_to(fake, data, fields, *, resource_type="video", filename="clip.mp4"):
    """POST ``data`` to the fake as a browser would, with the signed ``fields``."""
    url = f"{fake.url}/v1_1/{fake.cloud_name}/{resource_type}/upload"
    return urllib3.request("POST", url, fields={**fields, "file": (filename, data)})


def test_signs_one_public_id_in_the_videos_folder(fake_cloudinary, auth_client, user):
    response = auth_client.post(SIGN)

    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "Upload signed"
    data = body["data"]
    upload = DirectUpload.objects.get()
    assert (upload.owner, upload.public_id) == (user, data["publicId"])
    assert PUBLIC_ID.match(data["publicId"])
    fake = fake_cloudinary
    assert data["uploadUrl"] == f"{fake.url}/v1_1/{fake.cloud_name}/video/upload"
    assert (data["cloudName"], data["apiKey"], data["resourceType"]) == (
        fake.cloud_name,
        fake.api_key,
        "video",
    )
    assert data["notificationUrl"] == "http://testserver/api/v1/webhooks/cloudinary"
    assert abs(data["timestamp"] - timezone.now().timestamp()) < 60
    fields = data["formFields"]
    assert fields == {
        "public_id": data["publicId"],
        "timestamp": str(data["timestamp"]),
        "overwrite": "0",
        "notification_url": data["notificationUrl"],
        "tags": "media",
        "signature": data["signature"],
        "api_key": fake.api_key,
    }
    # What the SDK computes over every field but the signature and the key, with our secret.
    to_sign = {k: v for k, v in fields.items() if k not in ("signature", "api_key")}
    assert cloudinary.utils.api_sign_request(to_sign, fake.api_secret) == data["signature"]
    expires = timezone.now() + timedelta(hours=24)
    assert abs((upload.expires_at - expires).total_seconds()) < 60
    assert data["expiresAt"] == upload.expires_at.isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )
    # Signing stores nothing on Cloudinary.
    assert fake.assets == {} and fake.uploads == []


def test_the_signed_fields_upload_the_video_under_that_public_id_and_nothing_else(
    fake_cloudinary, auth_client
):
    data = signed(auth_client)
    fields = data["formFields"]

    honest = upload_to(fake_cloudinary, media_bytes("sample.mp4"), fields)
    moved = upload_to(
        fake_cloudinary, media_bytes("sample.mp4"), {**fields, "public_id": "media/videos/mine"}
    )
    replaced = upload_to(fake_cloudinary, media_bytes("sample.webm"), fields)

    assert honest.status == 200, honest.json()
    assert honest.json()["public_id"] == data["publicId"]
    assert moved.status == 401  # the public id is signed
    # overwrite=0 is signed too: a second upload under the id leaves the first in place.
    assert replaced.json()["existing"] is True
    [asset] = fake_cloudinary.assets.values()
    assert (asset.public_id, asset.resource_type, asset.format) == (
        data["publicId"],
        "video",
        "mp4",
    )
    assert asset.read() == media_bytes("sample.mp4")


def test_each_call_issues_a_new_public_id(fake_cloudinary, auth_client):
    first, second = signed(auth_client), signed(auth_client)

    assert first["publicId"] != second["publicId"]
    assert DirectUpload.objects.count() == 2


def test_a_public_id_issued_to_the_caller_is_signed_again(fake_cloudinary, auth_client):
    first = signed(auth_client)
    DirectUpload.objects.update(expires_at=timezone.now() + timedelta(minutes=5))

    response = auth_client.post(SIGN, {"publicId": first["publicId"]}, format="json")

    assert response.status_code == 200
    assert response.json()["message"] == "Upload signed again"
    again = response.json()["data"]
    assert again["publicId"] == first["publicId"]
    assert again["formFields"]["public_id"] == first["publicId"]
    # Its time starts again.
    upload = DirectUpload.objects.get()
    assert upload.expires_at > timezone.now() + timedelta(hours=23)


@pytest.mark.parametrize("whose", ["another user's", "made up", "expired"])
def test_signing_again_a_public_id_not_open_for_the_caller_is_a_404(
    fake_cloudinary, auth_client, other_client, whose
):
    public_id = signed(other_client)["publicId"] if whose == "another user's" else ""
    if whose == "made up":
        public_id = "media/videos/" + "a" * 32
    if whose == "expired":
        public_id = signed(auth_client)["publicId"]
        DirectUpload.objects.update(expires_at=timezone.now())
    before = list(DirectUpload.objects.values())

    response = auth_client.post(SIGN, {"publicId": public_id}, format="json")

    assert response.status_code == 404
    assert error(response)["message"] == "Cloudinary upload not found"
    assert list(DirectUpload.objects.values()) == before


def test_without_cloudinary_the_route_is_a_404_and_writes_nothing(auth_client):
    response = auth_client.post(SIGN)

    assert response.status_code == 404
    assert error(response)["message"] == (
        "Direct uploads to Cloudinary are not available on this server"
    )
    assert DirectUpload.objects.count() == 0


def test_anonymous_callers_get_a_401(fake_cloudinary, api_client):
    response = api_client.post(SIGN)

    assert response.status_code == 401
    error(response)
    assert DirectUpload.objects.count() == 0


@pytest.mark.parametrize("public_id", [12, "", "x" * 256, None])
def test_a_public_id_that_is_not_text_of_1_to_255_characters_is_a_422(
    fake_cloudinary, auth_client, public_id
):
    response = auth_client.post(SIGN, {"publicId": public_id}, format="json")

    assert response.status_code == 422
    assert "publicId" in error(response)["fields"]
    assert DirectUpload.objects.count() == 0


def test_a_caller_with_the_most_open_public_ids_gets_a_429(fake_cloudinary, auth_client, settings):
    settings.UPLOAD_SESSIONS_MAX = 2
    signed(auth_client)
    signed(auth_client)

    refused = auth_client.post(SIGN)

    assert refused.status_code == 429
    assert error(refused)["message"] == (
        "You have 2 direct uploads open (at most 2): publish one or let one expire first"
    )
    assert 23 * 3600 < int(refused["Retry-After"]) <= 24 * 3600
    assert DirectUpload.objects.count() == 2
    # An expired one frees its place.
    DirectUpload.objects.filter(pk=DirectUpload.objects.first().pk).update(
        expires_at=timezone.now()
    )
    assert auth_client.post(SIGN).status_code == 201


def test_signing_counts_in_the_upload_rate_limit(fake_cloudinary, auth_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "upload": "2/h"}
    signed(auth_client)
    signed(auth_client)

    third = auth_client.post(SIGN)

    assert third.status_code == 429
    assert "Retry-After" in third
    assert DirectUpload.objects.count() == 2


def test_the_configured_notification_url_is_signed(fake_cloudinary, auth_client, settings):
    settings.CLOUDINARY_NOTIFICATION_URL = "https://api.example.com/api/v1/webhooks/cloudinary"

    data = signed(auth_client)

    assert data["notificationUrl"] == settings.CLOUDINARY_NOTIFICATION_URL
    assert data["formFields"]["notification_url"] == settings.CLOUDINARY_NOTIFICATION_URL


def test_expired_direct_uploads_are_deleted_with_their_assets(
    fake_cloudinary, auth_client, django_capture_on_commit_callbacks
):
    stale, fresh = signed(auth_client), signed(auth_client)
    for data in (stale, fresh):
        assert (
            upload_to(fake_cloudinary, media_bytes("sample.mp4"), data["formFields"]).status == 200
        )
    DirectUpload.objects.filter(public_id=stale["publicId"]).update(expires_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        assert services.direct_uploads_expire() == 1

    assert list(DirectUpload.objects.values_list("public_id", flat=True)) == [fresh["publicId"]]
    assert fake_cloudinary.public_ids("video") == [fresh["publicId"]]
    [destroy] = fake_cloudinary.destroys
    assert (destroy.params["public_id"], destroy.resource_type) == (stale["publicId"], "video")
