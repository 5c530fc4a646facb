"""Cloudinary's notifications as media.cloudinary_direct reads them: signature and timestamp,
body, and what an eager notification says of a video's HLS rendition. The fake signs as
Cloudinary does; the SDK's own check must agree with ours."""

import json
import time

import cloudinary.api
import cloudinary.uploader
import cloudinary.utils
import pytest

from media import cloudinary_direct
from media.cloudinary_direct import NotificationRefused, StreamingOutcome
from media.errors import MediaRefused, MediaStorageError
from tests.conftest import media_bytes
from viztube import errors

BODY = json.dumps({"notification_type": "upload", "public_id": "media/videos/x"}).encode()


def verified(fake, body, **overrides):
    headers = {**fake.sign_notification(body), **overrides}
    return cloudinary_direct.notification_payload(
        body, timestamp=headers["X-Cld-Timestamp"], signature=headers["X-Cld-Signature"]
    )


def test_a_notification_signed_with_our_secret_is_read(fake_cloudinary):
    headers = fake_cloudinary.sign_notification(BODY)

    assert verified(fake_cloudinary, BODY) == json.loads(BODY)
    # The SDK's own check agrees with ours on the same notification.
    assert cloudinary.utils.verify_notification_signature(
        BODY.decode(), headers["X-Cld-Timestamp"], headers["X-Cld-Signature"]
    )


def test_the_signature_covers_body_and_timestamp(fake_cloudinary):
    headers = fake_cloudinary.sign_notification(BODY)
    other_body = BODY.replace(b"upload", b"delete")
    later = str(int(headers["X-Cld-Timestamp"]) + 1)

    with pytest.raises(NotificationRefused, match="signature does not match"):
        cloudinary_direct.notification_payload(
            other_body, timestamp=headers["X-Cld-Timestamp"], signature=headers["X-Cld-Signature"]
        )
    with pytest.raises(NotificationRefused, match="signature does not match"):
        cloudinary_direct.notification_payload(
            BODY, timestamp=later, signature=headers["X-Cld-Signature"]
        )


def test_a_signature_made_with_another_secret_is_refused(fake_cloudinary):
    timestamp = str(int(time.time()))
    forged = cloudinary.utils.compute_hex_hash(BODY.decode() + timestamp + "not-our-secret", "sha1")

    with pytest.raises(NotificationRefused, match="signature does not match"):
        cloudinary_direct.notification_payload(BODY, timestamp=timestamp, signature=forged)


@pytest.mark.parametrize(
    ("age", "accepted"),
    [(0, True), (7190, True), (7210, False), (-200, True), (-400, False)],
)
def test_timestamps_older_than_two_hours_or_ahead_of_the_clock_are_refused(
    fake_cloudinary, age, accepted
):
    headers = fake_cloudinary.sign_notification(BODY, timestamp=int(time.time()) - age)

    def read():
        return cloudinary_direct.notification_payload(
            BODY, timestamp=headers["X-Cld-Timestamp"], signature=headers["X-Cld-Signature"]
        )

    if accepted:
        assert read() == json.loads(BODY)
    else:
        with pytest.raises(NotificationRefused, match="too old, or ahead"):
            read()


@pytest.mark.parametrize(
    ("timestamp", "signature", "message"),
    [
        (None, "abc", "is not signed"),
        ("123", None, "is not signed"),
        ("", "", "is not signed"),
        ("12a", "abc", "not a Unix time"),
        ("١٢٣", "abc", "not a Unix time"),  # digits, but not ASCII ones
        ("9" * 13, "abc", "not a Unix time"),
        ("123", "é" * 40, "signature does not match"),
        ("123", "a" * 129, "signature does not match"),
    ],
)
def test_missing_or_malformed_headers_are_refused(fake_cloudinary, timestamp, signature, message):
    with pytest.raises(NotificationRefused, match=message):
        cloudinary_direct.notification_payload(BODY, timestamp=timestamp, signature=signature)


@pytest.mark.parametrize(
    "body", [b"", b"not json", b"[1, 2]", b'"text"', b"\xff\xfe", b"[" * 100_000, b"null"]
)
def test_a_signed_body_that_is_not_a_json_object_is_a_bad_request(fake_cloudinary, body):
    with pytest.raises(errors.InvalidRequest, match="not a JSON object"):
        verified(fake_cloudinary, body)


def test_sha256_signatures_when_the_account_signs_with_sha256(fake_cloudinary):
    cloudinary.config(signature_algorithm="sha256")
    timestamp = str(int(time.time()))
    signature = cloudinary.utils.compute_hex_hash(
        BODY.decode() + timestamp + fake_cloudinary.api_secret, "sha256"
    )

    assert cloudinary_direct.notification_payload(
        BODY, timestamp=timestamp, signature=signature.upper()
    ) == json.loads(BODY)


# --- What an eager notification says ----------------------------------------------------------


def eager(*items, **fields):
    return {
        "notification_type": "eager",
        "public_id": "media/videos/v1",
        "eager": list(items),
        **fields,
    }


