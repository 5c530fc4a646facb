"""The tweets of an author by (created_at, id), newest first: ``tweet_author_created`` replaces
``tweet_author_recent`` (author, created_at), which lacked the id. The subscription feed reads
each followed channel's newest tweets from it, ties included, and an author's tweet list reads
its pages in order.

Safe while the site serves; no step stops reads or writes of ``social_tweet``. The new index is
built ``CONCURRENTLY`` (SHARE UPDATE EXCLUSIVE: reads, inserts, updates and deletes go on; only
another schema change of the table waits; about 0.1 s for 50,000 tweets), and only then is the
old one dropped ``CONCURRENTLY`` (it waits for the queries using it and blocks none), so the
tweet list has an index all along. Every lock is requested with a 5 s ``lock_timeout``: behind a
long transaction the migration fails (run it again) rather than queueing behind it. Not atomic
(concurrent builds cannot run in a transaction): after a failed build, drop its INVALID index
(``DROP INDEX CONCURRENTLY tweet_author_created``) before running the migration again.
"""

from django.db import migrations, models

from viztube.migration_operations import (
    AddIndexConcurrently,
    RemoveIndexConcurrently,
    with_lock_timeout,
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("social", "0004_comment_threads"),
    ]

    operations = with_lock_timeout(
        AddIndexConcurrently(
            model_name="tweet",
            index=models.Index(
                fields=["author", "-created_at", "-id"], name="tweet_author_created"
            ),
        ),
        RemoveIndexConcurrently(model_name="tweet", name="tweet_author_recent"),
    )
