from django.apps import AppConfig


class ViztubeConfig(AppConfig):
    name = "viztube"
    verbose_name = "VizTube"

    def ready(self):
        # Registers the OpenAPI description of our authentication class.
        from viztube import checks  # noqa: F401
        from viztube.api import schema  # noqa: F401
