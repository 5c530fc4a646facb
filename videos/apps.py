from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_delete, post_save


class VideosConfig(AppConfig):
    name = "videos"

    def ready(self):
        from videos import list_cache

        # Any saved or deleted video or user may change what a cached list page shows.
        for model in (self.get_model("Video"), settings.AUTH_USER_MODEL):
            post_save.connect(list_cache.bump_on_change, sender=model, weak=False)
            post_delete.connect(list_cache.bump_on_change, sender=model, weak=False)
