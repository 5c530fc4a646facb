"""Keeps ``videos_videocatalog.published_videos`` exact on PostgreSQL.

Inserts, deletes (cascades included) and truncates are counted once per statement from their
transition tables, so a bulk load (COPY) or a bulk delete costs one UPDATE. A change of
``is_published`` is counted per row, and only when the value really changes: counting a view
(UPDATE of ``views``) never touches the catalog row.
"""

from django.db import migrations

FORWARD = """
INSERT INTO videos_videocatalog (id, published_videos)
    SELECT 1, count(*) FROM videos_video WHERE is_published
    ON CONFLICT (id) DO UPDATE SET published_videos = EXCLUDED.published_videos;

CREATE FUNCTION videos_catalog_after_insert() RETURNS trigger AS $$
BEGIN
    UPDATE videos_videocatalog
        SET published_videos = published_videos + (SELECT count(*) FROM new_rows WHERE is_published)
        WHERE id = 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION videos_catalog_after_delete() RETURNS trigger AS $$
BEGIN
    UPDATE videos_videocatalog
        SET published_videos = published_videos - (SELECT count(*) FROM old_rows WHERE is_published)
        WHERE id = 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION videos_catalog_after_publish_change() RETURNS trigger AS $$
BEGIN
    UPDATE videos_videocatalog
        SET published_videos = published_videos + CASE WHEN NEW.is_published THEN 1 ELSE -1 END
        WHERE id = 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION videos_catalog_after_truncate() RETURNS trigger AS $$
BEGIN
    UPDATE videos_videocatalog SET published_videos = 0 WHERE id = 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER videos_catalog_insert AFTER INSERT ON videos_video
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION videos_catalog_after_insert();
CREATE TRIGGER videos_catalog_delete AFTER DELETE ON videos_video
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION videos_catalog_after_delete();
CREATE TRIGGER videos_catalog_publish_change AFTER UPDATE OF is_published ON videos_video
    FOR EACH ROW WHEN (OLD.is_published IS DISTINCT FROM NEW.is_published)
    EXECUTE FUNCTION videos_catalog_after_publish_change();
CREATE TRIGGER videos_catalog_truncate AFTER TRUNCATE ON videos_video
    FOR EACH STATEMENT EXECUTE FUNCTION videos_catalog_after_truncate();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS videos_catalog_insert ON videos_video;
DROP TRIGGER IF EXISTS videos_catalog_delete ON videos_video;
DROP TRIGGER IF EXISTS videos_catalog_publish_change ON videos_video;
DROP TRIGGER IF EXISTS videos_catalog_truncate ON videos_video;
DROP FUNCTION IF EXISTS videos_catalog_after_insert();
DROP FUNCTION IF EXISTS videos_catalog_after_delete();
DROP FUNCTION IF EXISTS videos_catalog_after_publish_change();
DROP FUNCTION IF EXISTS videos_catalog_after_truncate();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("videos", "0003_list_indexes_and_catalog")]

    operations = [migrations.RunPython(forward, backward)]
