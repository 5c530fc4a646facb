from django.db import models
from uuid6 import uuid7


class UUIDv7Model(models.Model):
    """Time-ordered UUIDv7 primary keys (stored as native ``uuid`` on PostgreSQL)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)

    class Meta:
        abstract = True


class Visibility(models.TextChoices):
    """Who finds a video or a playlist: ``public`` is listed to everyone; ``unlisted`` is reached
    by its id only; ``private`` is its owner's alone. Each app's selectors hold what that means
    on its routes."""

    PUBLIC = "public"
    UNLISTED = "unlisted"
    PRIVATE = "private"
