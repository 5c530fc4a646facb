"""The fake Cloudinary itself: what it accepts and refuses must match Cloudinary, or the storage
tests would prove nothing. Driven by the real SDK, or by hand where the SDK cannot misbehave."""

import time

import cloudinary
import cloudinary.uploader
import cloudinary.utils
import pytest
import urllib3
from cloudinary.exceptions import AuthorizationRequired, BadRequest

from tests.conftest import image_bytes, media_bytes


def _post_signed(fake, params, signed_params, resource_type="image"):
    """POST an upload whose signature covers ``signed_params`` but which sends ``params``."""
    signature = cloudinary.utils.api_sign_request(signed_params, fake.api_secret)
    fields = {**params, "signature": signature, "api_key": fake.api_key}
    fields["file"] = ("a.png", image_bytes())
    return urllib3.request(
        "POST", f"{fake.url}/v1_1/{fake.cloud_name}/{resource_type}/upload", fields=fields
    )


def test_a_parameter_outside_the_signature_is_refused(fake_cloudinary):
    signed = {"timestamp": str(int(time.time())), "folder": "avatars"}

    honest = _post_signed(fake_cloudinary, signed, signed)
    tampered = _post_signed(fake_cloudinary, {**signed, "folder": "elsewhere"}, signed)

    assert honest.status == 200
    assert honest.json()["public_id"].startswith("avatars/")
    assert tampered.status == 401
    assert "Invalid Signature" in tampered.json()["error"]["message"]
    assert len(fake_cloudinary.assets) == 1


def test_a_stale_timestamp_is_refused(fake_cloudinary):
    stale = {"timestamp": str(int(time.time()) - 7200)}

    response = _post_signed(fake_cloudinary, stale, stale)

    assert response.status == 400
    assert fake_cloudinary.assets == {}


def test_answers_like_cloudinary(fake_cloudinary):
    result = cloudinary.uploader.upload(
        media_bytes("sample.webm"), resource_type="video", public_id="clips/one"
    )

    assert result["public_id"] == "clips/one"
    assert (result["resource_type"], result["format"], result["bytes"]) == ("video", "webm", 4162)
    assert (result["width"], result["height"], result["duration"]) == (64, 64, 1.0)
    assert result["secure_url"].startswith("https://")
    assert result["secure_url"].endswith(f"/video/upload/v{result['version']}/clips/one.webm")
    assert cloudinary.CloudinaryResource(
        result["public_id"], version=result["version"], signature=result["signature"]
    ).validate()


def test_auto_and_raw_resource_types(fake_cloudinary):
    image = cloudinary.uploader.upload(image_bytes("JPEG"), resource_type="auto")
    raw = cloudinary.uploader.upload(b"just some bytes", resource_type="raw")

    assert (image["resource_type"], image["format"]) == ("image", "jpg")
    assert raw["resource_type"] == "raw"
    assert sorted(a.resource_type for a in fake_cloudinary.assets.values()) == ["image", "raw"]


def test_an_image_endpoint_refuses_other_bytes(fake_cloudinary):
    with pytest.raises(BadRequest, match="Invalid image file"):
        cloudinary.uploader.upload(media_bytes("sample.mp4"), resource_type="image")


def test_destroy_needs_the_right_resource_type(fake_cloudinary):
    public_id = cloudinary.uploader.upload(image_bytes())["public_id"]

    assert cloudinary.uploader.destroy(public_id, resource_type="video") == {"result": "not found"}
    assert fake_cloudinary.public_ids("image") == [public_id]
    assert cloudinary.uploader.destroy(public_id) == {"result": "ok"}
    assert fake_cloudinary.assets == {}


def test_unknown_api_key_is_refused(fake_cloudinary):
    with pytest.raises(AuthorizationRequired, match="Unknown API key"):
        cloudinary.uploader.upload(image_bytes(), api_key="999")


def test_delivery_serves_stored_assets(fake_cloudinary):
    data = image_bytes()
    public_id = cloudinary.uploader.upload(data)["public_id"]
    url = cloudinary.CloudinaryImage(public_id).build_url(secure=False)

    found = urllib3.request("GET", url)
    head = urllib3.request("HEAD", url)
    missing = urllib3.request("GET", url.replace(public_id, "nope"))

    assert url.startswith(fake_cloudinary.url)
    assert (found.status, found.data) == (200, data)
    assert found.headers["Content-Type"] == "image/png"
    assert (head.status, head.headers["Content-Length"], head.data) == (200, str(len(data)), b"")
    assert missing.status == 404
