"""The one error a media storage raises when it could not do its job.

Kept apart from ``media.cloudinary_backends`` so that services can catch it without importing
the Cloudinary SDK (which is only configured when ``CLOUDINARY_URL`` is set).
"""

from viztube import errors


class MediaStorageError(errors.DependencyFailed):
    """Storing (or reading back) a media file failed: network error, error answer, or timeout.

    Nothing usable was stored. It is a ``DependencyFailed``, so the client is told that the
    media storage failed (502) without the details; ``str()`` gives the details for the logs,
    and ``name`` is the storage name the caller asked for.
    """

    def __init__(self, detail, *, name=""):
        super().__init__()
        self.detail = detail
        self.name = name

    def __str__(self):
        return self.detail


# What a storage raises when it could not store or delete a file: our Cloudinary backends wrap
# every SDK or network failure in MediaStorageError; the local file system raises OSError (disk
# full, permissions).
STORAGE_ERRORS = (MediaStorageError, OSError)


class MediaRefused(errors.InvalidInput):
    """The media storage refused the file itself (Cloudinary answered that the bytes are not a
    file of the kind announced): sending it again cannot help. A 422 that quotes the reason."""

    def __init__(self, detail, *, name=""):
        super().__init__(f"The media storage refused the file: {detail}")
        self.name = name
