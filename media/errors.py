"""The one error a media storage raises when it could not do its job.

Kept apart from ``media.cloudinary_backends`` so that views and services can catch it without
importing the Cloudinary SDK (which is only configured when ``CLOUDINARY_URL`` is set).
"""


class MediaStorageError(Exception):
    """Storing (or reading back) a media file failed: network error, error answer, or timeout.

    Nothing usable was stored. Views turn it into a 502 in the error envelope
    (``viztube.api.exceptions.DependencyFailed``). ``name`` is the storage name the caller asked
    for, so logs can say which file failed.
    """

    def __init__(self, message, *, name=""):
        super().__init__(message)
        self.name = name
