"""seed_demo: a deterministic, realistic data set with exact counters, loaded in bulk."""

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.postgres.search import SearchQuery
from django.core.cache import cache
from django.core.files import File
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count, Q

from accounts.models import User
from media.storage import video_storage
from media.validation import probe_video
from ops import seeding
from playlists.models import Playlist, PlaylistVideo
from social.models import Comment, Like, Subscription, Tweet
from tests.conftest import files_under
from tests.factories import UserFactory, VideoFactory
from videos.models import Video, WatchHistory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
# What scale 0.001 gives: the standard sizes / 1000, minimums for users, the unique-pair tables
# capped at half of every possible pair (10 users x 100 videos -> 500 video likes, ...).
TINY_COUNTS = {
    "users": 10,
    "videos": 100,
    "video_likes": 500,
    "comment_likes": 50,
    "tweet_likes": 20,
    "comments": 300,
    "subscriptions": 45,
    "watch_history": 50,
    "playlists": 5,
    "playlist_entries": 100,
    "tweets": 50,
}


def seed(*args, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def table_counts():
    return {
        "users": User.objects.count(),
        "videos": Video.objects.count(),
        "video_likes": Like.objects.filter(video__isnull=False).count(),
        "comment_likes": Like.objects.filter(comment__isnull=False).count(),
        "tweet_likes": Like.objects.filter(tweet__isnull=False).count(),
        "comments": Comment.objects.count(),
        "subscriptions": Subscription.objects.count(),
        "watch_history": WatchHistory.objects.count(),
        "playlists": Playlist.objects.count(),
        "playlist_entries": PlaylistVideo.objects.count(),
        "tweets": Tweet.objects.count(),
    }


def checksum():
    """A digest of the columns that show whether two runs made the same data."""
    digest = hashlib.sha256()
    for row in User.objects.order_by("id").values_list("id", "username", "created_at", "avatar"):
        digest.update(repr(row).encode())
    for row in Video.objects.order_by("id").values_list(
        "id", "owner_id", "title", "views", "visibility", "duration", "likes_count"
    ):
        digest.update(repr(row).encode())
    for row in Like.objects.order_by("id").values_list("id", "user_id", "video_id", "created_at"):
        digest.update(repr(row).encode())
    for row in Comment.objects.order_by("id").values_list("id", "content"):
        digest.update(repr(row).encode())
    for row in PlaylistVideo.objects.order_by("id").values_list("playlist_id", "video_id"):
        digest.update(repr(row).encode())
    return digest.hexdigest()


def test_tiny_scale_fills_every_table_and_prints_a_summary(tmp_path):
    summary_path = tmp_path / "summary.json"
    out, _ = seed("--scale", "0.001", "--summary-json", str(summary_path))

    assert table_counts() == TINY_COUNTS
    summary = json.loads(summary_path.read_text())
    assert summary["seed"] == 42
    assert summary["scale"] == 0.001
    assert summary["demo_password"] == "demo-password-123"
    assert {k: v for k, v in summary["counts"].items() if k != "published_videos"} == TINY_COUNTS
    assert (
        summary["counts"]["published_videos"] == Video.objects.filter(visibility="public").count()
    )
    big = User.objects.get(username="bigchannel")
    assert summary["big_channel"] == {
        "username": "bigchannel",
        "id": str(big.id),
        "videos": 12,
        "share": 0.12,
        "subscribers": Subscription.objects.filter(channel=big).count(),
    }
    top = (
        Video.objects.filter(visibility="public")
        .annotate(n=Count("comments"))
        .order_by("-n", "id")
        .first()
    )
    assert summary["most_commented_video"]["id"] == str(top.id)
    assert summary["most_commented_video"]["comments"] == top.n
    assert summary["search_word"]["word"] in seeding.VOCABULARY
    # The same facts on stdout, for the person at the terminal.
    assert "bigchannel" in out
    assert f"Most-commented published video: {top.id}" in out
    assert f"Search word: '{summary['search_word']['word']}'" in out
    assert "Every user's password: demo-password-123" in out
    assert f"Summary written to {summary_path}" in out


def test_denormalised_counters_equal_the_rows():
    seed("--scale", "0.001")

    wrong_videos = (
        Video.objects.annotate(
            like_rows=Count("likes", distinct=True), comment_rows=Count("comments", distinct=True)
        )
        .exclude(likes_count=models_f("like_rows"), comments_count=models_f("comment_rows"))
        .count()
    )
    assert wrong_videos == 0
    wrong_users = (
        User.objects.annotate(
            subscriber_rows=Count("subscribers", distinct=True),
            subscription_rows=Count("subscriptions", distinct=True),
        )
        .exclude(
            subscribers_count=models_f("subscriber_rows"),
            subscriptions_count=models_f("subscription_rows"),
        )
        .count()
    )
    assert wrong_users == 0
    for model in (Comment, Tweet):
        wrong = (
            model.objects.annotate(like_rows=Count("likes"))
            .exclude(likes_count=models_f("like_rows"))
            .count()
        )
        assert wrong == 0, model
    # And they are not all zero: the check above would pass on an empty update too.
    assert Video.objects.filter(likes_count__gt=0).count() > 50
    assert User.objects.filter(subscribers_count__gt=0).exists()
    assert Comment.objects.filter(likes_count__gt=0).exists()
    assert Tweet.objects.filter(likes_count__gt=0).exists()


def models_f(name):
    from django.db.models import F

    return F(name)


def test_same_seed_and_scale_give_the_same_data_and_another_seed_does_not():
    seed("--scale", "0.001")
    first = checksum()
    seed("--scale", "0.001", "--flush")
    assert checksum() == first
    seed("--scale", "0.001", "--flush", "--seed", "7")
    assert checksum() != first


def test_it_refuses_a_database_that_holds_data_and_changes_nothing():
    existing = UserFactory(username="someone")
    VideoFactory(owner=existing)

    with pytest.raises(CommandError) as error:
        seed("--scale", "0.001")

    message = str(error.value)
    assert "not empty" in message
    assert "accounts_user: 1" in message
    assert "videos_video: 1" in message
    assert "--flush" in message
    assert list(User.objects.values_list("username", flat=True)) == ["someone"]
    assert Video.objects.count() == 1
    assert Like.objects.count() == 0


def test_if_empty_seeds_a_fresh_database_and_leaves_a_used_one_alone():
    seed("--scale", "0.001", "--if-empty")
    assert table_counts() == TINY_COUNTS
    first = checksum()

    out, _ = seed("--scale", "0.001", "--if-empty", "--seed", "7")

    assert out.startswith("The database already holds data (accounts_user: 10, ")
    assert out.strip().endswith(": not seeding.")
    assert checksum() == first


def test_flush_and_if_empty_together_are_refused():
    UserFactory(username="someone")
    with pytest.raises(CommandError, match="--flush and --if-empty contradict"):
        seed("--scale", "0.001", "--flush", "--if-empty")
    assert list(User.objects.values_list("username", flat=True)) == ["someone"]


def test_flush_replaces_what_was_there():
    existing = UserFactory(username="someone")
    VideoFactory(owner=existing)

    out, _ = seed("--scale", "0.001", "--flush")

    assert "Flushing existing rows (--flush)" in out
    assert not User.objects.filter(username="someone").exists()
    assert table_counts() == TINY_COUNTS


def test_flush_drops_cached_pages_and_user_rows_of_the_old_data(api_client):
    owner = UserFactory(username="someone")
    VideoFactory(owner=owner, title="Gone after the flush")
    assert api_client.get("/api/v1/videos").json()["data"]["docs"][0]["title"] == (
        "Gone after the flush"
    )
    cache.set("unrelated", 1)

    seed("--scale", "0.001", "--flush")

    titles = [d["title"] for d in api_client.get("/api/v1/videos").json()["data"]["docs"]]
    assert "Gone after the flush" not in titles
    assert cache.get("unrelated") is None


@pytest.mark.parametrize("scale", ["0", "-1", "abc", "nan", "11"])
def test_a_bad_scale_is_refused_before_anything_is_written(scale):
    with pytest.raises(CommandError, match="--scale"):
        seed("--scale", scale)
    assert User.objects.count() == 0


def test_a_failure_half_way_leaves_no_row(monkeypatch):
    def broken_recount():
        raise RuntimeError("disk full")

    monkeypatch.setattr(seeding, "_recount_counters", broken_recount)
    with pytest.raises(RuntimeError, match="disk full"):
        seed("--scale", "0.001")
    assert table_counts() == dict.fromkeys(TINY_COUNTS, 0)


def test_shape_big_channel_publication_views_and_search_word(tmp_path):
    """Scale 0.01 (100 users, 1,000 videos): the distributions the data set promises."""
    summary_path = tmp_path / "summary.json"
    seed("--scale", "0.01", "--summary-json", str(summary_path))
    summary = json.loads(summary_path.read_text())

    videos = Video.objects.count()
    assert videos == 1000
    big = User.objects.get(username="bigchannel")
    assert Video.objects.filter(owner=big).count() == 120
    # The next-biggest channel is much smaller than the big one.
    runner_up = (
        Video.objects.exclude(owner=big)
        .values("owner")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    assert runner_up["n"] < 120
    published = Video.objects.filter(visibility="public").count()
    assert 0.86 * videos <= published <= 0.94 * videos
    # Views: a few huge, most small.
    views = sorted(Video.objects.filter(visibility="public").values_list("views", flat=True))
    median = views[len(views) // 2]
    assert median < 200
    assert views[-1] > 100 * max(1, median)
    assert sum(views[-10:]) > sum(views[: len(views) // 2])
    # Likes, comments and watch history go to published videos, but for a small share.
    hidden_likes = Like.objects.filter(video__visibility="private").count()
    assert 0 < hidden_likes < 0.05 * Like.objects.filter(video__isnull=False).count()
    assert not WatchHistory.objects.filter(video__visibility="private").exists()
    assert not PlaylistVideo.objects.filter(video__visibility="private").exists()
    # The search word is in about 1% of published titles, and full-text search finds them.
    word = summary["search_word"]
    assert 0.005 <= word["title_share"] <= 0.02
    title_hits = Video.objects.filter(visibility="public", title__iregex=rf"\m{word['word']}\M")
    assert title_hits.count() == word["published_titles"]
    searched = Video.objects.filter(
        visibility="public", search_vector=SearchQuery(word["word"], config="english")
    )
    assert set(title_hits.values_list("id", flat=True)) <= set(
        searched.values_list("id", flat=True)
    )
    assert not Video.objects.filter(search_vector__isnull=True).exists()


def test_the_feed_viewer_follows_the_big_channel_and_many_channels_with_videos(tmp_path):
    """Scale 0.05 (500 users): the benchmark's viewer follows 1,000 x 0.05 = 50 channels."""
    summary_path = tmp_path / "summary.json"
    seed("--scale", "0.05", "--no-media", "--summary-json", str(summary_path))
    named = json.loads(summary_path.read_text())["feed_viewer"]

    viewer = User.objects.get(pk=named["id"])
    others = User.objects.exclude(username="bigchannel").values_list("username", flat=True)
    assert viewer.username == named["username"] == min(others)
    followed = Subscription.objects.filter(subscriber=viewer)
    assert followed.count() == viewer.subscriptions_count == named["subscriptions"] == 50
    assert followed.filter(channel__username="bigchannel").exists()
    with_videos = followed.filter(channel__videos__visibility="public").distinct().count()
    assert with_videos >= 40
    assert not followed.filter(channel=viewer).exists()


def test_vocabulary_words_are_distinct_searchable_stems():
    """Each word is one lexeme of its own under the English configuration: a search for a
    word finds that word only (no stop word that search ignores, no two words stemming alike)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT w, array_length(tsvector_to_array(to_tsvector('english', w)), 1),"
            " (tsvector_to_array(to_tsvector('english', w)))[1] FROM unnest(%s::text[]) AS w",
            [list(seeding.VOCABULARY)],
        )
        rows = cursor.fetchall()
    assert [w for w, lexemes, _ in rows if lexemes != 1] == []
    stems = [stem for _, _, stem in rows]
    assert len(set(stems)) == len(stems) == len(set(seeding.VOCABULARY))


def test_ids_are_uuid7_from_created_at_and_rows_follow_what_they_depend_on():
    seed("--scale", "0.001")

    for model, moment in ((User, "created_at"), (Video, "created_at"), (Like, "created_at")):
        for row_id, created in model.objects.values_list("id", moment):
            assert row_id.version == 7
            assert row_id.int >> 80 == int(created.timestamp() * 1000)
    # A like after its video and its user; a comment after its video; a subscription after both.
    assert not Like.objects.filter(
        Q(created_at__lt=models_f("video__created_at"))
        | Q(created_at__lt=models_f("user__created_at"))
    ).exists()
    assert not Comment.objects.filter(created_at__lt=models_f("video__created_at")).exists()
    assert not PlaylistVideo.objects.filter(added_at__lt=models_f("playlist__created_at")).exists()
    assert not Subscription.objects.filter(created_at__lt=models_f("channel__created_at")).exists()
    assert not Subscription.objects.filter(subscriber=models_f("channel")).exists()


def test_every_user_has_the_documented_password():
    seed("--scale", "0.001")
    users = list(User.objects.all())
    assert len({u.password for u in users}) == 1  # hashed once, not once per user
    assert users[0].check_password(seeding.DEMO_PASSWORD)
    assert not users[0].check_password("wrong-password-123")


def test_media_rows_point_at_a_few_shared_files_that_storage_holds():
    seed("--scale", "0.001")

    stored = set(files_under(settings.MEDIA_ROOT))
    assert stored == {
        "videos/demo-1.mp4",
        "videos/demo-2.webm",
        *seeding.DEMO_THUMBNAILS,
        *seeding.DEMO_AVATARS,
        *seeding.DEMO_COVERS,
    }
    assert (Path(settings.MEDIA_ROOT) / "videos/demo-1.mp4").read_bytes() == (
        REPO / "tests/media/sample.mp4"
    ).read_bytes()
    referenced = set(Video.objects.values_list("video_file", flat=True))
    referenced |= set(Video.objects.values_list("thumbnail", flat=True))
    referenced |= set(User.objects.values_list("avatar", flat=True))
    referenced |= set(User.objects.exclude(cover_image="").values_list("cover_image", flat=True))
    assert referenced <= stored
    # Nothing for the reconciliation job to complain about.
    out = io.StringIO()
    call_command("purge_orphan_media", "--older-than", "0", "--fail-on-findings", stdout=out)
    assert (
        "Orphans (in storage, referenced by no row, written over 0 minutes ago): 0"
        in out.getvalue()
    )
    assert "Missing (referenced by rows, not in storage): 0" in out.getvalue()


def test_every_video_lasts_as_long_as_the_clip_it_plays():
    seed("--scale", "0.001")

    by_file = {}
    for name, duration in Video.objects.values_list("video_file", "duration"):
        by_file.setdefault(name, set()).add(duration)
    assert len(by_file) == len(seeding.DEMO_VIDEO_FILES)
    for name, durations in by_file.items():
        # Probed from the stored file the row points at, as an upload of it would be.
        with video_storage.open(name) as clip:
            probed = probe_video(File(clip, name=name)).duration
        assert durations == {probed}, name
        assert 0 < probed < 10  # the shipped clips are short; not a pretend five minutes


def test_a_missing_sample_clip_is_refused_before_anything_is_written(monkeypatch, tmp_path):
    seed("--scale", "0.001")
    first = checksum()
    monkeypatch.setattr(seeding, "SAMPLE_MEDIA_DIR", tmp_path)

    with pytest.raises(CommandError, match=r"sample\.mp4 is missing"):
        seed("--scale", "0.001", "--flush", "--seed", "7")

    assert checksum() == first  # the flush was rolled back with the rest


def test_seeding_again_after_flush_reuses_the_media_files():
    seed("--scale", "0.001")
    before = {
        p: os.stat(Path(settings.MEDIA_ROOT) / p).st_mtime_ns
        for p in files_under(settings.MEDIA_ROOT)
    }
    seed("--scale", "0.001", "--flush")
    after = {
        p: os.stat(Path(settings.MEDIA_ROOT) / p).st_mtime_ns
        for p in files_under(settings.MEDIA_ROOT)
    }
    assert after == before


def test_no_media_writes_no_file():
    seed("--scale", "0.001", "--no-media")
    assert files_under(settings.MEDIA_ROOT) == []
    assert Video.objects.filter(video_file__startswith="videos/demo-").count() == 100
    # The rows still say how long the clips they name last.
    durations = seeding.probe_demo_clips()
    for name, duration in Video.objects.values_list("video_file", "duration"):
        assert duration == durations[name]


def test_on_cloudinary_the_rows_name_the_assets_the_storage_created(
    fake_cloudinary_listing, settings
):
    settings.CLOUDINARY_STORAGE = {"SECURE": False}  # delivery (exists checks) from the fake
    fake = fake_cloudinary_listing

    seed("--scale", "0.001")

    assert files_under(settings.MEDIA_ROOT) == []  # nothing went to the local disk
    images = fake.public_ids("image")
    videos = fake.public_ids("video")
    assert len(images) == len(seeding.DEMO_THUMBNAILS + seeding.DEMO_AVATARS + seeding.DEMO_COVERS)
    assert len(videos) == len(seeding.DEMO_VIDEO_FILES)
    assert all(name.startswith("media/videos/demo-") for name in videos)
    assert set(Video.objects.values_list("video_file", flat=True)) <= set(videos)
    assert set(Video.objects.values_list("thumbnail", flat=True)) <= set(images)
    assert set(User.objects.values_list("avatar", flat=True)) <= set(images)
    # The reconciliation job agrees: nothing missing, nothing orphaned.
    report = io.StringIO()
    call_command("purge_orphan_media", "--older-than", "0", "--fail-on-findings", stdout=report)
    assert "Missing (referenced by rows, not in storage): 0" in report.getvalue()


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bars_show_on_a_terminal_and_not_elsewhere():
    terminal = _Terminal()
    call_command("seed_demo", "--scale", "0.001", stdout=io.StringIO(), stderr=terminal)
    bars = terminal.getvalue()
    for table in ("users", "videos", "likes", "comments", "playlist entries"):
        assert f"{table}: 100%" in bars

    piped = io.StringIO()
    call_command("seed_demo", "--scale", "0.001", "--flush", stdout=io.StringIO(), stderr=piped)
    assert "100%" not in piped.getvalue()


def test_help_text_names_every_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        call_command("seed_demo", "--help")
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    options = ("--scale", "--seed", "--flush", "--if-empty", "--summary-json", "--no-media")
    for option in (*options, "--no-progress"):
        assert option in text
    # argparse wraps the description, also after hyphens.
    assert "demo-password-123" in re.sub(r"\s+", " ", text).replace("- ", "-")


def test_sqlite_fallback_loads_the_same_data(tmp_path):
    """Local runs use SQLite: the bulk-insert path makes the very same rows as COPY does."""
    seed("--scale", "0.001")
    postgres_big_channel = str(User.objects.get(username="bigchannel").id)
    postgres_top = Video.objects.order_by("-views", "id").values_list("id", flat=True).first()

    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "FILE_UPLOAD_TEMP_DIR": str(tmp_path / "uploads"),
        "SECRET_KEY": "sqlite-run-secret-key-0123456789-0123456789-0123456789",
    }
    manage = [sys.executable, str(REPO / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True, cwd=REPO, timeout=300)
    summary_path = tmp_path / "summary.json"
    subprocess.run(
        [*manage, "seed_demo", "--scale", "0.001", "--summary-json", str(summary_path)],
        env=env,
        check=True,
        cwd=REPO,
        timeout=300,
        capture_output=True,
    )
    summary = json.loads(summary_path.read_text())
    assert {k: v for k, v in summary["counts"].items() if k != "published_videos"} == TINY_COUNTS
    assert summary["big_channel"]["id"] == postgres_big_channel
    assert summary["most_viewed_video"]["id"] == str(postgres_top)
    assert uuid.UUID(summary["most_commented_video"]["id"]).version == 7
    # The counters are exact there too.
    check = subprocess.run(
        [
            *manage,
            "shell",
            "-c",
            "from videos.models import Video; from django.db.models import Count;"
            "print(sum(v.likes_count != v.n for v in Video.objects.annotate(n=Count('likes'))),"
            " Video.objects.filter(likes_count__gt=0).count())",
        ],
        env=env,
        check=True,
        cwd=REPO,
        timeout=120,
        capture_output=True,
        text=True,
    )
    mismatches, with_likes = check.stdout.strip().splitlines()[-1].split()
    assert mismatches == "0"
    assert int(with_likes) > 50
