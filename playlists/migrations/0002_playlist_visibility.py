"""Playlists get ``visibility`` (public | unlisted | private); every existing playlist is public.

Safe to run while the previous release still serves. What each step locks on
``playlists_playlist`` (PostgreSQL 15, measured with 521,000 playlists):
- ``ADD COLUMN visibility varchar(8) DEFAULT 'public' NOT NULL``: ACCESS EXCLUSIVE for an
  instant (4 ms: a constant default is a catalogue change; no row is rewritten). The
  ``db_default`` stays on the column: a worker of the previous release, still running during the
  deploy, inserts playlists without the column, and they are public, as every playlist was for it.
- the CHECK on the three values is added ``NOT VALID`` (an instant, 3 ms), then validated under
  SHARE UPDATE EXCLUSIVE: reads and writes go on while it reads the table (70 ms).
- ``playlist_owner_public`` is built ``CONCURRENTLY`` (reads and writes go on; 0.5 s). It serves
  a user's list as everyone but its owner reads it, and its COUNT index-only: with it a user's
  COUNT went from a bitmap heap scan of all their playlists (0.39 ms for 250 playlists, 2.0 ms
  for 20,000 of which 90 % private) to an index-only scan (0.03 ms, 0.2 ms), and page 100 of the
  big list from 1.3 ms to 0.09 ms.
Every lock is requested with a 5 s ``lock_timeout``: behind a long transaction the migration
fails (run it again) rather than queueing every request behind it. The migration is not atomic
(a concurrent build cannot run in a transaction): each step commits on its own, and after a
failed concurrent build its INVALID index must be dropped before running the migration again.
"""

from django.db import migrations, models

from viztube.migration_operations import (
    AddCheckConstraintOnline,
    AddIndexConcurrently,
    with_lock_timeout,
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("playlists", "0001_initial")]

    operations = with_lock_timeout(
        migrations.AddField(
            model_name="playlist",
            name="visibility",
            field=models.CharField(
                choices=[("public", "Public"), ("unlisted", "Unlisted"), ("private", "Private")],
                db_default="public",
                default="public",
                max_length=8,
            ),
        ),
        AddCheckConstraintOnline(
            model_name="playlist",
            constraint=models.CheckConstraint(
                condition=models.Q(("visibility__in", ["public", "unlisted", "private"])),
                name="playlist_visibility_valid",
            ),
        ),
        AddIndexConcurrently(
            model_name="playlist",
            index=models.Index(
                condition=models.Q(("visibility", "public")),
                fields=["owner", "-created_at", "-id"],
                name="playlist_owner_public",
            ),
        ),
    )
