"""The ASGI application, without side effects: HTTP to Django, WebSockets to the routes of
``settings.WEBSOCKET_URLCONF``. ``viztube.asgi`` serves it; the tests drive it directly."""

from importlib import import_module

from django.core.asgi import get_asgi_application

# First: sets Django up, which the WebSocket routes' modules (models, ...) need.
http_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import re_path  # noqa: E402

from viztube import realtime  # noqa: E402


async def no_such_route(scope, receive, send):
    """Any other WebSocket path: the handshake is refused (a 403 to the client), quietly."""
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.close"})


websocket_routes = [
    *import_module(settings.WEBSOCKET_URLCONF).websocket_urlpatterns,
    re_path(r"", no_such_route),
]

application = ProtocolTypeRouter(
    {
        "http": http_application,
        "websocket": realtime.serving(URLRouter(websocket_routes)),
    }
)
