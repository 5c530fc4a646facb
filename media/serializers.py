"""Input and output shapes of the resumable upload routes (docs/api.md, "Uploads")."""

from django.core.validators import RegexValidator
from rest_framework import serializers

from viztube.api.fields import TextField

# type/subtype, optionally with parameters; or empty, as browsers send for a type they do not
# know. Informative only: the bytes decide what the file is when it is used.
_MEDIA_TYPE = RegexValidator(
    r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*(\s*;.*)?$",
    message="Must be a media type such as video/mp4.",
)


class UploadSessionCreateInputSerializer(serializers.Serializer):
    """``filename`` (1 to 255 characters), ``size`` in bytes (at least 1; over
    ``VIDEO_MAX_UPLOAD_MB`` MiB is a 413, not a 422) and ``contentType`` (a media type, or "")."""

    filename = TextField(max_length=255)
    size = serializers.IntegerField(
        min_value=1,
        help_text="The file's size in bytes; over VIDEO_MAX_UPLOAD_MB MiB (default 2048) is a 413.",
    )
    contentType = TextField(
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


# --- Direct uploads to Cloudinary ---------------------------------------------------------------


class CloudinarySignatureInputSerializer(serializers.Serializer):
    """Nothing for a new public id; ``publicId`` to sign the upload under one issued to the
    caller again (an upload that takes longer than the hour a signature is good for)."""

    publicId = TextField(
        source="public_id",
        max_length=255,
        required=False,
        help_text="A public id issued to you and not yet published: sign it again.",
    )


class CloudinarySignatureSerializer(serializers.Serializer):
    """Everything a client needs to upload a video straight to Cloudinary (docs/api.md,
    "Direct uploads to Cloudinary")."""

    publicId = serializers.CharField(
        source="signed.public_id",
        read_only=True,
        help_text="Where the video goes on Cloudinary; publish it with cloudinaryPublicId.",
    )
    resourceType = serializers.CharField(
        default="video", read_only=True, help_text="Always video (the upload URL's)."
    )
    uploadUrl = serializers.CharField(
        source="signed.upload_url",
        read_only=True,
        help_text="POST the file here as multipart/form-data, its field named file.",
    )
    cloudName = serializers.CharField(source="signed.cloud_name", read_only=True)
    apiKey = serializers.CharField(source="signed.api_key", read_only=True)
    timestamp = serializers.IntegerField(
        source="signed.timestamp",
        read_only=True,
        help_text="Unix time of the signature; Cloudinary accepts it for one hour.",
    )
    signature = serializers.CharField(source="signed.signature", read_only=True)
    notificationUrl = serializers.CharField(
        source="signed.notification_url",
        read_only=True,
        help_text="Our webhook, where Cloudinary reports the upload (a signed parameter).",
    )
    formFields = serializers.DictField(
        source="signed.fields",
        child=serializers.CharField(),
        read_only=True,
        help_text=(
            "The form fields to send with the file, each exactly as given: public_id, "
            "timestamp, overwrite, notification_url, tags, signature, api_key."
        ),
    )
    expiresAt = serializers.DateTimeField(
        source="upload.expires_at",
        read_only=True,
        help_text="Publish before then: the public id is forgotten and its asset destroyed.",
    )
