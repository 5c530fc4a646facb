from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_delete, post_save


class VideosConfig(AppConfig):
    name = "videos"

    def ready(self):
        from videos import list_cache

        # A saved video or user, or a deleted user, may change what a cached list page shows.
        # Deleted videos retire the pages in videos.services instead: a receiver per deleted
        # video would run (and reach Redis) once per row of a channel's bulk deletion.
        video, user = self.get_model("Video"), settings.AUTH_USER_MODEL
        post_save.connect(list_cache.bump_on_change, sender=video, weak=False)
        post_save.connect(list_cache.bump_on_change, sender=user, weak=False)
        post_delete.connect(list_cache.bump_on_change, sender=user, weak=False)
