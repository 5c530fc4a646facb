from django.db import models
from uuid6 import uuid7


class UUIDv7Model(models.Model):
    """Time-ordered UUIDv7 primary keys (stored as native ``uuid`` on PostgreSQL)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)

    class Meta:
        abstract = True
