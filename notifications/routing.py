"""The WebSocket routes (``settings.WEBSOCKET_URLCONF``; viztube.routing serves them)."""

from django.urls import re_path

from notifications.consumers import NotificationsConsumer

websocket_urlpatterns = [
    # With or without a trailing slash, as every HTTP route.
    re_path(r"^ws/notifications/?$", NotificationsConsumer.as_asgi()),
]
