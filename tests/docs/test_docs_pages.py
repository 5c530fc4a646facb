"""/api/docs/ (Swagger UI) and /api/redoc/ (ReDoc) load every script, stylesheet and image from
this site: they work offline, at the versions pinned in pyproject.toml, never a CDN's @latest."""

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

DOCS_PAGES = ("/api/docs/", "/api/redoc/")
# What each page must load (the assets' names, before collectstatic adds its hashes).
EXPECTED_ASSETS = {
    "/api/docs/": (
        "swagger-ui-bundle",
        "swagger-ui-standalone-preset",
        "swagger-ui",
        "favicon-32x32",
    ),
    "/api/redoc/": ("redoc.standalone",),
}
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
# Any URL that names a host: https://cdn..., http://..., or protocol-relative //cdn...
OTHER_HOST = re.compile(r"(?:https?:)?//[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)


class _AssetUrls(HTMLParser):
    """The URLs an HTML page makes the browser fetch: script src, link href, img src."""

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img") and attrs.get("src"):
            self.urls.append(attrs["src"])
        elif tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])


def asset_urls(html):
    parser = _AssetUrls()
    parser.feed(html)
    return parser.urls


def is_same_origin(url):
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and url.startswith("/") and "//" not in url


@pytest.mark.parametrize("page", DOCS_PAGES)
def test_docs_page_loads_nothing_from_another_host(client, page):
    response = client.get(page)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    urls = asset_urls(html)
    assert urls, "the page loads no script or stylesheet"
    assert [url for url in urls if not is_same_origin(url)] == []
    # Nor does an inline script or an attribute name another host (no CDN, no web fonts).
    assert OTHER_HOST.findall(html) == []
    for name in EXPECTED_ASSETS[page]:
        assert any(f"/{name}." in url for url in urls), name
    assert all(url.startswith("/static/drf_spectacular_sidecar/") for url in urls)


def test_redoc_page_keeps_the_browser_from_fetching_images_elsewhere(client):
    """ReDoc's sidebar adds Redocly's logo from cdn.redoc.ly at run time (not in the HTML): the
    page's policy allows images from this site (and data: URLs) only."""
    html = client.get("/api/redoc/").content.decode()
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', html)
    assert policy
    assert policy.group(1) == "img-src 'self' data:"
    assert html.index("Content-Security-Policy") < html.index("<script")


@pytest.mark.parametrize("page", DOCS_PAGES)
def test_docs_page_reads_the_schema_from_this_site(client, page):
    html = client.get(page).content.decode()

    assert re.search(r"""(?:url: |spec-url=)"/api/schema/\"""", html)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/videos/" in schema.content


def _production_static_settings(static_root):
    return override_settings(
        DEBUG=False,
        STATIC_ROOT=str(static_root),
        STORAGES={
            **django_settings.STORAGES,
            "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
        },
        WHITENOISE_AUTOREFRESH=False,
        WHITENOISE_USE_FINDERS=False,
    )


@pytest.fixture(scope="module")
def collected_static_root(tmp_path_factory):
    """``collectstatic`` as the Docker image runs it: hashed names, gzip copies, a manifest."""
    static_root = tmp_path_factory.mktemp("staticfiles")
    with _production_static_settings(static_root):
        call_command("collectstatic", "--noinput", verbosity=0)
    return static_root


@pytest.fixture
def production_static_files(collected_static_root):
    """Static files as production serves them: from STATIC_ROOT by WhiteNoise (not from the
    apps' folders, no autorefresh), under their hashed names, with DEBUG off."""
    with _production_static_settings(collected_static_root):
        yield collected_static_root


@pytest.mark.slow
@pytest.mark.parametrize("page", DOCS_PAGES)
def test_every_asset_of_a_docs_page_is_served_in_production(production_static_files, page):
    client = Client()  # a new client: its WhiteNoise reads the STATIC_ROOT collected above
    response = client.get(page)
    assert response.status_code == 200
    urls = asset_urls(response.content.decode())
    for name in EXPECTED_ASSETS[page]:
        assert any(f"/{name}." in url for url in urls), name

    for url in urls:
        assert is_same_origin(url), url
        # collectstatic's hashed name: WhiteNoise serves it with a far-future cache lifetime.
        assert re.search(r"\.[0-9a-f]{12}\.\w+$", url), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        extension = "." + url.rsplit(".", 1)[1]
        assert asset["Content-Type"].split(";")[0] == CONTENT_TYPES[extension], url
        assert "immutable" in asset["Cache-Control"], url
        body = b"".join(asset.streaming_content)
        assert len(body) == int(asset["Content-Length"]) > 0, url
        assert (
            production_static_files / urlsplit(url).path.removeprefix("/static/")
        ).read_bytes() == body
