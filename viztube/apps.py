from django.apps import AppConfig


class ViztubeConfig(AppConfig):
    name = "viztube"
    verbose_name = "VizTube"
