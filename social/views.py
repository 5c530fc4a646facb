"""Comments, likes, subscriptions, tweets and the channel profile: one viewset per resource.

Each action parses input, calls one service (writes) or selector (reads), and serializes the
result. Public reads: the comments of a video, a user's tweets, a channel profile; everything
else needs a token.

Decisions where the specs are silent:
- Staff have no special powers here; moderation is the admin's job (``social.admin``).
- A created or edited comment/tweet answers in the same shape as its list item (``user``,
  ``likesCount``, ``isLiked``), not the original's bare row, so clients handle one shape.
- The video's owner may delete comments on their video but not edit them (words stay the
  author's). Liking one's own video, comment or tweet is allowed, as in the original.
- Any signed-in user may list anyone's subscribers and subscriptions (as the original).
- Deactivated users are not hidden: deactivation stops sign-in, it does not unpublish a channel.
- Rate-limit scopes: toggles are ``toggle`` (a comment's pin and heart too); posting a comment
  or a tweet is ``comment``.
- A comment's replies are public like its video's comments. The id of a reply lists its thread's
  replies (a reply's id stands for its thread, as when replying to it).
- Pins and hearts are the video owner's alone (403 for anyone else, staff included); they answer
  the new state only, as the like toggles do.

Operation descriptions in the OpenAPI document come from ``api_doc(description=...)``. A
docstring on a viewset (or on its base class) would become the description of every action
without one, so the viewsets keep their notes in comments.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticatedOrReadOnly

from social import feed, selectors, services
from social import lean as social_lean
from social.serializers import (
    ChannelProfileOutputSerializer,
    CommentCreateInputSerializer,
    CommentHeartOutputSerializer,
    CommentOutputSerializer,
    CommentPinOutputSerializer,
    CommentUpdateInputSerializer,
    FeedItemSerializer,
    FeedQuerySerializer,
    LikedVideoOutputSerializer,
    LikeToggleOutputSerializer,
    SubscribedChannelOutputSerializer,
    SubscriberOutputSerializer,
    SubscriptionToggleOutputSerializer,
    TweetCreateInputSerializer,
    TweetOutputSerializer,
    TweetUpdateInputSerializer,
    like_toggle_data,
)
from viztube.api.cursor import cursor_body, cursor_request
from viztube.api.envelope import created, ok
from viztube.api.pagination import paginated_body, valid_page_request
from viztube.api.schema import CURSOR, api_doc
from viztube.api.viewsets import ApiViewSet
from viztube.compiled import lean

LIKE_ADDED = "Like added successfully"
LIKE_REMOVED = "Like removed successfully"


def _uuid_path(name, description):
    return OpenApiParameter(name, OpenApiTypes.UUID, OpenApiParameter.PATH, description=description)


# --- Comments ---------------------------------------------------------------------------------

VIDEO_ID = _uuid_path("video_id", "The video's id.")
COMMENT_ID = _uuid_path("comment_id", "The comment's id.")
COMMENTS_OF_A_VIDEO = (
    "``GET /comments/:videoId`` (public): the video's top-level comments, the pinned one first, "
    "then newest first; ``totalDocs`` counts them (the video's ``commentsCount`` counts replies "
    "too). ``POST /comments/:videoId``: a top-level comment, or with ``parentId`` a reply in "
    "that comment's thread (threads are one level deep: a reply to a reply joins the thread of "
    "the comment replied to)."
)
ONE_COMMENT = (
    "``PATCH|DELETE /comments/c/:commentId``. Deleting a thread's top-level comment deletes its "
    "replies."
)
OWNER_MARKS = (
    "The video's owner only. A toggle: each call flips the mark and answers the new state."
)


# The comments of a video and a thread's replies (public reads), commenting and replying, a
# comment's edit and deletion, and the video owner's pin and heart.
class CommentViewSet(ApiViewSet):
    permission_classes = [IsAuthenticatedOrReadOnly]
    throttle_scope = {"POST": "comment"}
    input_serializers = {
        "create": CommentCreateInputSerializer,
        "partial_update": CommentUpdateInputSerializer,
    }

    @api_doc(
        name="CommentList",
        response=CommentOutputSerializer,
        paginated=True,
        errors=(404,),
        parameters=[VIDEO_ID],
        summary="Top-level comments of a video, the pinned one first, then newest first",
        description=COMMENTS_OF_A_VIDEO,
    )
    def list(self, request, video_id):
        if lean() and (page := valid_page_request(request)) is not None:
            body = social_lean.comment_list_body(video_id=video_id, viewer=request.user, page=page)
            return ok(body, "Comments fetched successfully")
        comments, total = selectors.comment_list_for_video(video_id=video_id, viewer=request.user)
        body = paginated_body(request, comments, CommentOutputSerializer, count=total)
        return ok(body, "Comments fetched successfully")

    @api_doc(
        name="CommentCreate",
        response=CommentOutputSerializer,
        request=CommentCreateInputSerializer,
        status=201,
        errors=(401, 404, 422, 429),
        parameters=[VIDEO_ID],
        summary="Comment on a video, or reply to one of its comments",
        description=COMMENTS_OF_A_VIDEO,
    )
    def create(self, request, video_id):
        data = self.validated_input()
        comment = services.comment_create(
            video_id=video_id,
            author=request.user,
            content=data["content"],
            parent_id=data.get("parentId"),
        )
        return created(CommentOutputSerializer(comment).data, "Comment added successfully")

    @api_doc(
        name="CommentUpdate",
        response=CommentOutputSerializer,
        request=CommentUpdateInputSerializer,
        errors=(401, 403, 404, 422),
        parameters=[COMMENT_ID],
        summary="Edit one's own comment",
        description=ONE_COMMENT,
    )
    def partial_update(self, request, comment_id):
        content = self.validated_input()["content"]
        comment = services.comment_update(comment_id=comment_id, user=request.user, content=content)
        return ok(CommentOutputSerializer(comment).data, "Comment updated successfully")

    @api_doc(
        name="CommentDelete",
        errors=(401, 403, 404),
        parameters=[COMMENT_ID],
        summary="Delete a comment (its author, or the video's owner)",
        description=ONE_COMMENT,
    )
    def destroy(self, request, comment_id):
        services.comment_delete(comment_id=comment_id, user=request.user)
        return ok({}, "Comment deleted successfully")

    @api_doc(
        name="CommentReplyList",
        response=CommentOutputSerializer,
        paginated=True,
        errors=(404,),
        parameters=[COMMENT_ID],
        summary="Replies of a comment's thread, oldest first",
        description=(
            "``GET /comments/c/:commentId/replies`` (public). The id of a reply lists the replies "
            "of its thread, itself among them. ``totalDocs`` is the thread's ``repliesCount``."
        ),
    )
    @action(detail=True, methods=["get"])
    def replies(self, request, comment_id):
        if lean() and (page := valid_page_request(request)) is not None:
            body = social_lean.comment_reply_list_body(
                comment_id=comment_id, viewer=request.user, page=page
            )
            return ok(body, "Replies fetched successfully")
        replies, total = selectors.comment_reply_list(comment_id=comment_id, viewer=request.user)
        body = paginated_body(request, replies, CommentOutputSerializer, count=total)
        return ok(body, "Replies fetched successfully")

    @api_doc(
        name="CommentPinToggle",
        response=CommentPinOutputSerializer,
        errors=(401, 403, 404, 422, 429),
        parameters=[COMMENT_ID],
        summary="Pin a top-level comment of one's video, or unpin it",
        description=(
            f"``PATCH /comments/c/:commentId/pin``. {OWNER_MARKS} Pinning a comment unpins the "
            "video's pinned one; a reply cannot be pinned (422)."
        ),
    )
    @action(detail=True, methods=["patch"], throttle_scope={"PATCH": "toggle"})
    def pin(self, request, comment_id):
        state = services.comment_pin_toggle(comment_id=comment_id, user=request.user)
        message = (
            "Comment pinned successfully" if state.is_pinned else "Comment unpinned successfully"
        )
        return ok(CommentPinOutputSerializer(state).data, message)

    @api_doc(
        name="CommentHeartToggle",
        response=CommentHeartOutputSerializer,
        errors=(401, 403, 404, 429),
        parameters=[COMMENT_ID],
        summary="Heart a comment on one's video (top-level or reply), or take the heart back",
        description=f"``PATCH /comments/c/:commentId/heart``. {OWNER_MARKS}",
    )
    @action(detail=True, methods=["patch"], throttle_scope={"PATCH": "toggle"})
    def heart(self, request, comment_id):
        state = services.comment_heart_toggle(comment_id=comment_id, user=request.user)
        message = (
            "Comment hearted successfully" if state.is_hearted else "Heart removed successfully"
        )
        return ok(CommentHeartOutputSerializer(state).data, message)


# --- Likes ------------------------------------------------------------------------------------

TWEET_ID = _uuid_path("tweet_id", "The tweet's id.")


def _like_answer(state):
    message = LIKE_ADDED if state.liked else LIKE_REMOVED
    return ok(like_toggle_data(state), message)


# The caller's likes: toggles of a video, comment or tweet like, and the videos the caller likes.
# Signed-in callers only.
class LikeViewSet(ApiViewSet):
    throttle_scope = {"POST": "toggle"}

    @api_doc(
        name="LikedVideoList",
        response=LikedVideoOutputSerializer,
        paginated=True,
        summary="Videos the caller likes (and can still see), most recently liked first",
    )
    def list(self, request):
        videos = selectors.liked_video_list(viewer=request.user)
        body = paginated_body(request, videos, LikedVideoOutputSerializer)
        return ok(body, "Liked videos fetched successfully")

    @api_doc(
        name="VideoLikeToggle",
        response=LikeToggleOutputSerializer,
        errors=(401, 404, 429),
        parameters=[VIDEO_ID],
        summary="Like or unlike a video",
    )
    @action(detail=True, methods=["post"])
    def toggle_video(self, request, video_id):
        return _like_answer(services.video_like_toggle(video_id=video_id, user=request.user))

    @api_doc(
        name="CommentLikeToggle",
        response=LikeToggleOutputSerializer,
        errors=(401, 404, 429),
        parameters=[COMMENT_ID],
        summary="Like or unlike a comment",
    )
    @action(detail=True, methods=["post"])
    def toggle_comment(self, request, comment_id):
        return _like_answer(services.comment_like_toggle(comment_id=comment_id, user=request.user))

    @api_doc(
        name="TweetLikeToggle",
        response=LikeToggleOutputSerializer,
        errors=(401, 404, 429),
        parameters=[TWEET_ID],
        summary="Like or unlike a tweet",
    )
    @action(detail=True, methods=["post"])
    def toggle_tweet(self, request, tweet_id):
        return _like_answer(services.tweet_like_toggle(tweet_id=tweet_id, user=request.user))


# --- Subscriptions ----------------------------------------------------------------------------

CHANNEL_ID = _uuid_path("channel_id", "The channel's (user's) id.")

SUBSCRIPTIONS_OF_A_CHANNEL = (
    "``POST /subscriptions/c/:channelId`` (toggle) and ``GET`` (the channel's subscribers).\n\n"
    "Any signed-in user may list anyone's subscribers and subscriptions, as in the original."
)


# Subscriptions, from either end: a channel's subscribers (``list``) and the caller's toggle of
# a subscription to it, or the channels a user subscribes to. Signed-in callers only.
class SubscriptionViewSet(ApiViewSet):
    throttle_scope = {"POST": "toggle"}

    @api_doc(
        name="SubscriberList",
        response=SubscriberOutputSerializer,
        paginated=True,
        errors=(401, 404),
        parameters=[CHANNEL_ID],
        summary="Subscribers of a channel, newest first",
        description=SUBSCRIPTIONS_OF_A_CHANNEL,
    )
    def list(self, request, channel_id):
        subscribers = selectors.subscriber_list(channel_id=channel_id)
        body = paginated_body(request, subscribers, SubscriberOutputSerializer)
        return ok(body, "Subscribers fetched successfully")

    @api_doc(
        name="SubscriptionToggle",
        response=SubscriptionToggleOutputSerializer,
        errors=(401, 404, 429),
        parameters=[CHANNEL_ID],
        summary="Subscribe to a channel, or unsubscribe",
        description=SUBSCRIPTIONS_OF_A_CHANNEL,
    )
    @action(detail=True, methods=["post"])
    def toggle(self, request, channel_id):
        state = services.subscription_toggle(subscriber=request.user, channel_id=channel_id)
        message = "Subscribed successfully" if state.subscribed else "Unsubscribed successfully"
        return ok(SubscriptionToggleOutputSerializer(state).data, message)

    @api_doc(
        name="SubscribedChannelList",
        response=SubscribedChannelOutputSerializer,
        paginated=True,
        errors=(401, 404),
        parameters=[_uuid_path("subscriber_id", "The subscribing user's id.")],
        summary="Channels a user subscribes to, newest first",
    )
    @action(detail=True, methods=["get"])
    def subscribed_channels(self, request, subscriber_id):
        channels = selectors.subscribed_channel_list(subscriber_id=subscriber_id)
        body = paginated_body(request, channels, SubscribedChannelOutputSerializer)
        return ok(body, "Subscribed channels fetched successfully")


# --- Tweets -----------------------------------------------------------------------------------


# Tweets: a user's tweets (public), posting one, and its author's edit and deletion.
class TweetViewSet(ApiViewSet):
    permission_classes = [IsAuthenticatedOrReadOnly]
    throttle_scope = {"POST": "comment"}
    input_serializers = {
        "create": TweetCreateInputSerializer,
        "partial_update": TweetUpdateInputSerializer,
    }

    @api_doc(
        name="TweetList",
        response=TweetOutputSerializer,
        paginated=True,
        errors=(404,),
        parameters=[_uuid_path("user_id", "The author's id.")],
        summary="A user's tweets, newest first",
    )
    def list(self, request, user_id):
        tweets = selectors.tweet_list_for_user(user_id=user_id, viewer=request.user)
        body = paginated_body(request, tweets, TweetOutputSerializer)
        return ok(body, "Tweets fetched successfully")

    @api_doc(
        name="TweetCreate",
        response=TweetOutputSerializer,
        request=TweetCreateInputSerializer,
        status=201,
        errors=(401, 422, 429),
        summary="Post a tweet",
    )
    def create(self, request):
        content = self.validated_input()["content"]
        tweet = services.tweet_create(author=request.user, content=content)
        return created(TweetOutputSerializer(tweet).data, "Tweet created successfully!")

    @api_doc(
        name="TweetUpdate",
        response=TweetOutputSerializer,
        request=TweetUpdateInputSerializer,
        errors=(401, 403, 404, 422),
        parameters=[TWEET_ID],
        summary="Edit one's own tweet",
    )
    def partial_update(self, request, tweet_id):
        content = self.validated_input()["content"]
        tweet = services.tweet_update(tweet_id=tweet_id, user=request.user, content=content)
        return ok(TweetOutputSerializer(tweet).data, "Tweet updated successfully")

    @api_doc(
        name="TweetDelete",
        errors=(401, 403, 404),
        parameters=[TWEET_ID],
        summary="Delete one's own tweet",
    )
    def destroy(self, request, tweet_id):
        services.tweet_delete(tweet_id=tweet_id, user=request.user)
        return ok({}, "Tweet deleted successfully")


# --- Channel profile --------------------------------------------------------------------------


# A channel's public profile, by username (public).
class ChannelViewSet(ApiViewSet):
    permission_classes = [AllowAny]

    @api_doc(
        name="ChannelProfile",
        response=ChannelProfileOutputSerializer,
        errors=(404,),
        parameters=[
            OpenApiParameter(
                "username",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="The channel's username (trimmed, matched case-insensitively).",
            )
        ],
        summary="A channel's profile with its subscription counts",
    )
    def retrieve(self, request, username):
        if lean():
            data = social_lean.channel_profile_data(username=username, viewer=request.user)
            return ok(data, "Channel profile fetched")
        channel = selectors.channel_profile_get(username=username, viewer=request.user)
        return ok(ChannelProfileOutputSerializer(channel).data, "Channel profile fetched")


# --- Feed -------------------------------------------------------------------------------------

FEED_DESCRIPTION = (
    "The public videos and the tweets of the channels the caller subscribes to, newest first: "
    "a video at its `publishedAt`, a tweet at its `createdAt`. Walk it with `cursor`: send "
    "each answer's `nextCursor` until it is null. A cursor is the caller's own and opaque; one "
    "that is not a `nextCursor` this server gave the caller is a 400."
)


# The caller's subscription feed. Signed-in callers only.
class FeedViewSet(ApiViewSet):
    @api_doc(
        name="Feed",
        response=FeedItemSerializer,
        paginated=CURSOR,
        parameters=[
            OpenApiParameter(
                "type",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                enum=list(feed.KINDS),
                description="Only videos, or only tweets.",
            )
        ],
        summary="The caller's subscription feed: videos and tweets, newest first",
        description=FEED_DESCRIPTION,
    )
    def list(self, request):
        kind = FeedQuerySerializer.parse_request(request).get("type")
        page = cursor_request(request, feed.FEED_LIST, reader=request.user.pk)
        if lean():
            body = social_lean.feed_body(viewer=request.user, page=page, kind=kind)
            return ok(body, "Feed fetched successfully")
        rows = feed.feed_rows(viewer=request.user, page=page, kind=kind)

        def serialize(shown):
            return FeedItemSerializer(feed.feed_items(shown, viewer=request.user), many=True).data

        body = cursor_body(rows, page, key=feed.feed_position, serialize=serialize)
        return ok(body, "Feed fetched successfully")
