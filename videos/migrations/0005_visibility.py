"""Videos get ``visibility`` (public | unlisted | private), ``publish_at`` and ``published_at``.

Existing rows keep their meaning: published videos become ``public`` with ``published_at`` =
``created_at``; unpublished ones become ``private``.

Safe to run while the previous release still serves. What each step locks on ``videos_video``:
- adding the three columns: ``ACCESS EXCLUSIVE`` for an instant (a column with a constant
  default or none is a catalogue change; PostgreSQL rewrites nothing);
- ``is_published`` loses its NOT NULL and a trigger keeps it and ``visibility`` in step (an
  instant each): rows written by either release read right in both;
- the backfill: row locks only, 5,000 rows per transaction;
- the catalog count moves to ``visibility`` in two instants: the new trigger is created and the
  old one's function emptied (``SHARE ROW EXCLUSIVE``: writes wait, reads go on), then the old
  trigger is dropped on its own (``ACCESS EXCLUSIVE``, nothing to do while holding it). The count
  needs no recount: until this release serves, public and published are the same rows (no
  video can be unlisted yet) and the sync trigger keeps them so;
- indexes are built and dropped ``CONCURRENTLY`` and the CHECK constraints added ``NOT VALID``
  then validated (``SHARE UPDATE EXCLUSIVE``: reads and writes go on).
Every lock is requested with a 5 s ``lock_timeout``: behind a long transaction the migration
fails (run it again) rather than queueing every request behind it.

``is_published`` leaves the model but stays in the PostgreSQL table, kept in step by the
trigger, until the release after this one drops both (docs/operations.md). On SQLite (local runs,
nothing else serving) the column is simply dropped.
"""

from django.db import migrations, models
from django.db.models import F

from viztube.migration_operations import (
    AddCheckConstraintOnline,
    AddIndexConcurrently,
    RemoveIndexConcurrently,
    postgres_sql,
    with_lock_timeout,
)

BACKFILL_BATCH = 5_000
PUBLIC = models.Q(("visibility", "public"))


SYNC_TRIGGERS = (
    """
ALTER TABLE videos_video ALTER COLUMN is_published DROP NOT NULL;

CREATE FUNCTION videos_visibility_sync() RETURNS trigger AS $$
BEGIN
    -- A row written by the previous release sets is_published and knows nothing of visibility:
    -- visibility follows it. Any other write sets visibility, and is_published follows.
    IF TG_OP = 'INSERT' AND NEW.is_published IS NOT NULL
       OR TG_OP = 'UPDATE' AND NEW.is_published IS DISTINCT FROM OLD.is_published
                           AND NEW.visibility IS NOT DISTINCT FROM OLD.visibility THEN
        NEW.visibility := CASE WHEN NEW.is_published THEN 'public' ELSE 'private' END;
        NEW.publish_at := NULL;
        IF NEW.is_published AND NEW.published_at IS NULL THEN
            NEW.published_at := now();
        END IF;
    ELSE
        NEW.is_published := NEW.visibility <> 'private';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER videos_visibility_sync_insert BEFORE INSERT ON videos_video
    FOR EACH ROW EXECUTE FUNCTION videos_visibility_sync();
CREATE TRIGGER videos_visibility_sync_update BEFORE UPDATE ON videos_video
    FOR EACH ROW WHEN (OLD.is_published IS DISTINCT FROM NEW.is_published
                       OR OLD.visibility IS DISTINCT FROM NEW.visibility)
    EXECUTE FUNCTION videos_visibility_sync();
""",
    """
DROP TRIGGER videos_visibility_sync_insert ON videos_video;
DROP TRIGGER videos_visibility_sync_update ON videos_video;
DROP FUNCTION videos_visibility_sync();
UPDATE videos_video SET is_published = visibility <> 'private' WHERE is_published IS NULL;
ALTER TABLE videos_video ALTER COLUMN is_published SET NOT NULL;
""",
)

CATALOG_COUNTS_PUBLIC = (
    """
BEGIN;
CREATE OR REPLACE FUNCTION videos_catalog_after_insert() RETURNS trigger AS $$
BEGIN
    UPDATE videos_videocatalog
        SET published_videos = published_videos
            + (SELECT count(*) FROM new_rows WHERE visibility = 'public')
        WHERE id = 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION videos_catalog_after_delete() RETURNS trigger AS $$
BEGIN
    UPDATE videos_videocatalog
        SET published_videos = published_videos
            - (SELECT count(*) FROM old_rows WHERE visibility = 'public')
        WHERE id = 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION videos_catalog_after_visibility_change() RETURNS trigger AS $$
BEGIN
    UPDATE videos_videocatalog
        SET published_videos = published_videos + CASE
            WHEN NEW.visibility = 'public' THEN 1
            WHEN OLD.visibility = 'public' THEN -1
            ELSE 0 END
        WHERE id = 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

-- Both columns: a write of the previous release names is_published only (visibility then
-- changes in the sync trigger, which a column list would not see).
CREATE TRIGGER videos_catalog_visibility_change AFTER UPDATE OF visibility, is_published
    ON videos_video
    FOR EACH ROW WHEN (OLD.visibility IS DISTINCT FROM NEW.visibility)
    EXECUTE FUNCTION videos_catalog_after_visibility_change();

-- The old trigger counts nothing from now on; it is dropped in the next step.
CREATE OR REPLACE FUNCTION videos_catalog_after_publish_change() RETURNS trigger AS $$
BEGIN
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
COMMIT;
""",
    """
BEGIN;
CREATE OR REPLACE FUNCTION videos_catalog_after_insert() RETURNS trigger AS $$
BEGIN
    UPDATE videos_videocatalog
        SET published_videos = published_videos + (SELECT count(*) FROM new_rows WHERE is_published)
        WHERE id = 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION videos_catalog_after_delete() RETURNS trigger AS $$
BEGIN
    UPDATE videos_videocatalog
        SET published_videos = published_videos - (SELECT count(*) FROM old_rows WHERE is_published)
        WHERE id = 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

DROP TRIGGER videos_catalog_visibility_change ON videos_video;
DROP FUNCTION videos_catalog_after_visibility_change();
COMMIT;
""",
)

