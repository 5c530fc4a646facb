from django.conf import settings
from django.db import models
from django.db.models import F, Q

from viztube.models import UUIDv7Model


class UploadSession(UUIDv7Model):
    """A resumable upload: a file announced by its size, whose bytes arrive in chunks.

    The bytes live in storage, never here (``media.uploads``): on the local file system in one
    part file; with Cloudinary in Cloudinary's own chunked upload, each full part passed on as
    soon as it is stored locally. ``received`` only ever counts bytes that are on disk (fsync'd)
    or already with Cloudinary.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # As the client announced them; informative only (the bytes are checked when they are used).
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(help_text="Bytes announced.")
    received = models.PositiveBigIntegerField(
        default=0, help_text="Bytes stored so far, from the first: the offset to resume from."
    )
    # Cloudinary only: the X-Unique-Upload-Id that ties the parts together, the part size
    # (fixed per session: a part's position is its index times this), the bytes already passed
    # on, and the name the finished asset has in the video storage (its public id).
    remote_upload_id = models.CharField(max_length=64, blank=True, default="")
    part_bytes = models.PositiveIntegerField(default=0)
    forwarded = models.PositiveBigIntegerField(default=0)
    stored_name = models.CharField(max_length=255, blank=True, default="")
    # The request writing a chunk now, and until when its claim holds unless it renews it
    # (media.services: one writer at a time, and a writer that died frees the session).
    writer = models.UUIDField(null=True, blank=True)
    writer_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(help_text="UPLOAD_SESSION_HOURS after the last chunk.")

    class Meta:
        indexes = [
            # The open sessions of one user (the UPLOAD_SESSIONS_MAX check).
            models.Index(fields=["owner", "expires_at"], name="upload_owner_expires"),
            # The periodic task finds the expired ones.
            models.Index(fields=["expires_at"], name="upload_expires"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(size__gt=0), name="upload_size_positive"),
            models.CheckConstraint(
                condition=Q(received__lte=F("size")), name="upload_received_within_size"
            ),
            models.CheckConstraint(
                condition=Q(forwarded__lte=F("received")), name="upload_forwarded_received"
            ),
        ]

    def __str__(self):
        return f"{self.filename} ({self.received}/{self.size} bytes)"

    @property
    def is_remote(self):
        """Whether the bytes go on to Cloudinary (else they stay in the local part file)."""
        return bool(self.remote_upload_id)

    @property
    def is_complete(self):
        return self.completed_at is not None


class DirectUpload(UUIDv7Model):
    """A Cloudinary public id issued to one user, who uploads a video straight to Cloudinary
    under it (``POST /uploads/cloudinary-signature``) and then publishes it.

    The row is the proof, at publish time, that the public id was issued to that user: a public
    id without its row (another user's, made up, used already, or expired) cannot be published.
    Publishing deletes the row in the transaction that inserts the video, so an asset is
    published at most once. A row whose time is up is deleted by the periodic upload expiry,
    and the asset uploaded under it, if any, is destroyed.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    public_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(help_text="UPLOAD_SESSION_HOURS after the last signature.")

    class Meta:
        indexes = [
            # The open direct uploads of one user (the UPLOAD_SESSIONS_MAX check).
            models.Index(fields=["owner", "expires_at"], name="direct_upload_owner_expires"),
            # The periodic task finds the expired ones.
            models.Index(fields=["expires_at"], name="direct_upload_expires"),
        ]

    def __str__(self):
        return self.public_id
