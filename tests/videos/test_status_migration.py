"""The status migration on a database that holds rows: every existing video is ready, the
catalog count stays right, rows written by the previous release (which knows nothing of
``status``) are ready and counted, and the migration reverses."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

from tests.factories import UserFactory
from videos.models import Video, VideoCatalog

BEFORE = [("videos", "0005_visibility")]
AFTER = [("videos", "0006_video_status")]
# Every app's latest migration: going back to videos 0005 also unapplied the apps above it.
LATEST = MigrationLoader(None).graph.leaf_nodes()

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def old_release_insert(owner, title, visibility):
    """An INSERT as the previous release writes it: no status columns."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO videos_video (id, owner_id, title, description, video_file, thumbnail,"
            " duration, views, visibility, likes_count, comments_count, created_at, updated_at)"
            " VALUES (gen_random_uuid(), %s, %s, '', 'videos/x.mp4', 't.png', 1, 0, %s, 0, 0,"
            " now(), now())",
            [owner.pk, title, visibility],
        )


def catalog():
    with connection.cursor() as cursor:
        cursor.execute("SELECT published_videos FROM videos_videocatalog WHERE id = 1")
        return cursor.fetchone()[0]


@pytest.fixture
def at_latest():
    yield
    migrate(LATEST)


def test_existing_and_old_release_rows_are_ready_and_counted(at_latest):
    VideoCatalog.objects.update_or_create(pk=1, defaults={"published_videos": 0})
    owner = UserFactory()
    migrate(BEFORE)
    old_release_insert(owner, "public before", "public")
    old_release_insert(owner, "private before", "private")
    assert catalog() == 1

    migrate(AFTER)

    assert set(Video.objects.values_list("title", "status", "failure_reason")) == {
        ("public before", "ready", None),
        ("private before", "ready", None),
    }
    assert catalog() == 1
    # The previous release, still serving during the deploy.
    old_release_insert(owner, "public during", "public")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE videos_video SET is_published = true WHERE title = 'private before'")
    assert Video.objects.get(title="public during").status == "ready"
    assert catalog() == 3
    # What this release writes.
    Video.objects.filter(title="public during").update(status="processing")
    assert catalog() == 2
    Video.objects.filter(title="public during").update(status="failed", failure_reason="Bad")
    assert catalog() == 2
    Video.objects.filter(title="public during").update(status="ready", failure_reason=None)
    assert catalog() == 3
    # In SQL: the apps above videos (their tables) are not migrated at this point.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM videos_video WHERE title = 'public during'")
    assert catalog() == 2
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'videos_video'::regclass"
            " AND tgname LIKE 'videos_catalog%%' ORDER BY tgname"
        )
        assert [row[0] for row in cursor.fetchall()] == [
            "videos_catalog_delete",
            "videos_catalog_insert",
            "videos_catalog_listed_change",
            "videos_catalog_truncate",
        ]


def test_the_migration_reverses_and_counts_public_videos_again(at_latest):
    VideoCatalog.objects.update_or_create(pk=1, defaults={"published_videos": 0})
    owner = UserFactory()
    for title, status in [("shown", "ready"), ("waiting", "processing")]:
        Video.objects.create(
            owner=owner,
            title=title,
            video_file="v.mp4",
            thumbnail="t.png",
            duration=1,
            status=status,
        )
    assert catalog() == 1

    migrate(BEFORE)

    assert catalog() == 2
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.columns"
            " WHERE table_name = 'videos_video' AND column_name = 'status'"
        )
        assert cursor.fetchone()[0] == 0
    old_release_insert(owner, "after", "public")
    assert catalog() == 3
