"""The partial index of the videos still processing, for the processing deadline: built
``CONCURRENTLY`` (reads and writes go on), its lock waited for at most 5 s."""

from django.db import migrations, models

from viztube.migration_operations import AddIndexConcurrently, with_lock_timeout


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("videos", "0006_video_status")]

    operations = with_lock_timeout(
        AddIndexConcurrently(
            model_name="video",
            index=models.Index(
                condition=models.Q(("status", "processing")),
                fields=["processing_started_at"],
                name="video_processing",
            ),
        ),
    )
