"""``manage.py recount_counters``: rebuild the denormalised counters from the rows they count."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from social import counters as counter_rules


class Command(BaseCommand):
    help = (
        "Recompute Video.likes_count, Video.comments_count, Comment.likes_count, "
        "Comment.replies_count, Tweet.likes_count, User.subscribers_count and "
        "User.subscriptions_count from the likes, comments, replies and subscriptions they "
        "count, and "
        "print how many rows were corrected. Works in batches of rows (one set-based UPDATE per "
        "counter and batch, only rows whose value is wrong are written); each batch is locked "
        "while it is recounted, so it is safe to run on a live site."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=5000,
            help="Rows locked and recounted per transaction (default 5000).",
        )
        parser.add_argument(
            "--no-progress",
            action="store_true",
            help="Do not show progress bars (they are shown only on a terminal anyway).",
        )

    def handle(self, *args, batch_size, no_progress, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        totals = {}
        for model, counters in counter_rules.COUNTERS.items():
            changed = dict.fromkeys(counters, 0)
            progress = tqdm(
                total=model.objects.count(),
                desc=f"{model._meta.verbose_name_plural}",
                unit="rows",
                # None: only on a terminal, so logs and captured output stay clean.
                disable=True if no_progress else None,
                file=self.stderr,
            )
            with progress:
                last_pk = None
                while True:
                    last_pk, rows, batch_changed = counter_rules.recount_batch(
                        model=model, after_pk=last_pk, batch_size=batch_size
                    )
                    if last_pk is None:
                        break
                    for field, count in batch_changed.items():
                        changed[field] += count
                    progress.update(rows)
            for field, count in changed.items():
                totals[f"{model.__name__}.{field}"] = count

        totals["VideoCatalog.published_videos"] = counter_rules.recount_catalog()
        for name, count in totals.items():
            self.stdout.write(f"{name}: {count} row{'s' if count != 1 else ''} corrected")
        self.stdout.write(self.style.SUCCESS(f"Done: {sum(totals.values())} counters corrected."))
