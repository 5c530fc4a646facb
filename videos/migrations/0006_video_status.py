"""Videos gain a processing status: ``status`` (processing | ready | failed), ``failure_reason``,
``streaming_url`` and ``processing_started_at``. Only a ready public video is listed and counted.

Every existing row is ready (the column's database default), so nothing is backfilled and the
catalog count stays right as it is. Safe to run while the previous release still serves; what
each step locks on ``videos_video``:
- adding the four columns: ``ACCESS EXCLUSIVE`` for an instant (a constant default or none: a
  catalogue change, nothing rewritten). The previous release inserts without ``status``: its
  rows take the default, ready, as they should;
- the catalog count follows public AND ready in two instants, as in 0005: the new row trigger is
  created and the old one's function emptied (``SHARE ROW EXCLUSIVE``: writes wait, reads go
  on), then the old trigger is dropped on its own;
- the list indexes are rebuilt with the new predicate under new names, ``CONCURRENTLY``
  (``SHARE UPDATE EXCLUSIVE``: reads and writes go on), the new ones before the old ones go, so
  the lists always have one to read; the CHECK constraints are added ``NOT VALID`` and then
  validated.
Every lock is requested with a 5 s ``lock_timeout``.
"""

from django.db import migrations, models

from viztube.migration_operations import (
    AddCheckConstraintOnline,
    AddIndexConcurrently,
    RemoveIndexConcurrently,
    postgres_sql,
    with_lock_timeout,
)

LISTED = models.Q(("status", "ready"), ("visibility", "public"))

CATALOG_COUNTS_LISTED = (
    """
BEGIN;
CREATE OR REPLACE FUNCTION videos_catalog_after_insert() RETURNS trigger AS $$
BEGIN
    UPDATE videos_videocatalog
        SET published_videos = published_videos
            + (SELECT count(*) FROM new_rows WHERE visibility = 'public' AND status = 'ready')
        WHERE id = 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION videos_catalog_after_delete() RETURNS trigger AS $$
BEGIN
    UPDATE videos_videocatalog
        SET published_videos = published_videos
            - (SELECT count(*) FROM old_rows WHERE visibility = 'public' AND status = 'ready')
        WHERE id = 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION videos_catalog_after_listed_change() RETURNS trigger AS $$
BEGIN
    UPDATE videos_videocatalog
        SET published_videos = published_videos
            + CASE WHEN NEW.visibility = 'public' AND NEW.status = 'ready' THEN 1 ELSE -1 END
        WHERE id = 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

-- is_published too: a write of the previous release names it only (visibility then changes in
-- the sync trigger, which a column list would not see).
CREATE TRIGGER videos_catalog_listed_change AFTER UPDATE OF visibility, is_published, status
    ON videos_video
    FOR EACH ROW WHEN ((OLD.visibility = 'public' AND OLD.status = 'ready')
                       IS DISTINCT FROM (NEW.visibility = 'public' AND NEW.status = 'ready'))
    EXECUTE FUNCTION videos_catalog_after_listed_change();

-- The old trigger counts nothing from now on; it is dropped in the next step.
CREATE OR REPLACE FUNCTION videos_catalog_after_visibility_change() RETURNS trigger AS $$
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

DROP TRIGGER videos_catalog_listed_change ON videos_video;
DROP FUNCTION videos_catalog_after_listed_change();
-- Videos that were not ready count again once the column is gone.
UPDATE videos_videocatalog
    SET published_videos = (SELECT count(*) FROM videos_video WHERE visibility = 'public')
    WHERE id = 1;
COMMIT;
""",
)

DROP_VISIBILITY_CATALOG_TRIGGER = (
    """
DROP TRIGGER videos_catalog_visibility_change ON videos_video;
DROP FUNCTION videos_catalog_after_visibility_change();
""",
    """
CREATE OR REPLACE FUNCTION videos_catalog_after_visibility_change() RETURNS trigger AS $$
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

CREATE TRIGGER videos_catalog_visibility_change AFTER UPDATE OF visibility, is_published
    ON videos_video
    FOR EACH ROW WHEN (OLD.visibility IS DISTINCT FROM NEW.visibility)
    EXECUTE FUNCTION videos_catalog_after_visibility_change();
""",
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("videos", "0005_visibility")]

    operations = with_lock_timeout(
        migrations.AddField(
            model_name="video",
            name="status",
            field=models.CharField(
                choices=[("processing", "Processing"), ("ready", "Ready"), ("failed", "Failed")],
                db_default="ready",
                default="ready",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="video",
            name="failure_reason",
            field=models.TextField(
                blank=True,
                help_text="Why processing failed, for the owner; set only then.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="video",
            name="streaming_url",
            field=models.URLField(
                blank=True,
                help_text="The HLS rendition (.m3u8), when there is one.",
                max_length=500,
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="video",
            name="processing_started_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When the current processing run was asked for (its deadline counts from it).",
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="video",
            name="duration",
            field=models.FloatField(
                help_text="Seconds, read from the file when it was published (0 until it is processed)."
            ),
        ),
        migrations.AlterField(
            model_name="video",
            name="thumbnail",
            field=models.FileField(blank=True, max_length=255, upload_to="thumbnails/"),
        ),
        postgres_sql(*CATALOG_COUNTS_LISTED),
        postgres_sql(*DROP_VISIBILITY_CATALOG_TRIGGER),
        AddIndexConcurrently(
            model_name="video",
            index=models.Index(
                condition=LISTED, fields=["-created_at", "-id"], name="video_listed_created"
            ),
        ),
        AddIndexConcurrently(
            model_name="video",
            index=models.Index(
                condition=LISTED, fields=["-views", "-id"], name="video_listed_views"
            ),
        ),
        AddIndexConcurrently(
            model_name="video",
            index=models.Index(
                condition=LISTED, fields=["duration", "id"], name="video_listed_duration"
            ),
        ),
        AddIndexConcurrently(
            model_name="video",
            index=models.Index(condition=LISTED, fields=["title", "id"], name="video_listed_title"),
        ),
        AddIndexConcurrently(
            model_name="video",
            index=models.Index(
                condition=LISTED,
                fields=["owner", "-published_at", "-id"],
                name="video_listed_owner_published",
            ),
        ),
        AddIndexConcurrently(
            model_name="video",
            index=models.Index(
                fields=["owner"],
                include=("views", "likes_count", "comments_count", "visibility", "status"),
                name="video_owner_sums",
            ),
        ),
        RemoveIndexConcurrently(model_name="video", name="video_public_created"),
        RemoveIndexConcurrently(model_name="video", name="video_public_views"),
        RemoveIndexConcurrently(model_name="video", name="video_public_duration"),
        RemoveIndexConcurrently(model_name="video", name="video_public_title"),
        RemoveIndexConcurrently(model_name="video", name="video_public_owner_published"),
        RemoveIndexConcurrently(model_name="video", name="video_owner_totals"),
        AddCheckConstraintOnline(
            model_name="video",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["processing", "ready", "failed"])),
                name="video_status_valid",
            ),
        ),
        AddCheckConstraintOnline(
            model_name="video",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("failure_reason__isnull", False), ("status", "failed")),
                    models.Q(
                        models.Q(("status", "failed"), _negated=True),
                        ("failure_reason__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="video_failure_reason_iff_failed",
            ),
        ),
    )
