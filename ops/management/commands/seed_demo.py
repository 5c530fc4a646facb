"""``manage.py seed_demo``: fill an empty database with a realistic, deterministic data set."""

import functools
import json
import math
from pathlib import Path

from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from ops import seeding


def _positive_scale(raw):
    try:
        value = float(raw)
    except ValueError:
        raise CommandError(f"--scale must be a number, got {raw!r}") from None
    if not math.isfinite(value) or value <= 0 or value > 10:
        raise CommandError(f"--scale must be above 0 and at most 10, got {raw!r}")
    return value


class Command(BaseCommand):
    help = (
        "Fill an EMPTY database with demo data: users, videos, likes, comments, subscriptions, "
        "watch history, playlists and tweets. --scale 1 gives 10,000 users, 100,000 videos "
        "(90% published, one channel 'bigchannel' owning ~12%), 1,000,000 video likes, "
        "300,000 comments, 200,000 subscriptions (and 1,000 channels followed by one viewer, "
        "the feed's), 50,000 watch-history rows, 5,000 playlists "
        "with 100,000 entries and 50,000 tweets. The same --seed and --scale always give the "
        "same rows. Every user's password is '" + seeding.DEMO_PASSWORD + "'. Refuses to touch "
        "a database that already holds users or videos unless --flush is given."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=str,
            default="0.01",
            help="Size of the data set: 1 = the full benchmark set above; 0.001 = tests; "
            "0.01 (default) = a quick local demo (100 users, 1,000 videos).",
        )
        parser.add_argument(
            "--seed", type=int, default=42, help="Random seed (default 42): same seed, same data."
        )
        parser.add_argument(
            "--flush",
            action="store_true",
            help="DELETE every user (and so every video, comment, like, subscription, playlist, "
            "tweet and token) before seeding.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="When the database already holds data, say so and succeed without seeding "
            "(for start-up scripts and `make` targets that seed only a fresh database).",
        )
        parser.add_argument(
            "--summary-json",
            metavar="PATH",
            help="Also write the summary (counts, the big channel, the most-commented video, a "
            "search word found in ~1%% of titles) as JSON to PATH.",
        )
        parser.add_argument(
            "--no-media",
            action="store_true",
            help="Do not write the shared demo media files to storage (rows still name them).",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bars (they show on a TTY)."
        )

    def handle(self, *args, **options):
        scale = _positive_scale(options["scale"])
        summary_path = Path(options["summary_json"]) if options["summary_json"] else None
        if summary_path and not summary_path.parent.is_dir():
            raise CommandError(f"--summary-json: folder {summary_path.parent} does not exist")

        if options["flush"] and options["if_empty"]:
            raise CommandError("--flush and --if-empty contradict each other: choose one")
        existing = seeding.existing_row_counts()
        found = ", ".join(f"{table}: {count}" for table, count in existing.items())
        if existing and options["if_empty"]:
            self.stdout.write(f"The database already holds data ({found}): not seeding.")
            return
        if existing and not options["flush"]:
            raise CommandError(
                f"The database is not empty ({found}). seed_demo only fills an empty database. "
                "Run it with --flush to DELETE ALL users, videos, comments, likes, "
                "subscriptions, playlists and tweets first."
            )

        progress_factory = None
        if not options["no_progress"]:
            # disable=None: tqdm shows the bar only when stderr is a terminal.
            progress_factory = functools.partial(tqdm, file=self.stderr, disable=None)

        try:
            with transaction.atomic():
                if existing:
                    self.stdout.write("Flushing existing rows (--flush)...")
                    seeding.flush_demo_tables()
                result = seeding.seed_demo_data(
                    seed=options["seed"],
                    scale=scale,
                    progress_factory=progress_factory,
                    write_media=not options["no_media"],
                    log=self.stdout.write,
                )
        except seeding.DemoMediaMissing as error:
            raise CommandError(str(error)) from None
        if existing:
            # The rows were replaced behind the ORM (TRUNCATE, COPY): no signal retired the cached
            # list pages or user rows of the old data, so the whole cache goes.
            cache.clear()

        self._print_summary(result)
        if summary_path:
            summary_path.write_text(json.dumps(result.as_dict(), indent=2) + "\n")
            self.stdout.write(f"Summary written to {summary_path}")

    def _print_summary(self, result):
        out = self.stdout.write
        out(
            self.style.SUCCESS(
                f"Seeded demo data (seed {result.seed}, scale {result.scale:g}) "
                f"in {result.seconds:.1f} s."
            )
        )
        width = max(len(table) for table in result.counts)
        for table, count in result.counts.items():
            out(f"  {table:<{width}}  {count:>10,}")
        big = result.big_channel
        out(
            f"Big channel: {big['username']} (id {big['id']}), {big['videos']:,} videos "
            f"({big['share']:.1%}), {big['subscribers']:,} subscribers"
        )
        top = result.most_commented_video
        out(f"Most-commented published video: {top['id']} ({top['comments']:,} comments)")
        viewed = result.most_viewed_video
        out(f"Most-viewed published video: {viewed['id']} ({viewed['views']:,} views)")
        word = result.search_word
        out(
            f"Search word: {word['word']!r} is in {word['published_titles']:,} published titles "
            f"({word['title_share']:.2%})"
        )
        viewer = result.feed_viewer
        out(f"Feed viewer: {viewer['username']} ({viewer['subscriptions']:,} subscriptions)")
        out(f"Every user's password: {result.demo_password}")
