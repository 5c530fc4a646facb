from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        from accounts import user_cache

        # A saved or deleted user must not authenticate from a stale cached copy.
        user_model = self.get_model("User")
        post_save.connect(user_cache.forget_on_change, sender=user_model, weak=False)
        post_delete.connect(user_cache.forget_on_change, sender=user_model, weak=False)
