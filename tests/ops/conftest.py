"""Fixtures of the operator-command tests."""

import pytest

from tests.ops.cloudinary_listing import ListingHandler, drop_admin_api_connections


@pytest.fixture
def fake_cloudinary_listing(fake_cloudinary):
    """``fake_cloudinary`` that also answers the Admin API's ``resources`` listing."""
    server = fake_cloudinary._httpd
    original = server.RequestHandlerClass
    server.RequestHandlerClass = ListingHandler
    drop_admin_api_connections()
    try:
        yield fake_cloudinary
    finally:
        server.RequestHandlerClass = original
        drop_admin_api_connections()
