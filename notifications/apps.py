from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        # Connects the receivers of the lower apps' signals.
        from notifications import receivers  # noqa: F401
