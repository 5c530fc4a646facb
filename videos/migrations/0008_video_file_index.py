"""An index on ``video_file``: Cloudinary's notifications name a video by its asset's public id
(the stored name), and the webhook finds the video from it.

Built ``CONCURRENTLY`` (``SHARE UPDATE EXCLUSIVE`` on ``videos_video``: reads and writes go on
while it builds), its lock waited for at most 5 s, so the migration runs while the previous
release serves.
"""

from django.db import migrations, models

from viztube.migration_operations import AddIndexConcurrently, with_lock_timeout


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("videos", "0007_video_processing_index")]

    operations = with_lock_timeout(
        AddIndexConcurrently(
            model_name="video",
            index=models.Index(fields=["video_file"], name="video_file_name"),
        ),
    )