DROP_OLD_CATALOG_TRIGGER = (
    """
DROP TRIGGER videos_catalog_publish_change ON videos_video;
DROP FUNCTION videos_catalog_after_publish_change();
""",
    """
CREATE FUNCTION videos_catalog_after_publish_change() RETURNS trigger AS $$
BEGIN
    UPDATE videos_videocatalog
        SET published_videos = published_videos + CASE WHEN NEW.is_published THEN 1 ELSE -1 END
        WHERE id = 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER videos_catalog_publish_change AFTER UPDATE OF is_published ON videos_video
    FOR EACH ROW WHEN (OLD.is_published IS DISTINCT FROM NEW.is_published)
    EXECUTE FUNCTION videos_catalog_after_publish_change();
""",
)


def backfill(apps, schema_editor):
    """Unpublished rows become private; published ones get ``published_at = created_at``. In
    batches of ``BACKFILL_BATCH`` rows by id, each its own short transaction (the migration is not
    atomic), touching only rows still to change, so a re-run after a failure resumes."""
    video_model = apps.get_model("videos", "Video")
    last_id = None
    while True:
        ids = video_model.objects.order_by("pk")
        if last_id is not None:
            ids = ids.filter(pk__gt=last_id)
        ids = list(ids.values_list("pk", flat=True)[:BACKFILL_BATCH])
        if not ids:
            return
        batch = video_model.objects.filter(pk__gte=ids[0], pk__lte=ids[-1])
        batch.filter(is_published=False).exclude(visibility="private").update(visibility="private")
        batch.filter(is_published=True, published_at__isnull=True).update(
            published_at=F("created_at")
        )
        last_id = ids[-1]


class RemoveFieldFromModelOnly(migrations.RemoveField):
    """Drops the field from the model; on PostgreSQL the column stays (see the module docstring)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("videos", "0004_catalog_triggers")]

    operations = with_lock_timeout(
        migrations.AddField(
            model_name="video",
            name="visibility",
            field=models.CharField(
                choices=[("public", "Public"), ("unlisted", "Unlisted"), ("private", "Private")],
                db_default="public",
                default="public",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="video",
            name="publish_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When a scheduled (private) video becomes public; empty when not scheduled.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="video",
            name="published_at",
            field=models.DateTimeField(
                blank=True, help_text="When the video first became public.", null=True
            ),
        ),
        postgres_sql(*SYNC_TRIGGERS),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        postgres_sql(*CATALOG_COUNTS_PUBLIC),
        postgres_sql(*DROP_OLD_CATALOG_TRIGGER),
        AddIndexConcurrently(
            model_name="video",
            index=models.Index(
                condition=PUBLIC, fields=["-created_at", "-id"], name="video_public_created"
            ),
        ),
        AddIndexConcurrently(
            model_name="video",
            index=models.Index(
                condition=PUBLIC, fields=["-views", "-id"], name="video_public_views"
            ),
        ),
        AddIndexConcurrently(
            model_name="video",
            index=models.Index(
                condition=PUBLIC, fields=["duration", "id"], name="video_public_duration"
            ),
        ),
        AddIndexConcurrently(
            model_name="video",
            index=models.Index(condition=PUBLIC, fields=["title", "id"], name="video_public_title"),
        ),
        AddIndexConcurrently(
            model_name="video",
            index=models.Index(
                condition=PUBLIC,
                fields=["owner", "-published_at", "-id"],
                name="video_public_owner_published",
            ),
        ),
        AddIndexConcurrently(
            model_name="video",
            index=models.Index(
                condition=models.Q(("publish_at__isnull", False)),
                fields=["publish_at"],
                name="video_scheduled",
            ),
        ),
        AddIndexConcurrently(
            model_name="video",
            index=models.Index(
                fields=["owner"],
                include=["views", "likes_count", "comments_count", "visibility"],
                name="video_owner_totals",
            ),
        ),
        RemoveIndexConcurrently(model_name="video", name="video_pub_created"),
        RemoveIndexConcurrently(model_name="video", name="video_pub_views"),
        RemoveIndexConcurrently(model_name="video", name="video_pub_duration"),
        RemoveIndexConcurrently(model_name="video", name="video_pub_title"),
        RemoveIndexConcurrently(model_name="video", name="video_owner_stats"),
        AddCheckConstraintOnline(
            model_name="video",
            constraint=models.CheckConstraint(
                condition=models.Q(("visibility__in", ["public", "unlisted", "private"])),
                name="video_visibility_valid",
            ),
        ),
        AddCheckConstraintOnline(
            model_name="video",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("publish_at__isnull", True), ("visibility", "private"), _connector="OR"
                ),
                name="video_scheduled_is_private",
                violation_error_message="A scheduled video stays private until its publish time.",
            ),
        ),
        RemoveFieldFromModelOnly(model_name="video", name="is_published"),
    )
