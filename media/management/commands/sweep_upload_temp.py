"""``manage.py sweep_upload_temp``: delete upload temp files that their worker left behind.

Django streams a large upload to a temp file in ``FILE_UPLOAD_TEMP_DIR`` and deletes it when the
request ends, but a worker that is killed mid-upload (gunicorn's timeout, the OOM killer) leaves
it there forever. This command removes those leftovers.

Decisions (the issue only says "older than --older-than minutes"):
- Only the names VizTube's uploads create are touched: Django's ``*.upload*`` temp files and our
  ``*.probe`` copies (``media.validation``), directly in the folder. Anything else is left alone,
  so a mistaken ``FILE_UPLOAD_TEMP_DIR=/tmp`` cannot wipe other programs' files.
- Age is the time since the file was last written (mtime): an upload in progress is written to
  continuously, so it always looks young; the default guard (60 minutes) is far longer than any
  request may last.
- ``--older-than 0`` sweeps everything; meant for start-up, before the workers start.
- Symbolic links and folders are never followed or deleted.
"""

import fnmatch
import os
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

TEMP_FILE_PATTERNS = ("*.upload*", "*.probe")


def describe_size(size):
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} B"  # pragma: no cover - the loop always returns


def describe_age(seconds):
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} days"


class Command(BaseCommand):
    help = (
        "Delete upload temp files (Django's *.upload* and VizTube's *.probe) in "
        "FILE_UPLOAD_TEMP_DIR that were last written more than --older-than minutes ago: the "
        "leftovers of workers killed mid-upload. Prints every file it removes. Schedule it "
        "(e.g. every 15 minutes) and run it with --older-than 0 at start-up, before the workers."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=60,
            metavar="MINUTES",
            help="Only files last written more than MINUTES ago (default 60; 0 = all of them, "
            "only while no worker runs).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be removed; remove nothing."
        )

    def handle(self, *args, **options):
        older_than = options["older_than"]
        if older_than < 0:
            raise CommandError(f"--older-than must be 0 or more minutes, got {older_than}")
        folder_setting = getattr(settings, "FILE_UPLOAD_TEMP_DIR", None)
        if not folder_setting:
            raise CommandError(
                "FILE_UPLOAD_TEMP_DIR is not set: uploads go to the system temp folder, which "
                "this command will not sweep. Set FILE_UPLOAD_TEMP_DIR to a folder of its own."
            )
        folder = Path(folder_setting)
        if not folder.is_dir():
            raise CommandError(f"FILE_UPLOAD_TEMP_DIR {folder} is not a folder")

        dry_run = options["dry_run"]
        now = time.time()
        cutoff = now - older_than * 60
        removed = kept = failed = 0
        freed = 0
        verb = "Would remove" if dry_run else "Removed"
        with os.scandir(folder) as entries:
            candidates = sorted(
                (e for e in entries if _is_upload_temp_file(e)), key=lambda e: e.name
            )
        for entry in candidates:
            try:
                stat = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # its request finished and removed it meanwhile
            if stat.st_mtime > cutoff:
                kept += 1
                continue
            if not dry_run:
                try:
                    os.unlink(entry.path)
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    failed += 1
                    self.stderr.write(f"Could not remove {entry.path}: {exc.strerror}")
                    continue
            removed += 1
            freed += stat.st_size
            self.stdout.write(
                f"{verb} {entry.path} ({describe_size(stat.st_size)}, "
                f"last written {describe_age(now - stat.st_mtime)} ago)"
            )

        summary = (
            f"{verb} {removed} file(s), {describe_size(freed)}; kept {kept} written in the last "
            f"{older_than} minutes, in {folder}."
        )
        if failed:
            raise CommandError(f"{summary} {failed} file(s) could not be removed.")
        self.stdout.write(self.style.SUCCESS(summary) if removed else summary)


def _is_upload_temp_file(entry):
    if not entry.is_file(follow_symlinks=False):
        return False
    return any(fnmatch.fnmatchcase(entry.name, pattern) for pattern in TEMP_FILE_PATTERNS)
