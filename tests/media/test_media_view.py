"""Local media at /media/<path>: byte ranges for seeking, types from bytes, nothing outside MEDIA_ROOT."""

import os
import threading
import urllib.request
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from django.core.wsgi import get_wsgi_application
from django.utils.http import http_date

from tests.conftest import image_bytes, media_bytes

VIDEO = media_bytes("sample.mp4")  # 6,042 bytes
SIZE = len(VIDEO)


@pytest.fixture
def media_root(settings):
    root = Path(settings.MEDIA_ROOT)
    (root / "videos").mkdir(parents=True)
    (root / "videos" / "clip.mp4").write_bytes(VIDEO)
    return root


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_whole_file_without_range(client, media_root):
    response = client.get("/media/videos/clip.mp4")

    assert response.status_code == 200
    assert response.streaming  # FileResponse: read block by block, never whole
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Length"] == str(SIZE)
    assert "Content-Range" not in response
    assert body(response) == VIDEO


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-100", 100, 100),
        ("bytes=6000-", 6000, SIZE - 1),
        ("bytes=-100", SIZE - 100, SIZE - 1),
        ("bytes=-100000", 0, SIZE - 1),  # a suffix longer than the file is the whole file
        ("bytes=5000-999999", 5000, SIZE - 1),  # the end is clamped to the file
    ],
)
def test_single_range_is_206_with_content_range(client, media_root, header, first, last):
    response = client.get("/media/videos/clip.mp4", HTTP_RANGE=header)

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/{SIZE}"
    assert response["Content-Length"] == str(last - first + 1)
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"
    assert body(response) == VIDEO[first : last + 1]


@pytest.mark.parametrize("header", [f"bytes={SIZE}-", "bytes=999999-1000000", "bytes=-0"])
def test_unsatisfiable_range_is_416(client, media_root, header):
    response = client.get("/media/videos/clip.mp4", HTTP_RANGE=header)

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{SIZE}"
    assert response.json()["statusCode"] == 416
    assert response.json()["success"] is False


def test_any_range_of_an_empty_file_is_416(client, media_root):
    (media_root / "videos" / "empty.mp4").write_bytes(b"")

    assert client.get("/media/videos/empty.mp4").status_code == 200
    response = client.get("/media/videos/empty.mp4", HTTP_RANGE="bytes=0-")
    assert response.status_code == 416
    assert response["Content-Range"] == "bytes */0"


@pytest.mark.parametrize(
    "header", ["bytes=0-1,5-6", "bytes=9-2", "items=0-5", "bytes=abc", "bytes=-", "bytes 0-5"]
)
def test_ranges_we_do_not_serve_get_the_whole_file(client, media_root, header):
    """RFC 9110 lets a server ignore Range: several ranges, other units and malformed values."""
    response = client.get("/media/videos/clip.mp4", HTTP_RANGE=header)

    assert response.status_code == 200
    assert "Content-Range" not in response
    assert body(response) == VIDEO


def test_if_range_honours_the_range_only_for_the_current_file(client, media_root):
    path = media_root / "videos" / "clip.mp4"
    current = http_date(path.stat().st_mtime)

    fresh = client.get("/media/videos/clip.mp4", HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=current)
    stale = client.get(
        "/media/videos/clip.mp4",
        HTTP_RANGE="bytes=0-9",
        HTTP_IF_RANGE=http_date(path.stat().st_mtime - 3600),
    )

    assert fresh.status_code == 206
    assert fresh["Last-Modified"] == current
    assert body(fresh) == VIDEO[:10]
    assert stale.status_code == 200
    assert body(stale) == VIDEO


def test_ranges_span_several_read_blocks(client, settings):
    data = os.urandom(300_000)
    Path(settings.MEDIA_ROOT).mkdir(parents=True)
    (Path(settings.MEDIA_ROOT) / "blob.mp4").write_bytes(data)

    response = client.get("/media/blob.mp4", HTTP_RANGE="bytes=1000-250000")

    assert response.status_code == 206
    assert body(response) == data[1000:250001]


def test_head_sends_the_headers_without_a_body(client, media_root):
    whole = client.head("/media/videos/clip.mp4")
    part = client.head("/media/videos/clip.mp4", HTTP_RANGE="bytes=10-19")

    assert whole.status_code == 200
    assert whole["Content-Length"] == str(SIZE)
    assert whole["Content-Type"] == "video/mp4"
    assert whole["Accept-Ranges"] == "bytes"
    assert whole.content == b""
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 10-19/{SIZE}"
    assert part["Content-Length"] == "10"
    assert part.content == b""


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_only_get_and_head(client, media_root, method):
    response = getattr(client, method)("/media/videos/clip.mp4")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json()["success"] is False
    assert (media_root / "videos" / "clip.mp4").read_bytes() == VIDEO


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("clip.webm", media_bytes("sample.webm"), "video/webm"),
        ("clip.mov", media_bytes("sample.mov"), "video/quicktime"),
        ("a.png", image_bytes("PNG"), "image/png"),
        ("a.jpg", image_bytes("JPEG"), "image/jpeg"),
        # The bytes win over the name.
        ("not-really.mp4", image_bytes("WEBP"), "image/webp"),
        # Unknown bytes: the extension only when it names an inert type.
        ("page.html", b"<html><script>alert(1)</script></html>", "application/octet-stream"),
        ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "application/octet-stream"),
        ("clip.ogv", b"not a known signature", "video/ogg"),
    ],
)
def test_content_type_comes_from_the_bytes(client, settings, name, data, content_type):
    Path(settings.MEDIA_ROOT).mkdir(parents=True)
    (Path(settings.MEDIA_ROOT) / name).write_bytes(data)

    response = client.get(f"/media/{name}")

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"


def test_missing_file_and_folder_are_json_404(client, media_root):
    for path in ["/media/videos/nope.mp4", "/media/videos", "/media/videos/"]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["statusCode"] == 404
        assert response.json()["message"] == "Media not found"


@pytest.mark.parametrize(
    "path",
    [
        "/media/../secret.txt",
        "/media/videos/../../secret.txt",
        "/media/%2e%2e/secret.txt",
        "/media/..%2fsecret.txt",
        "/media//{secret}",
        "/media/link-out.txt",
    ],
)
def test_nothing_outside_media_root_is_served(client, media_root, path):
    secret = media_root.parent / "secret.txt"
    secret.write_text("the secret")
    # A symlink inside MEDIA_ROOT pointing out of it is refused as well.
    (media_root / "link-out.txt").symlink_to(secret)

    response = client.get(path.format(secret=secret))

    assert response.status_code == 404
    assert b"the secret" not in body(response)


@pytest.fixture
def wsgi_server():
    """The project's WSGI application behind wsgiref, like ``runserver``.

    Not pytest-django's ``live_server``: Django's live server answers MEDIA_URL itself (with
    ``django.views.static.serve``), so our view would never be reached.
    """
    server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def test_a_real_http_client_gets_the_range(wsgi_server, media_root):
    """Through a WSGI server, where Django hands the file to ``wsgi.file_wrapper``."""
    request = urllib.request.Request(
        f"{wsgi_server}/media/videos/clip.mp4", headers={"Range": "bytes=100-1099"}
    )

    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 206
        assert response.headers["Content-Range"] == f"bytes 100-1099/{SIZE}"
        assert response.headers["Content-Length"] == "1000"
        assert response.read() == VIDEO[100:1100]
