from django.apps import AppConfig


class OpsConfig(AppConfig):
    """What spans the other apps: deletes that cascade across them, the admin and routes that
    compose them, and the operators' commands (counter repair, demo data, orphan media)."""

    name = "ops"
    verbose_name = "Operations"
