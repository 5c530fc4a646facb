"""Input and output shapes of notifications and their settings."""

from rest_framework import serializers

from accounts.serializers import PersonSerializer
from media.storage import file_url
from notifications.models import NotificationType
from viztube.api.query import QueryParamsSerializer

EXCERPT_LENGTH = 100
UNREAD_CHOICES = "'unread' must be 'true' or 'false'"
IDS_MAX = 100
IDS_TOO_MANY = f"At most {IDS_MAX} ids at once; send 'all': true to mark every one read"
NOT_AN_ID = "Each id must be a notification id (a UUID)"
ALL_MUST_BE_TRUE = "'all' must be true when it is sent"
IDS_OR_ALL = "Send either 'ids' or 'all', not both"
NO_SETTING_GIVEN = "Send at least one of: " + ", ".join(NotificationType.values)
NOT_A_BOOLEAN = "Must be true or false"


# --- Output ----------------------------------------------------------------------------------


class NotificationVideoSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    title = serializers.CharField(read_only=True)
    thumbnailUrl = serializers.SerializerMethodField()

    def get_thumbnailUrl(self, video) -> str:
        return file_url(video.thumbnail)


class NotificationExcerptSerializer(serializers.Serializer):
    """A comment or a tweet: its id and the first ``EXCERPT_LENGTH`` characters."""

    id = serializers.UUIDField(read_only=True)
    content = serializers.SerializerMethodField(help_text=f"The first {EXCERPT_LENGTH} characters.")

    def get_content(self, target) -> str:
        return target.content[:EXCERPT_LENGTH]


class NotificationSerializer(serializers.Serializer):
    """A ``Notification`` with its subjects joined (``notifications.selectors``). ``video``,
    ``comment`` and ``tweet`` are present only when the type has one: ``video`` for
    videoPublished and the comment types (the comment's video), ``comment`` for the comment
    types, ``tweet`` for tweetPosted; channelSubscribed has the actor alone."""

    id = serializers.UUIDField(read_only=True)
    type = serializers.ChoiceField(choices=NotificationType.values, read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    isRead = serializers.BooleanField(source="is_read", read_only=True)
    actor = PersonSerializer(read_only=True, help_text="Who did it.")
    # Not read-only, so that the document shows them as optional (they are output only).
    video = NotificationVideoSerializer(required=False)
    comment = NotificationExcerptSerializer(required=False)
    tweet = NotificationExcerptSerializer(required=False)

    def to_representation(self, notification):
        data = super().to_representation(notification)
        # An absent subject came out as None; a comment's video is shown as the video.
        if notification.video is None and notification.comment is not None:
            data["video"] = self.fields["video"].to_representation(notification.comment.video)
        for name in ("video", "comment", "tweet"):
            if data.get(name) is None:
                data.pop(name, None)
        return data


class NotificationPageSerializer(serializers.Serializer):
    """``GET /notifications``'s ``data`` (documentation only: the view builds it)."""

    docs = NotificationSerializer(many=True)
    limit = serializers.IntegerField()
    nextCursor = serializers.CharField(
        allow_null=True, help_text="The next page's `cursor`; null on the last page."
    )
    unreadCount = serializers.IntegerField(
        help_text="Unread notifications, counted up to 100: 100 means 100 or more (show '99+')."
    )


class UnreadCountSerializer(serializers.Serializer):
    unreadCount = serializers.IntegerField(
        help_text="Unread notifications after the change, counted up to 100 (100 or more)."
    )


class NotificationSettingsSerializer(serializers.Serializer):
    """The six switches, by type (``NotificationSettings``)."""

    videoPublished = serializers.BooleanField(source="video_published")
    tweetPosted = serializers.BooleanField(source="tweet_posted")
    videoCommented = serializers.BooleanField(source="video_commented")
    commentReplied = serializers.BooleanField(source="comment_replied")
    channelSubscribed = serializers.BooleanField(source="channel_subscribed")
    commentHearted = serializers.BooleanField(source="comment_hearted")


# --- Input -----------------------------------------------------------------------------------


class NotificationListQuerySerializer(QueryParamsSerializer):
    """``GET /notifications``'s own parameter (``limit`` and ``cursor`` are the cursor's)."""

    unread = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)

    def validate_unread(self, value):
        if value not in ("true", "false"):
            raise serializers.ValidationError(UNREAD_CHOICES)
        return value == "true"


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean only: DRF's would take ``"yes"``, ``1`` or ``"off"`` as well."""

    default_error_messages = {"invalid": NOT_A_BOOLEAN}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictUUIDField(serializers.UUIDField):
    """Text only (DRF's would read a JSON number as ``UUID(int=...)``)."""

    default_error_messages = {"invalid": NOT_AN_ID}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class MarkReadInputSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=StrictUUIDField(),
        required=False,
        allow_empty=False,
        max_length=IDS_MAX,
        error_messages={"max_length": IDS_TOO_MANY},
        help_text=(
            f"Notifications to mark read (at most {IDS_MAX}); ids that are not the caller's "
            "are ignored."
        ),
    )
    all = StrictBooleanField(required=False, help_text="true: mark every notification read.")

    # Exactly one of the two, a non-empty list or true (validate()); the document says so.
    openapi_request_schema = {
        "oneOf": [{"required": ["ids"]}, {"required": ["all"]}],
        "properties": {"ids": {"minItems": 1}, "all": {"enum": [True]}},
    }

    def validate_all(self, value):
        if value is not True:
            raise serializers.ValidationError(ALL_MUST_BE_TRUE)
        return value

    def validate(self, attrs):
        if "ids" in attrs and "all" in attrs:
            raise serializers.ValidationError(IDS_OR_ALL)
        if "ids" not in attrs and "all" not in attrs:
            raise serializers.ValidationError(IDS_OR_ALL.replace(", not both", ""))
        return attrs


class NotificationSettingsInputSerializer(serializers.Serializer):
    """``PATCH /notifications/settings``: any of the six switches; the others are kept."""

    videoPublished = StrictBooleanField(required=False, source="video_published")
    tweetPosted = StrictBooleanField(required=False, source="tweet_posted")
    videoCommented = StrictBooleanField(required=False, source="video_commented")
    commentReplied = StrictBooleanField(required=False, source="comment_replied")
    channelSubscribed = StrictBooleanField(required=False, source="channel_subscribed")
    commentHearted = StrictBooleanField(required=False, source="comment_hearted")

    # At least one (validate()); the document says so.
    openapi_request_schema = {"anyOf": [{"required": [name]} for name in NotificationType.values]}

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(NO_SETTING_GIVEN)
        return attrs
