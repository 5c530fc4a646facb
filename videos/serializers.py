import uuid

from django.contrib.auth import get_user_model
from django.db.models import BooleanField, ExpressionWrapper, Q
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.utils import html

from accounts.serializers import PersonSerializer
from media.storage import file_url, url_of
from videos.models import Video, VideoStatus
from videos.selectors import QUERY_MAX_LENGTH, SORT_FIELDS, VideoListFilters
from viztube.api.query import QueryParamsSerializer
from viztube.compiled import ApiDateTime, Converted, Shape, text_id
from viztube.models import Visibility


class VideoSerializer(serializers.Serializer):
    """The video shape of every list (docs/api.md, "Videos"); storage keys are never exposed.

    Querysets must ``select_related("owner")``.
    """

    id = serializers.UUIDField(read_only=True)
    title = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    videoFileUrl = serializers.SerializerMethodField()
    thumbnailUrl = serializers.SerializerMethodField()
    duration = serializers.FloatField(read_only=True)
    views = serializers.IntegerField(read_only=True)
    isPublished = serializers.BooleanField(
        source="is_published", read_only=True, help_text="visibility is not private."
    )
    visibility = serializers.ChoiceField(choices=Visibility.choices, read_only=True)
    publishAt = serializers.DateTimeField(
        source="publish_at",
        read_only=True,
        allow_null=True,
        help_text="When a scheduled video becomes public; null when not scheduled.",
    )
    publishedAt = serializers.DateTimeField(
        source="published_at",
        read_only=True,
        allow_null=True,
        help_text="When the video first became public (and ready); null until then.",
    )
    status = serializers.ChoiceField(
        choices=VideoStatus.choices,
        read_only=True,
        help_text=(
            "processing until its bytes are checked (and a thumbnail taken), then ready or "
            "failed. Until ready, only its owner sees the video."
        ),
    )
    failureReason = serializers.CharField(
        source="failure_reason",
        read_only=True,
        allow_null=True,
        help_text="Why processing failed, in words for a person; null unless status is failed.",
    )
    streamingUrl = serializers.URLField(
        source="streaming_url",
        read_only=True,
        allow_null=True,
        help_text="The HLS rendition (.m3u8) when there is one (Cloudinary), else null.",
    )
    userId = serializers.UUIDField(source="owner_id", read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)
    user = PersonSerializer(source="owner", read_only=True)

    def get_videoFileUrl(self, video) -> str:
        return file_url(video.video_file)

    def get_thumbnailUrl(self, video) -> str:
        return file_url(video.thumbnail)


class VideoOwnerSerializer(PersonSerializer):
    """The owner inside a video's detail: the person shape plus their channel's numbers."""

    subscribersCount = serializers.IntegerField(source="subscribers_count", read_only=True)
    isSubscribed = serializers.SerializerMethodField()

    def get_isSubscribed(self, user) -> bool:
        # Set by videos.selectors.video_detail_for_viewer; false for anonymous callers.
        return bool(getattr(user, "is_subscribed", False))


class VideoDetailSerializer(VideoSerializer):
    """``GET /videos/:id``: the list shape plus counters and the caller's own flags.

    Expects the object from ``videos.selectors.video_detail_for_viewer``.
    """

    likesCount = serializers.IntegerField(source="likes_count", read_only=True)
    commentsCount = serializers.IntegerField(source="comments_count", read_only=True)
    isLiked = serializers.BooleanField(source="viewer_liked", read_only=True)
    user = VideoOwnerSerializer(source="owner", read_only=True)


# --- The same shapes on the lean paths (viztube.compiled) ------------------------------------------
# Each equals its serializer's output for the same row (tests/videos/test_lean_detail.py and the
# other lean paths' equivalence tests): a field added to one and not the other fails them.


def person_shape(relation):
    """``PersonSerializer``'s fields of the user that ``relation`` reaches."""
    return Shape(
        id=text_id(f"{relation}__id"),
        username=f"{relation}__username",
        fullname=f"{relation}__fullname",
        avatar=Converted(f"{relation}__avatar", url_of(get_user_model()._meta.get_field("avatar"))),
    )


VIDEO_SHAPE = Shape(
    id=text_id("pk"),
    title="title",
    description="description",
    videoFileUrl=Converted("video_file", url_of(Video._meta.get_field("video_file"))),
    thumbnailUrl=Converted("thumbnail", url_of(Video._meta.get_field("thumbnail"))),
    duration="duration",
    views="views",
    isPublished=ExpressionWrapper(~Q(visibility=Visibility.PRIVATE), output_field=BooleanField()),
    visibility="visibility",
    publishAt=ApiDateTime("publish_at"),
    publishedAt=ApiDateTime("published_at"),
    status="status",
    failureReason="failure_reason",
    streamingUrl="streaming_url",
    userId=text_id("owner_id"),
    createdAt=ApiDateTime("created_at"),
    updatedAt=ApiDateTime("updated_at"),
    user=person_shape("owner"),
)

