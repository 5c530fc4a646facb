"""The tweets of an author by (created_at, id), newest first: ``tweet_author_created`` replaces
``tweet_author_recent`` (author, created_at), which lacked the id.

Safe while the previous release serves, and it holds no lock that stops reads or writes: the new
index is built ``CONCURRENTLY`` (``SHARE UPDATE EXCLUSIVE`` on ``social_tweet``: reads, inserts,
updates and deletes go on; another schema change of the table waits), and only then is the old
one dropped ``CONCURRENTLY`` (it waits for the queries using it and blocks none). The tweets list
keeps an index all along. Not atomic: ``CONCURRENTLY`` cannot run inside a transaction. A build
that fails leaves an INVALID ``tweet_author_created`` behind: drop it (``DROP INDEX CONCURRENTLY
tweet_author_created``) before running the migration again.
"""

from django.db import migrations, models

from viztube.migration_operations import AddIndexConcurrently, RemoveIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("social", "0003_count_existing_likes"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="tweet",
            index=models.Index(
                fields=["author", "-created_at", "-id"], name="tweet_author_created"
            ),
        ),
        RemoveIndexConcurrently(model_name="tweet", name="tweet_author_recent"),
    ]