HLS = {
    "transformation": "sp_hd/m3u8",
    "format": "m3u8",
    "secure_url": "https://res.example.com/c/video/upload/sp_hd/v1/media/videos/v1.m3u8",
}


def test_a_finished_hls_rendition_gives_its_secure_url():
    thumbnail = {"transformation": "so_0/jpg", "format": "jpg", "secure_url": "https://x/y.jpg"}

    assert cloudinary_direct.streaming_outcome(eager(thumbnail, HLS)) == StreamingOutcome(
        "media/videos/v1", streaming_url=HLS["secure_url"]
    )


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (
            {"transformation": "sp_hd/m3u8", "status": "failed", "reason": "Video too long"},
            "Video too long",
        ),
        ({"transformation": "sp_hd/m3u8", "error": {"message": "Bad video"}}, "Bad video"),
        ({"transformation": "sp_hd/m3u8", "status": "failed"}, "no reason given"),
    ],
)
def test_a_failed_hls_rendition_gives_the_reason(item, reason):
    assert cloudinary_direct.streaming_outcome(eager(item)) == StreamingOutcome(
        "media/videos/v1", failure=reason
    )


@pytest.mark.parametrize(
    "payload",
    [
        {"notification_type": "upload", "public_id": "media/videos/v1"},
        eager(),
        eager({"transformation": "so_0/jpg", "format": "jpg", "secure_url": "https://x/y.jpg"}),
        eager(HLS, resource_type="image"),
        eager(HLS, public_id=None),
        eager(HLS, public_id=""),
        eager(HLS, public_id=["media/videos/v1"]),
        eager(HLS, public_id="p" * 256),
        {"notification_type": "eager", "public_id": "media/videos/v1", "eager": "sp_hd/m3u8"},
        eager("sp_hd/m3u8", 12, None),
        eager({**HLS, "secure_url": "http://insecure/v1.m3u8"}),
        eager({**HLS, "secure_url": "https://x/" + "a" * 500 + ".m3u8"}),
        {},
    ],
)
def test_anything_else_says_nothing_of_a_rendition(payload):
    assert cloudinary_direct.streaming_outcome(payload) is None


# --- The fake's eager jobs and notifications -----------------------------------------------------


def test_the_fake_answers_an_async_eager_request_and_notifies_when_told(fake_cloudinary):
    result = cloudinary.uploader.upload(
        media_bytes("sample.mp4"), resource_type="video", public_id="media/videos/e2e"
    )

    answer = cloudinary_direct.request_streaming(
        "media/videos/e2e", notification_url="https://api.example.com/hook"
    )

    assert answer["eager"][0]["status"] == "processing"
    [explicit] = fake_cloudinary.explicits
    assert explicit.params["eager"] == "sp_hd/m3u8"
    assert explicit.params["eager_async"] == "1"
    assert explicit.params["eager_notification_url"] == "https://api.example.com/hook"
    assert [job.public_id for job in fake_cloudinary.eager_jobs] == ["media/videos/e2e"]
    notification = fake_cloudinary.finish_eager("media/videos/e2e")
    assert fake_cloudinary.eager_jobs == []
    assert notification.url == "https://api.example.com/hook"
    payload = cloudinary_direct.notification_payload(
        notification.body,
        timestamp=notification.headers["X-Cld-Timestamp"],
        signature=notification.headers["X-Cld-Signature"],
    )
    outcome = cloudinary_direct.streaming_outcome(payload)
    assert outcome.public_id == "media/videos/e2e"
    assert outcome.streaming_url == (
        f"https://{fake_cloudinary.host}/{fake_cloudinary.cloud_name}/video/upload/sp_hd/"
        f"v{result['version']}/media/videos/e2e.m3u8"
    )
    # The Admin API lists the rendition among the asset's derived ones from then on.
    derived = cloudinary.api.resource("media/videos/e2e", resource_type="video")["derived"]
    assert [d["secure_url"] for d in derived] == [outcome.streaming_url]


def test_the_streaming_profile_is_a_setting(fake_cloudinary, settings):
    settings.CLOUDINARY_STREAMING_PROFILE = "full_hd"
    cloudinary.uploader.upload(
        media_bytes("sample.mp4"), resource_type="video", public_id="media/videos/p"
    )

    cloudinary_direct.request_streaming("media/videos/p", notification_url="")

    [explicit] = fake_cloudinary.explicits
    assert explicit.params["eager"] == "sp_full_hd/m3u8"
    assert "eager_notification_url" not in explicit.params


def test_asking_for_a_rendition_of_a_missing_video_is_refused(fake_cloudinary):
    with pytest.raises(MediaRefused):
        cloudinary_direct.request_streaming("media/videos/none", notification_url="")
    fake_cloudinary.fail("explicit", status=500)
    cloudinary.uploader.upload(
        media_bytes("sample.mp4"), resource_type="video", public_id="media/videos/q"
    )
    with pytest.raises(MediaStorageError):
        cloudinary_direct.request_streaming("media/videos/q", notification_url="")
    assert fake_cloudinary.eager_jobs == []