# ``viewer_liked`` and ``viewer_subscribed`` are annotations of the statement's queryset (the
# caller's flags, videos.lean).
VIDEO_DETAIL_SHAPE = VIDEO_SHAPE.extend(
    user=person_shape("owner").extend(
        subscribersCount="owner__subscribers_count", isSubscribed="viewer_subscribed"
    ),
    likesCount="likes_count",
    commentsCount="comments_count",
    isLiked="viewer_liked",
)


class WatchHistoryVideoSerializer(VideoSerializer):
    """One watch-history item: the video shape plus when the caller last watched it."""

    watchedAt = serializers.DateTimeField(source="watched_at", read_only=True)


class WatchHistoryClearedSerializer(serializers.Serializer):
    deleted = serializers.IntegerField(read_only=True, help_text="Entries removed.")


# --- Input --------------------------------------------------------------------------------------

TITLE_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 5000
VISIBILITY_CHOICES = f"visibility must be one of: {', '.join(Visibility.values)}"


class PublishingInputSerializer(serializers.Serializer):
    """``visibility`` and ``publishAt``, accepted when publishing and when updating a video.

    Their rules (a schedule keeps the video private, ``publishAt`` in the next 366 days, ``null``
    cancels) are ``videos.services``'s."""

    visibility = serializers.ChoiceField(
        choices=Visibility.choices,
        required=False,
        error_messages={"invalid_choice": VISIBILITY_CHOICES, "null": VISIBILITY_CHOICES},
    )
    publishAt = serializers.DateTimeField(
        source="publish_at",
        required=False,
        allow_null=True,
        help_text=(
            "Schedule: the video stays private until this time (in the future, at most 366 days "
            "ahead), then becomes public. null cancels a schedule."
        ),
        error_messages={"invalid": "publishAt must be an ISO 8601 date and time"},
    )


class _TextField(serializers.CharField):
    """Text that means the same in JSON and in a form (both found by the schemathesis fuzz): a
    JSON number or boolean is refused (DRF would store ``0`` as "0"), and an empty form field is
    an empty value (DRF reads an empty optional form field as omitted, so a blank title that JSON
    refuses was silently ignored in multipart)."""

    def get_value(self, dictionary):
        if html.is_html_input(dictionary) and dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


VIDEO_REQUIRED = "Video file is required: send videoFile, or the uploadId of a complete upload"
VIDEO_TWICE = "Send either videoFile or uploadId, not both"
VIDEO_ONE_WAY = "Send the video one way only: videoFile, uploadId or cloudinaryPublicId"
CLOUDINARY_PUBLIC_ID_REQUIRED = "cloudinaryPublicId cannot be empty"


class VideoPublishInputSerializer(PublishingInputSerializer):
    """``POST /videos`` (multipart, or JSON with an ``uploadId`` or a ``cloudinaryPublicId``):
    the video is ``videoFile`` (sent in this request, at most ``SINGLE_UPLOAD_MAX_MB``),
    ``uploadId`` (a complete upload session) or ``cloudinaryPublicId`` (uploaded straight to
    Cloudinary), exactly one of them. Files are only checked for presence here; their content
    is validated by ``media.validation`` before anything is stored."""

    title = serializers.CharField(
        max_length=TITLE_MAX_LENGTH,
        error_messages={
            "required": "Title is required",
            "blank": "Title is required",
            "null": "Title is required",
            "max_length": f"Title must be at most {TITLE_MAX_LENGTH} characters",
        },
    )
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        error_messages={
            "max_length": f"Description must be at most {DESCRIPTION_MAX_LENGTH} characters"
        },
    )
    videoFile = serializers.FileField(
        required=False,
        help_text="The video, in this request (at most SINGLE_UPLOAD_MAX_MB); or send uploadId.",
        error_messages={"null": VIDEO_REQUIRED, "empty": "The video file is empty"},
    )
    uploadId = serializers.UUIDField(
        source="upload_id",
        required=False,
        help_text=(
            "A complete resumable upload (POST /uploads) of the caller's, instead of videoFile: "
            "it is used up, and the video starts processing."
        ),
        error_messages={"invalid": "uploadId must be a UUID", "null": VIDEO_REQUIRED},
    )
    cloudinaryPublicId = _TextField(
        source="public_id",
        required=False,
        max_length=255,
        help_text=(
            "With Cloudinary storage, instead of videoFile: the publicId issued by "
            "POST /uploads/cloudinary-signature, the video uploaded under it. The video starts "
            "processing until Cloudinary's HLS rendition is made."
        ),
        error_messages={
            "blank": CLOUDINARY_PUBLIC_ID_REQUIRED,
            "null": CLOUDINARY_PUBLIC_ID_REQUIRED,
        },
    )
    thumbnail = serializers.FileField(
        required=False,
        help_text="Optional: without one, a frame of the video becomes the thumbnail.",
        error_messages={"null": "The thumbnail is empty", "empty": "The thumbnail is empty"},
    )

    def to_internal_value(self, data):
        # Which video was sent is told beside the other fields' problems (an empty form names
        # the title and the video at once), each field's own problem first.
        sent = [
            name
            for name in ("videoFile", "uploadId", "cloudinaryPublicId")
            if name in self.fields and self.fields[name].get_value(data) is not empty
        ]
        problems = {}
        if not sent:
            problems["videoFile"] = [VIDEO_REQUIRED]
        elif "cloudinaryPublicId" in sent and len(sent) > 1:
            problems["cloudinaryPublicId"] = [VIDEO_ONE_WAY]
        elif len(sent) == 2:
            problems["uploadId"] = [VIDEO_TWICE]
        try:
            attrs = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({**problems, **exc.detail}) from None
        if problems:
            raise serializers.ValidationError(problems)
        return attrs


