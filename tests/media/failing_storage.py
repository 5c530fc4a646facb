"""A local storage whose disk is full: every save fails as the file system would fail it."""

import errno

from django.core.files.storage import FileSystemStorage


class DiskFullStorage(FileSystemStorage):
    def _save(self, name, content):
        raise OSError(errno.ENOSPC, "No space left on device")
