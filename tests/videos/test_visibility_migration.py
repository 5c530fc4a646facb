"""The visibility migration on a database that holds rows: every existing video keeps its
meaning, the catalog count stays right, and rows written by the previous release (which knows
only ``is_published``) read right afterwards."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

from tests.factories import UserFactory
from videos.models import Video, VideoCatalog

BEFORE = [("videos", "0004_catalog_triggers")]
# The latest migration: later ones must keep these rows right too, and the test leaves the
# database migrated for the tests after it.
AFTER = MigrationLoader(None).graph.leaf_nodes("videos")

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def old_release_insert(owner, title, published):
    """An INSERT as the previous release writes it: ``is_published``, no visibility columns."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO videos_video (id, owner_id, title, description, video_file, thumbnail,"
            " duration, views, is_published, likes_count, comments_count, created_at, updated_at)"
            " VALUES (gen_random_uuid(), %s, %s, '', 'videos/x.mp4', 't.png', 1, 0, %s, 0, 0,"
            " now(), now())",
            [owner.pk, title, published],
        )


def test_existing_videos_keep_their_meaning_and_the_previous_release_keeps_working():
    # The catalog row comes from a migration; an earlier test's flush removed it.
    VideoCatalog.objects.update_or_create(pk=1, defaults={"published_videos": 0})
    owner = UserFactory()
    old_apps = migrate(BEFORE)
    old_video = old_apps.get_model("videos", "Video")
    made = {
        title: old_video.objects.create(
            owner_id=owner.pk,
            title=title,
            video_file="videos/a.mp4",
            thumbnail="thumbnails/a.png",
            duration=1.0,
            is_published=published,
        )
        for title, published in [("shown 1", True), ("shown 2", True), ("draft", False)]
    }

    migrate(AFTER)

    rows = {video.title: video for video in Video.objects.all()}
    assert {title: rows[title].visibility for title in made} == {
        "shown 1": "public",
        "shown 2": "public",
        "draft": "private",
    }
    assert rows["shown 1"].published_at == made["shown 1"].created_at
    assert rows["draft"].published_at is None
    assert all(rows[title].publish_at is None for title in made)
    assert VideoCatalog.objects.get().published_videos == 2

    # The previous release, still serving during the deploy, inserts and toggles by is_published.
    old_release_insert(owner, "old draft", False)
    old_release_insert(owner, "old shown", True)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE videos_video SET is_published = true WHERE title = 'draft'")
    rows = {video.title: video for video in Video.objects.all()}
    assert (rows["old draft"].visibility, rows["old shown"].visibility) == ("private", "public")
    assert rows["old shown"].published_at is not None
    assert (rows["draft"].visibility, rows["draft"].published_at is not None) == ("public", True)
    assert VideoCatalog.objects.get().published_videos == 4

    # And what this release writes reads right in the previous one.
    Video.objects.filter(title="shown 1").update(visibility="unlisted")
    Video.objects.filter(title="shown 2").update(visibility="private")
    with connection.cursor() as cursor:
        cursor.execute("SELECT title, is_published FROM videos_video WHERE title LIKE 'shown%%'")
        assert dict(cursor.fetchall()) == {"shown 1": True, "shown 2": False}
    assert VideoCatalog.objects.get().published_videos == 2


def test_the_migration_reverses_to_is_published():
    owner = UserFactory()
    Video.objects.create(
        owner=owner,
        title="u",
        video_file="v.mp4",
        thumbnail="t.png",
        duration=1,
        visibility="unlisted",
    )
    Video.objects.create(
        owner=owner,
        title="p",
        video_file="v.mp4",
        thumbnail="t.png",
        duration=1,
        visibility="private",
    )

    old_apps = migrate(BEFORE)
    published = dict(
        old_apps.get_model("videos", "Video").objects.values_list("title", "is_published")
    )
    migrate(AFTER)

    assert published == {"u": True, "p": False}
    assert dict(Video.objects.values_list("title", "visibility")) == {"u": "public", "p": "private"}
