from notifications import views
from viztube.api.routes import route

notifications = views.NotificationViewSet
settings = views.NotificationSettingsViewSet

urlpatterns = [
    route("notifications", notifications.as_view({"get": "list"}), name="notifications"),
    route("notifications/read", notifications.as_view({"post": "read"}), name="notifications-read"),
    route(
        "notifications/settings",
        settings.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="notification-settings",
    ),
]
