"""The Admin API listing (``GET /v1_1/<cloud>/resources/<type>/upload``) for the fake Cloudinary.

``tests/fakes/cloudinary.py`` serves the Upload API (upload, destroy) and delivery, but not the
Admin API's ``resources`` listing that ``purge_orphan_media`` reads. Until the fake serves it,
the ``fake_cloudinary_listing`` fixture (tests/ops/conftest.py) adds it to the running fake for
one test by swapping the server's handler class for this subclass (the fake's state, signatures
and faults are untouched). It answers as Cloudinary does: Basic auth with the API key and secret, ``prefix`` / ``max_results`` /
``next_cursor`` paging, one resource type per call, ``created_at`` from when the asset was stored.
"""

import base64
import json
import re
import time
from urllib.parse import parse_qs, urlsplit

import cloudinary.api_client.call_api

from tests.fakes.cloudinary import _Handler

_RESOURCES_PATH = re.compile(
    r"^/v1_1/(?P<cloud>[^/]+)/resources/(?P<resource_type>image|video|raw)/upload$"
)


class ListingHandler(_Handler):
    def do_GET(self):
        url = urlsplit(self.path)
        match = _RESOURCES_PATH.match(url.path)
        if not match:
            super().do_GET()
            return
        fake = self.server.fake
        credentials = base64.b64encode(f"{fake.api_key}:{fake.api_secret}".encode()).decode()
        if match["cloud"] != fake.cloud_name or self.headers.get("Authorization") != (
            f"Basic {credentials}"
        ):
            self._answer(401, {"error": {"message": "Invalid credentials"}})
            return
        query = parse_qs(url.query)
        prefix = query.get("prefix", [""])[0]
        max_results = min(500, int(query.get("max_results", ["10"])[0]))
        start = int(query.get("next_cursor", ["0"])[0])
        assets = sorted(
            (
                asset
                for asset in fake.assets.values()
                if asset.resource_type == match["resource_type"]
                and asset.public_id.startswith(prefix)
            ),
            key=lambda asset: asset.public_id,
        )
        page = assets[start : start + max_results]
        body = {
            "resources": [
                {
                    "public_id": asset.public_id,
                    "resource_type": asset.resource_type,
                    "type": "upload",
                    "format": asset.format,
                    "version": asset.version,
                    "bytes": asset.bytes,
                    "created_at": time.strftime(
                        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(asset.path.stat().st_mtime)
                    ),
                }
                for asset in page
            ]
        }
        if start + max_results < len(assets):
            body["next_cursor"] = str(start + max_results)
        self._answer(200, body)

    def _answer(self, status, body):
        self._send(status, json.dumps(body).encode(), "application/json")


def drop_admin_api_connections():
    """Close the SDK's pooled Admin API connections.

    A kept-alive connection stays with the handler instance that accepted it, so after a swap of
    the handler class the SDK must open new connections to reach the new class (and vice versa).
    """
    cloudinary.api_client.call_api._http.clear()
