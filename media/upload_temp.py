"""Upload temp files that their worker left behind: finding and deleting them.

Django streams a large upload to a temp file in ``FILE_UPLOAD_TEMP_DIR`` and deletes it when the
request ends, but a worker that is killed mid-upload (gunicorn's timeout, the OOM killer) leaves
it there forever. ``sweep`` removes those leftovers; ``manage.py sweep_upload_temp`` and the
periodic task ``media.tasks.sweep_upload_temp`` both call it.

Decisions:
- Only the names VizTube's uploads create are touched: Django's ``*.upload*`` temp files and our
  ``*.probe`` copies (``media.validation``), directly in the folder. Anything else is left alone,
  so a mistaken ``FILE_UPLOAD_TEMP_DIR=/tmp`` cannot wipe other programs' files.
- Age is the time since the file was last written (mtime): an upload in progress is written to
  continuously, so it always looks young; the default guard (60 minutes) is far longer than any
  request may last.
- ``older_than_minutes=0`` sweeps everything; meant for start-up, before the workers start.
- Symbolic links and folders are never followed or deleted.
"""

import fnmatch
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

TEMP_FILE_PATTERNS = ("*.upload*", "*.probe")
DEFAULT_OLDER_THAN_MINUTES = 60


class SweepRefused(ValueError):
    """The sweep cannot run as configured (the message says why); nothing was touched."""


@dataclass(frozen=True)
class SweptFile:
    path: str
    size: int
    age_seconds: float


@dataclass
class Sweep:
    """What one sweep did (or, with ``dry_run``, would do)."""

    folder: Path
    older_than_minutes: int
    dry_run: bool
    removed: list = field(default_factory=list)  # SweptFile, in name order
    failed: list = field(default_factory=list)  # (path, error text)
    kept: int = 0

    @property
    def freed(self):
        return sum(swept.size for swept in self.removed)

    def describe(self, swept):
        verb = "Would remove" if self.dry_run else "Removed"
        return (
            f"{verb} {swept.path} ({describe_size(swept.size)}, "
            f"last written {describe_age(swept.age_seconds)} ago)"
        )

    def summary(self):
        verb = "Would remove" if self.dry_run else "Removed"
        return (
            f"{verb} {len(self.removed)} file(s), {describe_size(self.freed)}; kept {self.kept} "
            f"written in the last {self.older_than_minutes} minutes, in {self.folder}."
        )


def sweep(*, older_than_minutes=DEFAULT_OLDER_THAN_MINUTES, dry_run=False):
    """Delete the upload temp files last written more than ``older_than_minutes`` ago.

    Raises ``SweepRefused`` when the folder is not configured or not a folder. A file that
    cannot be removed is recorded in ``failed`` and the sweep goes on.
    """
    if older_than_minutes < 0:
        raise SweepRefused(f"--older-than must be 0 or more minutes, got {older_than_minutes}")
    folder_setting = getattr(settings, "FILE_UPLOAD_TEMP_DIR", None)
    if not folder_setting:
        raise SweepRefused(
            "FILE_UPLOAD_TEMP_DIR is not set: uploads go to the system temp folder, which "
            "is never swept. Set FILE_UPLOAD_TEMP_DIR to a folder of its own."
        )
    folder = Path(folder_setting)
    if not folder.is_dir():
        raise SweepRefused(f"FILE_UPLOAD_TEMP_DIR {folder} is not a folder")

    result = Sweep(folder=folder, older_than_minutes=older_than_minutes, dry_run=dry_run)
    now = time.time()
    cutoff = now - older_than_minutes * 60
    with os.scandir(folder) as entries:
        candidates = sorted((e for e in entries if _is_upload_temp_file(e)), key=lambda e: e.name)
    for entry in candidates:
        try:
            stat = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue  # its request finished and removed it meanwhile
        if stat.st_mtime > cutoff:
            result.kept += 1
            continue
        if not dry_run:
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                continue
            except OSError as exc:
                result.failed.append((entry.path, exc.strerror))
                continue
        result.removed.append(SweptFile(entry.path, stat.st_size, now - stat.st_mtime))
    return result


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


def _is_upload_temp_file(entry):
    if not entry.is_file(follow_symlinks=False):
        return False
    return any(fnmatch.fnmatchcase(entry.name, pattern) for pattern in TEMP_FILE_PATTERNS)
