"""``manage.py sweep_upload_temp``: delete upload temp files that their worker left behind.

The rules (which files, how old) are ``media.upload_temp``'s; this command prints every file it
removes and a summary, and fails when a file could not be removed. The periodic task
``media.tasks.sweep_upload_temp`` runs the same sweep every 15 minutes.
"""

from django.core.management.base import BaseCommand, CommandError

from media import upload_temp


class Command(BaseCommand):
    help = (
        "Delete upload temp files (Django's *.upload* and VizTube's *.probe) in "
        "FILE_UPLOAD_TEMP_DIR that were last written more than --older-than minutes ago: the "
        "leftovers of workers killed mid-upload. Prints every file it removes. The periodic "
        "tasks run it every 15 minutes; run it with --older-than 0 at start-up, before the "
        "workers."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=upload_temp.DEFAULT_OLDER_THAN_MINUTES,
            metavar="MINUTES",
            help="Only files last written more than MINUTES ago (default 60; 0 = all of them, "
            "only while no worker runs).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be removed; remove nothing."
        )

    def handle(self, *args, **options):
        try:
            result = upload_temp.sweep(
                older_than_minutes=options["older_than"], dry_run=options["dry_run"]
            )
        except upload_temp.SweepRefused as exc:
            raise CommandError(str(exc)) from None
        for path, error in result.failed:
            self.stderr.write(f"Could not remove {path}: {error}")
        for swept in result.removed:
            self.stdout.write(result.describe(swept))
        summary = result.summary()
        if result.failed:
            raise CommandError(f"{summary} {len(result.failed)} file(s) could not be removed.")
        self.stdout.write(self.style.SUCCESS(summary) if result.removed else summary)
