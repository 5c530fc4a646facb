"""Where media live: the ``default`` storage holds images, the ``videos`` storage holds videos.

Both are chosen in ``settings.STORAGES`` (local files, or Cloudinary when ``CLOUDINARY_URL`` is set).
Where a storage must be named in data (a task's arguments are JSON), it is named by its
``STORAGES`` key: ``storage_alias`` and ``storage_for`` translate.
Model fields reach the video storage through a lazy object so that a change of ``STORAGES``
(tests switch between local files and the fake Cloudinary) takes effect without re-importing models.
"""

import re

from django.core.files.storage import FileSystemStorage, default_storage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty

from viztube.middleware import media_base_url


class _VideoStorage(LazyObject):
    def _setup(self):
        self._wrapped = storages["videos"]


video_storage = _VideoStorage()


def get_video_storage():
    """Used as ``FileField(storage=get_video_storage)``; migrations record this function."""
    return video_storage


def videos_on_cloudinary():
    """Whether videos are stored on Cloudinary: its storage takes the parts of a chunked
    upload; the local one does not."""
    return callable(getattr(video_storage, "send_part", None))


# The media storages by their STORAGES key; the lazy objects follow a change of STORAGES.
MEDIA_STORAGES = {"default": default_storage, "videos": video_storage}


def storage_alias(storage):
    """The ``STORAGES`` key of a media storage (the lazy object or the storage it wraps)."""
    for alias, lazy in MEDIA_STORAGES.items():
        if storage is lazy or storage is storages[alias]:
            return alias
    raise ValueError(f"{storage!r} is not one of the media storages {sorted(MEDIA_STORAGES)}")


def storage_for(alias):
    """The media storage named ``alias`` ("default" or "videos")."""
    return MEDIA_STORAGES[alias]


@receiver(setting_changed)
def _reset_video_storage(*, setting, **kwargs):
    if setting == "STORAGES":
        video_storage._wrapped = empty
    if setting in ("STORAGES", "MEDIA_URL"):
        for decided in _DECISIONS:
            decided[0] = _UNKNOWN


def file_url(field_file):
    """The public URL of a stored file, or "" when the field is empty."""
    return absolute_media_url(field_file.url) if field_file else ""


# A name made of these, in segments that do not start with a dot, is its own URL path on the
# local storage: ``filepath_to_uri`` quotes nothing in it and ``urljoin`` resolves nothing.
# Possessive: a linear scan, no backtracking.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*+(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*+)*+")
_is_plain_name = _PLAIN_NAME.fullmatch


def stored_url(storage, name):
    """The public URL of the file ``name`` in ``storage``, or "" when there is none: what
    ``file_url`` answers for a field holding ``name``, for a name read from the database.

    On the local storage a plain name (ours always are: ``media.services.media_name``) is
    appended to the storage's base URL, a tenth of the cost of ``storage.url`` (a list row
    shows up to three URLs); any other name, and every other storage (Cloudinary), gives
    exactly what the storage's ``url`` returns."""
    if not name:
        return ""
    base = _local_base(storage)
    if base is not None and _is_plain_name(name):
        return absolute_media_url(base + name)
    return absolute_media_url(storage.url(name))


def url_of(field):
    """A function of a stored name giving its public URL (``stored_url``) in the storage of the
    model ``field`` (a ``FileField``), for names read without the model (lean paths).

    What it decides about the storage (a local one's base URL, or ``None``) is kept until
    ``STORAGES`` or ``MEDIA_URL`` change: a list row shows up to three URLs, and resolving the
    lazy storage each time cost most of one."""
    storage, decided = field.storage, [_UNKNOWN]
    _DECISIONS.append(decided)

    def url(name):
        if not name:
            return ""
        local_base = decided[0]
        if local_base is _UNKNOWN:
            local_base = decided[0] = _local_base(storage)
        if local_base is not None and _is_plain_name(name):
            # absolute_media_url, inline.
            return (
                media_base_url() + local_base + name if local_base[0] == "/" else local_base + name
            )
        return stored_url(storage, name)

    return url


_UNKNOWN = object()
_DECISIONS = []  # of every url_of function, forgotten by _reset_video_storage


def _local_base(storage):
    """The base URL that a plain name is appended to (see ``stored_url``), or ``None``."""
    if isinstance(storage, LazyObject):
        if storage._wrapped is empty:
            storage._setup()
        storage = storage._wrapped
    if isinstance(storage, FileSystemStorage) and storage.base_url.endswith("/"):
        return storage.base_url
    return None


def absolute_media_url(url):
    """Local media URLs (``/media/...``) made absolute, as Cloudinary's already are, so that a
    frontend on another origin can use them as they come: prefixed with ``MEDIA_BASE_URL``
    (a proxy or CDN in front), else with the origin the request came to."""
    return media_base_url() + url if url.startswith("/") else url
