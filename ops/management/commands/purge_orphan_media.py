"""``manage.py purge_orphan_media``: reconcile the media storages with the database.

Reports (and with ``--delete`` removes) *orphans*: files in storage that no row references, the
leftovers of failed uploads or of deletions that did not reach the storage. Also reports
*missing* files: names that rows reference but the storage does not hold (never fixed here: a
row is only ever deleted by its owner or staff, never by a reconciliation job).

Decisions:
- Which files belong to VizTube: those under the folders the media fields upload to
  (``avatars/``, ``covers/``, ``thumbnails/`` in the default storage, ``videos/`` in the video
  storage; with Cloudinary the same folders under the storage's prefix). Anything else in the
  storage (static files, other applications' assets) is neither listed nor deleted.
- The storage is listed BEFORE the rows are read, and files last written less than
  ``--older-than`` minutes ago (default 60) are never called orphans: a file whose upload is in
  progress, or whose row commits in the meantime, is young, so it cannot be deleted by mistake.
- A video uploaded straight to Cloudinary under a public id issued for it and not yet published
  (a ``media.models.DirectUpload``) is no orphan: the expiry of that public id deletes it.
- Works on the local ``FileSystemStorage`` (walks the folders; age = mtime) and on
  django-cloudinary-storage's storages (the Admin API's ``resources`` listing, 500 at a time;
  age = the asset's ``created_at``); any other storage class is refused with a clear error.
- ``--fail-on-findings`` makes the command exit with status 1 when anything is left to report,
  for monitoring (a test run or a cron job should see zero). A deletion that fails (Cloudinary
  answering an error) is reported and also ends the run with status 1.
"""

import os
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count
from tqdm import tqdm

from accounts.models import User
from media.models import DirectUpload
from media.storage import storage_alias, storage_for, video_storage
from media.upload_temp import describe_age, describe_size
from videos.models import Video

# Every FileField that names a media file: (model, field name).
MEDIA_FIELDS = (
    (User, "avatar"),
    (User, "cover_image"),
    (Video, "thumbnail"),
    (Video, "video_file"),
)


class FindingsRemain(CommandError):
    """``--fail-on-findings``: the run worked, and orphans or missing files remain."""


@dataclass(frozen=True)
class StoredFile:
    name: str
    size: int
    modified: datetime


def media_layout():
    """``{storage alias: sorted folders}`` from the media fields' ``upload_to``."""
    layout = defaultdict(set)
    for model, name in MEDIA_FIELDS:
        field = model._meta.get_field(name)
        layout[storage_alias(field.storage)].add(field.upload_to.strip("/") + "/")
    return {alias: sorted(folders) for alias, folders in sorted(layout.items())}


class LocalLister:
    """Files under a ``FileSystemStorage``'s folders, named as the storage names them."""

    def __init__(self, storage):
        self.storage = storage

    def prefix(self, folder):
        """How the names of the files in ``folder`` begin."""
        return folder

    def files(self, folder):
        root = os.path.join(self.storage.location, folder)
        for directory, _subdirs, names in os.walk(root):  # os.walk never follows symlinks
            for filename in names:
                path = os.path.join(directory, filename)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                stat = os.stat(path)
                relative = os.path.relpath(path, self.storage.location).replace(os.sep, "/")
                yield StoredFile(
                    name=relative,
                    size=stat.st_size,
                    modified=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
                )


class CloudinaryLister:
    """Assets of a django-cloudinary-storage storage, via the Admin API ``resources`` listing.

    The name a row holds is the asset's ``public_id`` (what the storage's ``_save`` returns).
    """

    PAGE = 500

    def __init__(self, storage):
        self.storage = storage

    def _resource_type(self, name):
        getter = getattr(self.storage, "_get_resource_type", None)
        return getter(name) if getter else self.storage.RESOURCE_TYPE

    def prefix(self, folder):
        """The storage puts its media prefix (``MEDIA_URL``'s path, "media/") before folders."""
        return self.storage._prepend_prefix(folder)

    def files(self, folder):
        import cloudinary.api

        prefix = self.prefix(folder)
        cursor = None
        while True:
            options = {
                "type": "upload",
                "resource_type": self._resource_type(prefix),
                "prefix": prefix,
                "max_results": self.PAGE,
                "timeout": getattr(settings, "CLOUDINARY_TIMEOUT_SECONDS", 60),
            }
            if cursor:
                options["next_cursor"] = cursor
            page = cloudinary.api.resources(**options)
            for resource in page.get("resources", []):
                yield StoredFile(
                    name=resource["public_id"],
                    size=int(resource.get("bytes") or 0),
                    modified=_parse_cloudinary_time(resource.get("created_at")),
                )
            cursor = page.get("next_cursor")
            if not cursor:
                return


