"""purge_orphan_media: files no row references (orphans) and rows whose files are gone."""

import io
import logging
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.models import User
from media.models import DirectUpload
from media.storage import video_storage
from ops.management.commands import purge_orphan_media
from ops.tasks import report_orphan_media
from tests.conftest import files_under, image_bytes, media_bytes
from tests.factories import UserFactory, VideoFactory
from tests.ops.cloudinary_listing import drop_admin_api_connections
from videos.models import Video

pytestmark = pytest.mark.django_db
HOUR = 3600


def put(name, *, age_seconds, size=100):
    path = Path(settings.MEDIA_ROOT) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    moment = time.time() - age_seconds
    os.utime(path, (moment, moment))
    return path


def purge(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("purge_orphan_media", "--no-progress", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def rows_snapshot():
    users = list(User.objects.order_by("username").values_list("username", "avatar", "cover_image"))
    videos = list(Video.objects.order_by("title").values_list("title", "video_file", "thumbnail"))
    return users, videos


@pytest.fixture
def local_scene():
    """Rows and files: used ones, old orphans, a fresh orphan, a file outside the media
    folders, a symlink, and one row whose video file is gone."""
    owner = UserFactory(username="owner", avatar="avatars/kept.png", cover_image="covers/kept.png")
    UserFactory(username="plain", avatar="avatars/kept.png", cover_image="")
    VideoFactory(
        owner=owner, title="kept", video_file="videos/kept.mp4", thumbnail="thumbnails/kept.png"
    )
    VideoFactory(
        owner=owner, title="broken", video_file="videos/gone.mp4", thumbnail="thumbnails/kept.png"
    )
    for name in ("avatars/kept.png", "covers/kept.png", "videos/kept.mp4", "thumbnails/kept.png"):
        put(name, age_seconds=10 * HOUR)
    put("avatars/orphan.png", age_seconds=2 * HOUR, size=2048)
    put("videos/orphan.mp4", age_seconds=3 * HOUR, size=100)
    put("thumbnails/nested/deep.png", age_seconds=5 * HOUR, size=10)
    put("thumbnails/fresh.png", age_seconds=5 * 60)
    put("static/site.css", age_seconds=10 * HOUR)
    outside = put("outside.png", age_seconds=10 * HOUR)
    (Path(settings.MEDIA_ROOT) / "avatars/link.png").symlink_to(outside)


ALL_LOCAL_FILES = [
    "avatars/kept.png",
    "avatars/link.png",
    "avatars/orphan.png",
    "covers/kept.png",
    "outside.png",
    "static/site.css",
    "thumbnails/fresh.png",
    "thumbnails/kept.png",
    "thumbnails/nested/deep.png",
    "videos/kept.mp4",
    "videos/orphan.mp4",
]


def test_it_reports_orphans_and_missing_files_and_changes_nothing(local_scene):
    rows_before = rows_snapshot()

    out, err = purge()

    assert out.splitlines() == [
        "Orphans (in storage, referenced by no row, written over 60 minutes ago): 3",
        "  [default] avatars/orphan.png (2.0 KB, 2 h 0 min old)",
        "  [default] thumbnails/nested/deep.png (10 B, 5 h 0 min old)",
        "  [videos] videos/orphan.mp4 (100 B, 3 h 0 min old)",
        "Not referenced but written in the last 60 minutes (left alone): 1",
        "Missing (referenced by rows, not in storage): 1",
        "  [videos] videos/gone.mp4 (Video.video_file x1)",
    ]
    assert err == ""
    assert files_under(settings.MEDIA_ROOT) == ALL_LOCAL_FILES
    assert rows_snapshot() == rows_before


def test_delete_removes_the_orphans_only_and_never_a_row(local_scene):
    rows_before = rows_snapshot()

    out, _ = purge("--delete")

    assert files_under(settings.MEDIA_ROOT) == [
        "avatars/kept.png",
        "avatars/link.png",
        "covers/kept.png",
        "outside.png",
        "static/site.css",
        "thumbnails/fresh.png",
        "thumbnails/kept.png",
        "videos/kept.mp4",
    ]
    assert "Deleted [default] avatars/orphan.png" in out
    assert "Deleted [default] thumbnails/nested/deep.png" in out
    assert "Deleted [videos] videos/orphan.mp4" in out
    assert out.strip().endswith("Deleted 3 orphan(s); 0 could not be deleted.")
    # The row whose file is gone is reported, not deleted.
    assert rows_snapshot() == rows_before
    assert "  [videos] videos/gone.mp4 (Video.video_file x1)" in out


def test_older_than_zero_also_takes_fresh_files(local_scene):
    out, _ = purge("--older-than", "0", "--delete")
    assert "Orphans (in storage, referenced by no row, written over 0 minutes ago): 4" in out
    assert "Deleted [default] thumbnails/fresh.png" in out
    assert not (Path(settings.MEDIA_ROOT) / "thumbnails/fresh.png").exists()


def test_fail_on_findings_exits_non_zero_while_something_is_wrong(local_scene):
    with pytest.raises(CommandError, match=r"3 orphan\(s\) and 1 missing file\(s\) remain"):
        purge("--fail-on-findings")
    # Deleting the orphans leaves the missing file, which still fails the check.
    with pytest.raises(CommandError, match=r"0 orphan\(s\) and 1 missing file\(s\) remain"):
        purge("--fail-on-findings", "--delete")
    Video.objects.filter(title="broken").update(video_file="videos/kept.mp4")
    out, _ = purge("--fail-on-findings")
    assert "Orphans (in storage, referenced by no row, written over 60 minutes ago): 0" in out
    assert "Missing (referenced by rows, not in storage): 0" in out


def test_an_empty_storage_reports_every_referenced_file_missing():
    UserFactory(username="ghost", avatar="avatars/ghost.png", cover_image="")
    out, _ = purge()
    assert "Orphans (in storage, referenced by no row, written over 60 minutes ago): 0" in out
    assert "  [default] avatars/ghost.png (User.avatar x1)" in out


def test_a_negative_age_is_refused(local_scene):
    with pytest.raises(CommandError, match="--older-than must be 0 or more"):
        purge("--older-than", "-1", "--delete")
    assert files_under(settings.MEDIA_ROOT) == ALL_LOCAL_FILES


def test_a_storage_it_cannot_list_is_refused_clearly(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    with pytest.raises(CommandError, match=r"cannot list a .*InMemoryStorage"):
        purge()


def test_help_text(capsys):
    with pytest.raises(SystemExit) as exit_info:
        call_command("purge_orphan_media", "--help")
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--delete", "--older-than", "--fail-on-findings", "--no-progress"):
        assert option in text


# --- Cloudinary --------------------------------------------------------------------------------


def age_asset(fake, public_id, seconds):
    path = fake.assets[public_id].path
    moment = time.time() - seconds
    os.utime(path, (moment, moment))


@pytest.fixture
def cloud_scene(fake_cloudinary_listing):
    fake = fake_cloudinary_listing
    avatar = default_storage.save("avatars/kept.png", ContentFile(image_bytes(), name="kept.png"))
    orphan_image = default_storage.save(
        "thumbnails/orphan.png", ContentFile(image_bytes(), name="orphan.png")
    )
    fresh_image = default_storage.save(
        "thumbnails/fresh.png", ContentFile(image_bytes(), name="fresh.png")
    )
    video = video_storage.save("videos/kept.mp4", ContentFile(media_bytes("sample.mp4")))
    orphan_video = video_storage.save(
        "videos/orphan.mp4", ContentFile(media_bytes("sample.mp4"), name="orphan.mp4")
    )
    owner = UserFactory(username="owner", avatar=avatar, cover_image="")
    VideoFactory(owner=owner, title="kept", video_file=video, thumbnail=avatar)
    VideoFactory(
        owner=owner, title="broken", video_file="media/videos/gone_abc123", thumbnail=avatar
    )
    for public_id in (avatar, orphan_image, video, orphan_video):
        age_asset(fake, public_id, 2 * HOUR)
    return {
        "fake": fake,
        "avatar": avatar,
        "orphan_image": orphan_image,
        "fresh_image": fresh_image,
        "video": video,
        "orphan_video": orphan_video,
    }


def test_cloudinary_orphans_and_missing_assets_are_reported(cloud_scene):
    fake = cloud_scene["fake"]
    before = fake.public_ids()

    out, _ = purge()

    assert cloud_scene["orphan_image"].startswith("media/thumbnails/orphan")
    lines = out.splitlines()
    assert lines[0] == "Orphans (in storage, referenced by no row, written over 60 minutes ago): 2"
    assert lines[1].startswith(f"  [default] {cloud_scene['orphan_image']} (")
    assert lines[2].startswith(f"  [videos] {cloud_scene['orphan_video']} (")
    assert lines[3] == "Not referenced but written in the last 60 minutes (left alone): 1"
    assert lines[4:] == [
        "Missing (referenced by rows, not in storage): 1",
        "  [videos] media/videos/gone_abc123 (Video.video_file x1)",
    ]
    assert fake.public_ids() == before
    assert fake.destroys == []


def test_cloudinary_delete_destroys_the_orphans_only(cloud_scene):
    fake = cloud_scene["fake"]

    out, _ = purge("--delete")

    assert fake.public_ids() == sorted(
        [cloud_scene["avatar"], cloud_scene["fresh_image"], cloud_scene["video"]]
    )
    destroyed = sorted(
        (request.params["public_id"], request.resource_type) for request in fake.destroys
    )
    assert destroyed == sorted(
        [(cloud_scene["orphan_image"], "image"), (cloud_scene["orphan_video"], "video")]
    )
    assert "Deleted 2 orphan(s); 0 could not be deleted." in out
    assert Video.objects.filter(title="broken").exists()


def test_a_direct_upload_waiting_to_be_published_is_no_orphan(cloud_scene):
    fake = cloud_scene["fake"]
    owner = User.objects.get(username="owner")
    awaited = video_storage.save("videos/awaited.mp4", ContentFile(media_bytes("sample.mp4")))
    age_asset(fake, awaited, 2 * HOUR)
    DirectUpload.objects.create(
        owner=owner, public_id=awaited, expires_at=timezone.now() + timedelta(hours=20)
    )
    # Issued, nothing uploaded yet: not missing either.
    DirectUpload.objects.create(
        owner=owner,
        public_id="media/videos/not-uploaded-yet",
        expires_at=timezone.now() + timedelta(hours=20),
    )

    out, _ = purge("--delete")

    assert awaited in fake.public_ids()
    assert awaited not in out and "not-uploaded-yet" not in out
    assert "Deleted 2 orphan(s); 0 could not be deleted." in out


def test_cloudinary_listing_follows_the_pages(cloud_scene, monkeypatch):
    monkeypatch.setattr(purge_orphan_media.CloudinaryLister, "PAGE", 1)
    out, _ = purge("--older-than", "0")
    # Every asset was seen across one-asset pages: the fresh one is an orphan now too.
    assert "written over 0 minutes ago): 3" in out
    assert "media/thumbnails/fresh" in out


def test_a_failed_cloudinary_delete_is_reported_and_fails_the_run(cloud_scene):
    fake = cloud_scene["fake"]
    fake.fail_destroy(1)
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match=r"Deleted 1 orphan\(s\); 1 could not be deleted"):
        call_command("purge_orphan_media", "--no-progress", "--delete", stdout=out, stderr=err)

    assert f"Could not delete [default] {cloud_scene['orphan_image']}" in err.getvalue()
    assert cloud_scene["orphan_image"] in fake.public_ids()
    assert cloud_scene["orphan_video"] not in fake.public_ids()


def test_a_storage_that_cannot_be_listed_stops_the_run_before_any_delete(fake_cloudinary):
    """Without the Admin API listing (the plain fake answers 404), nothing is concluded."""
    orphan = default_storage.save("avatars/orphan.png", ContentFile(image_bytes(), name="o.png"))
    age_asset(fake_cloudinary, orphan, 2 * HOUR)
    drop_admin_api_connections()

    with pytest.raises(CommandError, match="Could not list the default storage: GeneralError"):
        purge("--delete")

    assert fake_cloudinary.public_ids() == [orphan]
    assert fake_cloudinary.destroys == []


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_listing_shows_a_progress_bar_on_a_terminal_only(local_scene):
    terminal = _Terminal()
    call_command("purge_orphan_media", stdout=io.StringIO(), stderr=terminal)
    assert "Listingdefaultstorage:6files" in terminal.getvalue().replace(" ", "")
    assert "Listingvideosstorage:2files" in terminal.getvalue().replace(" ", "")

    piped = io.StringIO()
    call_command("purge_orphan_media", stdout=io.StringIO(), stderr=piped)
    assert piped.getvalue() == ""


def test_the_weekly_task_logs_the_report_and_deletes_nothing(local_scene, caplog):
    with caplog.at_level(logging.INFO, logger="ops.tasks"):
        result = report_orphan_media.apply()

    assert result.result is False
    [record] = [r for r in caplog.records if r.name == "ops.tasks"]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert message.startswith("Media reconciliation: 3 orphan(s) and 1 missing file(s) remain.")
    assert "  [videos] videos/orphan.mp4 (100 B, 3 h 0 min old)" in message
    assert "  [videos] videos/gone.mp4 (Video.video_file x1)" in message
    assert files_under(settings.MEDIA_ROOT) == ALL_LOCAL_FILES


def test_the_weekly_task_reports_clean_media_at_info(caplog):
    with caplog.at_level(logging.INFO, logger="ops.tasks"):
        assert report_orphan_media.apply().result is True

    [record] = [r for r in caplog.records if r.name == "ops.tasks"]
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith("Media reconciliation: nothing to report.")
