from rest_framework import serializers

from accounts.serializers import PersonSerializer
from media.storage import stored_url
from playlists.selectors import PLAYLIST_DETAIL_VIDEOS
from videos.models import Video
from videos.serializers import VideoSerializer
from viztube.api.fields import BlankIsGivenInForms, FormTextField
from viztube.models import Visibility

NAME_REQUIRED = "Playlist name is required"
NAME_TOO_LONG = "Playlist name must be at most 150 characters"
DESCRIPTION_TOO_LONG = "Description must be at most 1000 characters"
VISIBILITY_INVALID = "Visibility must be one of: public, unlisted, private"
VISIBILITY_HELP = (
    "public: listed and readable by anyone; unlisted: readable by anyone with its id, listed to "
    "its owner only; private: its owner only."
)
# DRF's own wording, as every other text field of the API says it.
NOT_A_STRING = "Not a valid string."


def _name_field(**kwargs):
    return FormTextField(
        max_length=150,
        error_messages={
            "required": NAME_REQUIRED,
            "blank": NAME_REQUIRED,
            "null": NAME_REQUIRED,
            "max_length": NAME_TOO_LONG,
            "invalid": NOT_A_STRING,
        },
        **kwargs,
    )


def _description_field(**kwargs):
    return FormTextField(
        max_length=1000,
        allow_blank=True,
        error_messages={"max_length": DESCRIPTION_TOO_LONG, "invalid": NOT_A_STRING},
        **kwargs,
    )


class _VisibilityField(BlankIsGivenInForms, serializers.ChoiceField):
    """One of the ``Visibility`` values, exactly: another case, a blank, a number or null is a
    422."""

    def __init__(self, **kwargs):
        super().__init__(
            choices=Visibility.choices,
            error_messages={"invalid_choice": VISIBILITY_INVALID, "null": VISIBILITY_INVALID},
            help_text=VISIBILITY_HELP,
            **kwargs,
        )


class PlaylistCreateInputSerializer(serializers.Serializer):
    """``name`` (trimmed, 1 to 150 chars), optional ``description`` (trimmed, ≤ 1000, default "")
    and optional ``visibility`` (default public). Anything else in the body (owner, userId, id,
    dates) is ignored."""

    name = _name_field()
    description = _description_field(required=False, default="")
    visibility = _VisibilityField(required=False, default=Visibility.PUBLIC)


class PlaylistUpdateInputSerializer(serializers.Serializer):
    """A partial update: each field is optional; an omitted field keeps its value."""

    name = _name_field(required=False)
    description = _description_field(required=False)
    visibility = _VisibilityField(required=False)


def playlist_thumbnail_url(thumbnail_name):
    """URL of a video thumbnail known by its storage name (from a subquery), or None."""
    if not thumbnail_name:
        return None
    return stored_url(Video._meta.get_field("thumbnail").storage, thumbnail_name)


class PlaylistSerializer(serializers.Serializer):
    """The list shape of a playlist. Needs ``playlists.selectors.with_summary`` annotations."""

    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    visibility = serializers.ChoiceField(
        choices=Visibility.choices, read_only=True, help_text=VISIBILITY_HELP
    )
    userId = serializers.UUIDField(source="owner_id", read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)
    totalVideos = serializers.IntegerField(
        source="total_videos", read_only=True, help_text="Videos in it the caller can see."
    )
    thumbnail = serializers.SerializerMethodField(
        help_text="Thumbnail of the most recently added video the caller can see, or null."
    )

    def get_thumbnail(self, playlist) -> str | None:
        return playlist_thumbnail_url(playlist.thumbnail_name)


class PlaylistVideoSerializer(VideoSerializer):
    """A video of a playlist: the video list shape plus when it was added."""

    addedAt = serializers.DateTimeField(source="added_at", read_only=True)


class PlaylistDetailSerializer(PlaylistSerializer):
    """A playlist with its owner, the total views of its videos and the first of its videos, in
    the order they were added (``videos``, an array). ``totalVideos`` says how many there are in
    all; the whole list, paginated, is ``GET /playlist/{playlistId}/videos``."""

    user = PersonSerializer(source="owner", read_only=True)
    totalViews = serializers.IntegerField(
        source="total_views",
        read_only=True,
        help_text="Sum of the views of the videos the caller can see (all of them).",
    )
    videos = PlaylistVideoSerializer(
        source="first_videos",
        many=True,
        read_only=True,
        help_text=f"The first {PLAYLIST_DETAIL_VIDEOS} videos the caller can see, oldest addition "
        "first.",
    )
