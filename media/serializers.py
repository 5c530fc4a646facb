"""Input and output shapes of the resumable upload routes (docs/api.md, "Uploads")."""

from django.core.validators import RegexValidator
from rest_framework import serializers

# type/subtype, optionally with parameters; or empty, as browsers send for a type they do not
# know. Informative only: the bytes decide what the file is when it is used.
_MEDIA_TYPE = RegexValidator(
    r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*(\s*;.*)?$",
    message="Must be a media type such as video/mp4.",
)


class UploadSessionCreateInputSerializer(serializers.Serializer):
    """``filename`` (1 to 255 characters), ``size`` in bytes (at least 1; over
    ``VIDEO_MAX_UPLOAD_MB`` MiB is a 413, not a 422) and ``contentType`` (a media type, or "")."""

    filename = serializers.CharField(max_length=255)
    size = serializers.IntegerField(
        min_value=1,
        help_text="The file's size in bytes; over VIDEO_MAX_UPLOAD_MB MiB (default 2048) is a 413.",
    )
    contentType = serializers.CharField(
        source="content_type",
        max_length=100,
        allow_blank=True,
        validators=[_MEDIA_TYPE],
        help_text="The file's media type as the client knows it (may be empty).",
    )


class UploadProgressSerializer(serializers.Serializer):
    """Where an upload stands: ``offset`` is the number of bytes stored, from the first."""

    uploadId = serializers.UUIDField(source="pk", read_only=True)
    size = serializers.IntegerField(read_only=True)
    offset = serializers.IntegerField(source="received", read_only=True)


def _expires_at():
    return serializers.DateTimeField(
        source="expires_at",
        read_only=True,
        help_text="The session and its bytes are deleted then, unless a chunk arrives first.",
    )


class UploadCreatedSerializer(UploadProgressSerializer):
    expiresAt = _expires_at()


class UploadCompleteSerializer(UploadProgressSerializer):
    complete = serializers.BooleanField(source="is_complete", read_only=True)


class UploadSessionSerializer(UploadCompleteSerializer):
    expiresAt = _expires_at()


class UploadOffsetSerializer(serializers.Serializer):
    """The ``data`` of a 409: where to resume."""

    offset = serializers.IntegerField(help_text="Bytes stored: the next chunk starts here.")
