"""Input and output shapes of comments, likes, subscriptions, tweets and channel profiles.

Input serializers hold only what a client may set (``content``, and the comment a reply answers);
ids, authors, videos and counts come from the URL, the token and the database. Validation messages keep the wording of the
original VizTube API where it had one; failures answer 422 through the shared handler.
"""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from accounts.serializers import PersonSerializer
from media.storage import file_url, url_of
from social.feed import KINDS, TWEET, VIDEO
from social.services import PARENT_NOT_FOUND
from videos.serializers import VideoSerializer, person_shape
from viztube.api.fields import TextField
from viztube.api.query import QueryParamsSerializer
from viztube.api.schema import OneOfSerializer
from viztube.compiled import ApiDateTime, Converted, Shape, text_id

User = get_user_model()

COMMENT_MAX_LENGTH = 2000
TWEET_MAX_LENGTH = 280


class _StrictUUIDField(serializers.UUIDField):
    """A UUIDField that takes text only: DRF's would read a JSON number as ``UUID(int=...)``
    (and ``true`` as the id ``...0001``), where the document says ``type: string``."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


def _content_field(*, max_length, empty_message, too_long_message):
    """Trimmed text of 1..max_length characters (DRF's CharField trims and refuses NUL bytes)."""
    return TextField(
        max_length=max_length,
        trim_whitespace=True,
        error_messages={
            "required": empty_message,
            "blank": empty_message,
            "null": empty_message,
            "max_length": too_long_message,
        },
    )


class CommentCreateInputSerializer(serializers.Serializer):
    content = _content_field(
        max_length=COMMENT_MAX_LENGTH,
        empty_message="Comment cannot be empty",
        too_long_message=f"Comment must be at most {COMMENT_MAX_LENGTH} characters",
    )
    # A malformed id names no comment: the same answer as an unknown one (the service's).
    parentId = _StrictUUIDField(
        required=False,
        allow_null=True,
        error_messages={"invalid": PARENT_NOT_FOUND},
        help_text=(
            "Reply to this comment of the same video: the reply joins its thread (a reply to a "
            "reply joins the thread of the comment replied to). Absent or null: a top-level "
            "comment."
        ),
    )


class CommentUpdateInputSerializer(serializers.Serializer):
    full_patch = True  # validated in full: `content` is required (see ApiAutoSchema)

    content = _content_field(
        max_length=COMMENT_MAX_LENGTH,
        empty_message="Content is required",
        too_long_message=f"Comment must be at most {COMMENT_MAX_LENGTH} characters",
    )


class TweetCreateInputSerializer(serializers.Serializer):
    content = _content_field(
        max_length=TWEET_MAX_LENGTH,
        empty_message="Tweet content cannot be empty.",
        too_long_message=f"Tweet must be at most {TWEET_MAX_LENGTH} characters",
    )


class TweetUpdateInputSerializer(serializers.Serializer):
    full_patch = True  # validated in full: `content` is required (see ApiAutoSchema)

    content = _content_field(
        max_length=TWEET_MAX_LENGTH,
        empty_message="Content cannot be empty",
        too_long_message=f"Tweet must be at most {TWEET_MAX_LENGTH} characters",
    )


class CommentOutputSerializer(serializers.Serializer):
    """A comment with its author, like count, whether the caller likes it, and its place in a
    thread (``parentId``, ``repliesCount``) with the video owner's marks (pinned, hearted).

    Expects ``is_liked`` (``social.selectors.comments_with_counts``).
    """

    id = serializers.UUIDField(read_only=True)
    content = serializers.CharField(read_only=True)
    videoId = serializers.UUIDField(source="video_id", read_only=True)
    userId = serializers.UUIDField(source="author_id", read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)
    user = PersonSerializer(source="author", read_only=True)
    likesCount = serializers.IntegerField(source="likes_count", read_only=True)
    isLiked = serializers.BooleanField(source="is_liked", read_only=True)
    parentId = serializers.UUIDField(
        source="parent_id",
        read_only=True,
        allow_null=True,
        help_text="The thread's top-level comment, for a reply; null for a top-level comment.",
    )
    repliesCount = serializers.IntegerField(
        source="replies_count",
        read_only=True,
        help_text="Replies in the thread this comment starts; 0 for a reply.",
    )
    isPinned = serializers.BooleanField(
        source="is_pinned",
        read_only=True,
        help_text="Pinned by the video's owner (at most one comment per video).",
    )
    isHearted = serializers.BooleanField(
        source="is_hearted", read_only=True, help_text="Hearted by the video's owner."
    )


# The same shape on the lean paths (viztube.compiled; social.lean): ``is_liked`` is an annotation
# of the statement's queryset. tests/social/test_lean_comments.py proves them equal.
COMMENT_SHAPE = Shape(
    id=text_id("pk"),
    content="content",
    videoId=text_id("video_id"),
    userId=text_id("author_id"),
    createdAt=ApiDateTime("created_at"),
    updatedAt=ApiDateTime("updated_at"),
    user=person_shape("author"),
    likesCount="likes_count",
    isLiked="is_liked",
    parentId=text_id("parent_id"),
    repliesCount="replies_count",
    isPinned="is_pinned",
    isHearted="is_hearted",
)


class CommentPinOutputSerializer(serializers.Serializer):
    isPinned = serializers.BooleanField(source="is_pinned", read_only=True)


class CommentHeartOutputSerializer(serializers.Serializer):
    isHearted = serializers.BooleanField(source="is_hearted", read_only=True)


class TweetOutputSerializer(serializers.Serializer):
    """A tweet with its author, like count and whether the caller likes it.

    Expects ``is_liked`` (``social.selectors.tweets_with_counts``).
    """

    id = serializers.UUIDField(read_only=True)
    content = serializers.CharField(read_only=True)
    userId = serializers.UUIDField(source="author_id", read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)
    user = PersonSerializer(source="author", read_only=True)
    likesCount = serializers.IntegerField(source="likes_count", read_only=True)
    isLiked = serializers.BooleanField(source="is_liked", read_only=True)


# The same shape on the lean paths (the feed's tweets, social.lean), as COMMENT_SHAPE.
TWEET_SHAPE = Shape(
    id=text_id("pk"),
    content="content",
    userId=text_id("author_id"),
    createdAt=ApiDateTime("created_at"),
    updatedAt=ApiDateTime("updated_at"),
    user=person_shape("author"),
    likesCount="likes_count",
    isLiked="is_liked",
)


class LikeToggleOutputSerializer(serializers.Serializer):
    liked = serializers.BooleanField(read_only=True)
    likesCount = serializers.IntegerField(source="likes_count", read_only=True)


def like_toggle_data(state):
    """``LikeToggleOutputSerializer(state).data``, built without DRF: the toggles answer it
    (a test holds the two equal; a field added to one is added to the other)."""
    return {"liked": state.liked, "likesCount": state.likes_count}


class LikedVideoOutputSerializer(VideoSerializer):
    """The list shape of a video, plus when the caller liked it."""

    likedAt = serializers.DateTimeField(source="liked_at", read_only=True)


class SubscriptionToggleOutputSerializer(serializers.Serializer):
    subscribed = serializers.BooleanField(read_only=True)
    subscribersCount = serializers.IntegerField(source="subscribers_count", read_only=True)


class SubscriptionPersonOutputSerializer(PersonSerializer):
    """A subscriber or a subscribed channel: the person shape plus when the subscription began."""

    subscribedAt = serializers.DateTimeField(source="subscribed_at", read_only=True)


# One class per list: the schema helper names a paginated component after the item serializer's
# class, so two lists sharing one class would produce two components with the same name.
class SubscriberOutputSerializer(SubscriptionPersonOutputSerializer):
    """A subscriber of a channel."""


class SubscribedChannelOutputSerializer(SubscriptionPersonOutputSerializer):
    """A channel the user subscribes to."""


class ChannelProfileOutputSerializer(serializers.Serializer):
    """A channel's public profile; ``email`` only when callers look at their own channel.

    Expects ``is_subscribed`` and ``is_own`` (``social.selectors.channel_profile_get``).
    """

    id = serializers.UUIDField(read_only=True)
    username = serializers.CharField(read_only=True)
    # Not read_only: the schema marks read-only fields as always present, and this one is not.
    # (This serializer only ever writes output.)
    email = serializers.EmailField(required=False, help_text="Only on the caller's own channel.")
    fullname = serializers.CharField(read_only=True)
    avatar = serializers.SerializerMethodField()
    coverImage = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    # The original API's spelling, kept for its clients; every other shape says
    # subscribersCount, so the profile has both.
    subscriberCount = serializers.IntegerField(source="subscribers_count", read_only=True)
    subscribersCount = serializers.IntegerField(source="subscribers_count", read_only=True)
    channelsSubscribedToCount = serializers.IntegerField(
        source="subscriptions_count", read_only=True
    )
    isSubscribed = serializers.BooleanField(source="is_subscribed", read_only=True)

    def get_avatar(self, user) -> str:
        return file_url(user.avatar)

    def get_coverImage(self, user) -> str:
        return file_url(user.cover_image)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not instance.is_own:
            # Another user's email is private: only the channel's owner sees it.
            del data["email"]
        return data


# ``ChannelProfileOutputSerializer``'s fields as one statement reads them
# (``social.lean.channel_profile_data``): the same answer, held equal by a test.
CHANNEL_PROFILE_SHAPE = Shape(
    id=text_id("pk"),
    username="username",
    email="email",
    fullname="fullname",
    avatar=Converted("avatar", url_of(User._meta.get_field("avatar"))),
    coverImage=Converted("cover_image", url_of(User._meta.get_field("cover_image"))),
    createdAt=ApiDateTime("created_at"),
    subscriberCount="subscribers_count",
    subscribersCount="subscribers_count",
    channelsSubscribedToCount="subscriptions_count",
    isSubscribed="is_subscribed",
)


# --- Feed -------------------------------------------------------------------------------------

FEED_TYPE_CHOICES = "'type' must be 'video' or 'tweet'"


class FeedQuerySerializer(QueryParamsSerializer):
    """``GET /feed``'s own parameter (``limit`` and ``cursor`` are ``viztube.api.cursor``'s)."""

    # Blank allowed here so that an empty value is refused by the check below (a plain choice
    # field would take an empty query parameter for an absent one).
    type = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)

    def validate_type(self, value):
        if value not in KINDS:
            raise serializers.ValidationError(FEED_TYPE_CHOICES)
        return value


class _FeedItemSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True, help_text="The video's or the tweet's id.")
    at = serializers.DateTimeField(
        read_only=True, help_text="The item's place in the feed: publishedAt or createdAt."
    )


class FeedVideoItemSerializer(_FeedItemSerializer):
    type = serializers.ChoiceField(choices=[VIDEO], read_only=True)
    video = VideoSerializer(source="target", read_only=True)


# The tweet comes from social.selectors.tweets_with_counts (see TweetOutputSerializer).
class FeedTweetItemSerializer(_FeedItemSerializer):
    type = serializers.ChoiceField(choices=[TWEET], read_only=True)
    tweet = TweetOutputSerializer(source="target", read_only=True)


class FeedItemSerializer(OneOfSerializer):
    """A ``social.feed.FeedItem``: a video or a tweet of a followed channel."""

    shapes = {VIDEO: FeedVideoItemSerializer, TWEET: FeedTweetItemSerializer}