def _parse_cloudinary_time(value):
    if not value:
        # No date: treat it as old, the age guard is for uploads in progress (which have one).
        return datetime(1970, 1, 1, tzinfo=UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def lister_for(storage):
    if isinstance(storage, FileSystemStorage):
        return LocalLister(storage)
    # Only imported when a Cloudinary storage is in use: without credentials it cannot be.
    cloudinary_storage = sys.modules.get("cloudinary_storage.storage")
    if cloudinary_storage and isinstance(storage, cloudinary_storage.MediaCloudinaryStorage):
        return CloudinaryLister(storage)
    kind = storage.__class__  # the class behind a lazy storage object
    raise CommandError(
        f"purge_orphan_media cannot list a {kind.__module__}.{kind.__name__}; "
        "it knows FileSystemStorage and django-cloudinary-storage."
    )


class Command(BaseCommand):
    help = (
        "Compare the media storages with the database: list files no row references "
        "(orphans) and files rows reference that the storage does not hold (missing). "
        "With --delete, remove the orphans (never rows). Files written in the last "
        "--older-than minutes are left alone (an upload may be in progress). Works with local "
        "media and with Cloudinary."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--delete", action="store_true", help="Delete the orphans found (never any row)."
        )
        parser.add_argument(
            "--older-than",
            type=int,
            default=60,
            metavar="MINUTES",
            help="Only files written more than MINUTES ago can be orphans (default 60).",
        )
        parser.add_argument(
            "--fail-on-findings",
            action="store_true",
            help="Exit with status 1 when orphans (not deleted) or missing files remain.",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bar (it shows on a TTY)."
        )

    def handle(self, *args, **options):
        older_than = options["older_than"]
        if older_than < 0:
            raise CommandError(f"--older-than must be 0 or more minutes, got {older_than}")
        cutoff = datetime.now(tz=UTC) - timedelta(minutes=older_than)
        self.show_progress = not options["no_progress"]

        # Storage first, rows second (see the module docstring: the age guard covers the gap).
        stored = self._list_storages()
        referenced = self._referenced_names()
        # Uploaded straight to Cloudinary under a public id issued for it, and not published
        # yet: the expiry of its DirectUpload, not this command, decides its fate. Not checked
        # for being missing either (nothing may have been uploaded yet).
        awaited = set(DirectUpload.objects.values_list("public_id", flat=True))

        orphans, recent = [], 0
        for alias, files in stored.items():
            for stored_file in files.values():
                if stored_file.name in referenced[alias]:
                    continue
                if alias == storage_alias(video_storage) and stored_file.name in awaited:
                    continue
                if stored_file.modified > cutoff:
                    recent += 1
                else:
                    orphans.append((alias, stored_file))
        missing = self._missing(stored, referenced)

        self._report_orphans(orphans, older_than, recent)
        deleted, failed = 0, 0
        if options["delete"] and orphans:
            deleted, failed = self._delete(orphans)
        self._report_missing(missing)

        left_over = (len(orphans) - deleted) + len(missing)
        if options["delete"]:
            summary = f"Deleted {deleted} orphan(s); {failed} could not be deleted."
            if failed:
                raise CommandError(summary)
            self.stdout.write(summary)
        if options["fail_on_findings"] and left_over:
            raise FindingsRemain(
                f"{len(orphans) - deleted} orphan(s) and {len(missing)} missing file(s) remain."
            )

    # --- gathering --------------------------------------------------------------------------

    def _bar(self, desc):
        return tqdm(
            desc=desc, unit="files", file=self.stderr, disable=None if self.show_progress else True
        )

    def _list_storages(self):
        stored = {}
        self.prefixes = {}
        for alias, folders in media_layout().items():
            lister = lister_for(storage_for(alias))
            self.prefixes[alias] = [lister.prefix(folder) for folder in folders]
            files = {}
            bar = self._bar(f"Listing {alias} storage")
            try:
                for folder in folders:
                    for stored_file in lister.files(folder):
                        files[stored_file.name] = stored_file
                        bar.update()
            except Exception as exc:
                # An unreachable or refusing Cloudinary, a folder that cannot be read: nothing
                # can be concluded (or deleted) from half a listing.
                raise CommandError(
                    f"Could not list the {alias} storage: {type(exc).__name__}: {exc}"
                ) from exc
            finally:
                bar.close()
            stored[alias] = files
        return stored

    def _referenced_names(self):
        referenced = defaultdict(set)
        for model, name in MEDIA_FIELDS:
            alias = storage_alias(model._meta.get_field(name).storage)
            values = model.objects.exclude(**{name: ""}).values_list(name, flat=True).distinct()
            referenced[alias].update(values.iterator())
        return referenced

    def _missing(self, stored, referenced):
        """Referenced names the storage does not hold: ``[(alias, name, [(label, rows)])]``."""
        missing_by_alias = {}
        for alias, names in referenced.items():
            storage = storage_for(alias)
            absent = []
            for name in sorted(names):
                if name in stored.get(alias, {}):
                    continue
                # Outside the listed folders, ask the storage itself before calling it missing.
                listed = any(name.startswith(prefix) for prefix in self.prefixes.get(alias, ()))
                if not listed and storage.exists(name):
                    continue
                absent.append(name)
            missing_by_alias[alias] = absent
        result = []
        for alias, names in missing_by_alias.items():
            if not names:
                continue
            users = self._rows_naming(alias, names)
            result.extend((alias, name, users.get(name, [])) for name in names)
        return result

    def _rows_naming(self, alias, names):
        rows = defaultdict(list)
        for model, field_name in MEDIA_FIELDS:
            if storage_alias(model._meta.get_field(field_name).storage) != alias:
                continue
            counted = (
                model.objects.filter(**{f"{field_name}__in": names})
                .values(field_name)
                .annotate(rows=Count("pk"))
                .order_by()
            )
            for row in counted:
                rows[row[field_name]].append((f"{model.__name__}.{field_name}", row["rows"]))
        return rows

    # --- acting and reporting -----------------------------------------------------------------

    def _report_orphans(self, orphans, older_than, recent):
        now = datetime.now(tz=UTC)
        self.stdout.write(
            f"Orphans (in storage, referenced by no row, written over {older_than} minutes ago): "
            f"{len(orphans)}"
        )
        for alias, stored_file in sorted(orphans, key=lambda o: (o[0], o[1].name)):
            age = describe_age((now - stored_file.modified).total_seconds())
            self.stdout.write(
                f"  [{alias}] {stored_file.name} ({describe_size(stored_file.size)}, {age} old)"
            )
        if recent:
            self.stdout.write(
                f"Not referenced but written in the last {older_than} minutes (left alone): "
                f"{recent}"
            )

    def _report_missing(self, missing):
        self.stdout.write(f"Missing (referenced by rows, not in storage): {len(missing)}")
        for alias, name, users in missing:
            where = ", ".join(f"{label} x{count}" for label, count in users)
            self.stdout.write(f"  [{alias}] {name} ({where})")

    def _delete(self, orphans):
        deleted = failed = 0
        for alias, stored_file in sorted(orphans, key=lambda o: (o[0], o[1].name)):
            storage = storage_for(alias)
            try:
                # Cloudinary's storage answers False instead of raising when it did not delete.
                outcome = storage.delete(stored_file.name)
            except Exception as exc:  # report every failure and keep going
                outcome = False
                detail = f": {exc}"
            else:
                detail = ""
            if outcome is False:
                failed += 1
                self.stderr.write(f"Could not delete [{alias}] {stored_file.name}{detail}")
            else:
                deleted += 1
                self.stdout.write(f"Deleted [{alias}] {stored_file.name}")
        return deleted, failed
