from django.apps import AppConfig
from django.conf import settings


class VideosConfig(AppConfig):
    name = "videos"

    def ready(self):
        from videos import services
        from viztube import periodic

        periodic.register(
            "publish-scheduled-videos",
            every_seconds=settings.SCHEDULED_PUBLISHING_SECONDS,
            run=services.videos_publish_due,
        )
