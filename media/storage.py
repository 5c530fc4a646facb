"""Where media live: the ``default`` storage holds images, the ``videos`` storage holds videos.

Both are chosen in ``settings.STORAGES`` (local files, or Cloudinary when ``CLOUDINARY_URL`` is set).
Where a storage must be named in data (a task's arguments are JSON), it is named by its
``STORAGES`` key: ``storage_alias`` and ``storage_for`` translate.
Model fields reach the video storage through a lazy object so that a change of ``STORAGES``
(tests switch between local files and the fake Cloudinary) takes effect without re-importing models.
"""

from django.core.files.storage import default_storage, storages
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


def file_url(field_file):
    """The public URL of a stored file, or "" when the field is empty."""
    return absolute_media_url(field_file.url) if field_file else ""


def stored_url(storage, name):
    """The public URL of the file ``name`` in ``storage``, or "" when there is none."""
    return absolute_media_url(storage.url(name)) if name else ""


def absolute_media_url(url):
    """Local media URLs (``/media/...``) made absolute, as Cloudinary's already are, so that a
    frontend on another origin can use them as they come: prefixed with ``MEDIA_BASE_URL``
    (a proxy or CDN in front), else with the origin the request came to."""
    return media_base_url() + url if url.startswith("/") else url