class VideoPublishJsonInputSerializer(VideoPublishInputSerializer):
    """The JSON form of ``POST /videos`` in the document: files only travel in multipart, so a
    JSON body publishes an ``uploadId`` or a ``cloudinaryPublicId``."""

    videoFile = None
    thumbnail = None


class VideoUpdateInputSerializer(PublishingInputSerializer):
    """``PATCH /videos/:id`` (JSON or multipart): a true partial update.

    Decision (the original ignored empty strings): an omitted field is kept; a title that is
    empty after trimming is refused (422) because a video always has a title; an empty
    description clears it. Fields a client may not set (views, owner, counters, files other
    than the thumbnail, isPublished) are not here, so they are ignored.
    """

    title = _TextField(
        max_length=TITLE_MAX_LENGTH,
        required=False,
        error_messages={
            "blank": "Title cannot be empty",
            "null": "Title cannot be empty",
            "max_length": f"Title must be at most {TITLE_MAX_LENGTH} characters",
        },
    )
    description = _TextField(
        max_length=DESCRIPTION_MAX_LENGTH,
        required=False,
        allow_blank=True,
        error_messages={
            "max_length": f"Description must be at most {DESCRIPTION_MAX_LENGTH} characters"
        },
    )
    thumbnail = serializers.FileField(
        required=False, error_messages={"empty": "The thumbnail is empty"}
    )


class VideoUpdateJsonInputSerializer(VideoUpdateInputSerializer):
    """The JSON form of ``PATCH /videos/:id`` in the document: a thumbnail is a file, so it
    only comes in a multipart body (a JSON string there is a 422)."""

    thumbnail = None


class VideoListQuerySerializer(QueryParamsSerializer):
    """``GET /videos``: ``query``, ``userId``, ``sortBy``, ``sortType``; any bad value is a 400.

    ``sortType`` defaults to ``desc`` and orders the ``sortBy`` column (``createdAt`` when
    ``sortBy`` is absent); with a ``query`` and no ``sortBy`` the order is relevance, best
    first, and ``sortType`` is ignored. ``sortBy`` is matched exactly (it names a field),
    ``sortType`` in any case; surrounding blanks are ignored.
    """

    query = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=QUERY_MAX_LENGTH,
        error_messages={"max_length": f"'query' must be at most {QUERY_MAX_LENGTH} characters"},
    )
    userId = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    sortBy = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    sortType = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)

    def validate_userId(self, value):
        try:
            return uuid.UUID(value.strip())
        except ValueError:
            raise serializers.ValidationError("'userId' must be a UUID") from None

    def validate_sortBy(self, value):
        field = SORT_FIELDS.get(value.strip())
        if field is None:
            raise serializers.ValidationError(f"'sortBy' must be one of: {', '.join(SORT_FIELDS)}")
        return field

    def validate_sortType(self, value):
        sort_type = value.strip().lower()
        if sort_type not in ("asc", "desc"):
            raise serializers.ValidationError("'sortType' must be 'asc' or 'desc'")
        return sort_type

    def filters(self):
        params = self.parse()
        return VideoListFilters(
            query=params.get("query", ""),
            owner_id=params.get("userId"),
            sort_by=params.get("sortBy"),
            descending=params.get("sortType", "desc") == "desc",
        )
