"""Full-text search on PostgreSQL: a trigger keeps ``search_vector`` in step with title and
description, and a GIN index serves the search. Nothing happens on SQLite (local runs), where
search falls back to a substring match (videos.selectors)."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION videos_video_search_vector_update() RETURNS trigger AS $$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A') ||
        setweight(to_tsvector('english', coalesce(NEW.description, '')), 'B');
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER videos_video_search_vector_trigger
    BEFORE INSERT OR UPDATE OF title, description ON videos_video
    FOR EACH ROW EXECUTE FUNCTION videos_video_search_vector_update();

CREATE INDEX video_search_vector_gin ON videos_video USING gin (search_vector);
"""

BACKWARD = """
DROP INDEX IF EXISTS video_search_vector_gin;
DROP TRIGGER IF EXISTS videos_video_search_vector_trigger ON videos_video;
DROP FUNCTION IF EXISTS videos_video_search_vector_update();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("videos", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
