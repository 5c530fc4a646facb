from social import views
from viztube.api.routes import route

comments = views.CommentViewSet
likes = views.LikeViewSet
subscriptions = views.SubscriptionViewSet
tweets = views.TweetViewSet
channels = views.ChannelViewSet
feed = views.FeedViewSet

urlpatterns = [
    route(
        "comments/c/<uuid:comment_id>",
        comments.as_view({"patch": "partial_update", "delete": "destroy"}),
        name="comment-detail",
    ),
    route(
        "comments/c/<uuid:comment_id>/replies",
        comments.as_view({"get": "replies"}),
        name="comment-replies",
    ),
    route(
        "comments/c/<uuid:comment_id>/pin", comments.as_view({"patch": "pin"}), name="comment-pin"
    ),
    route(
        "comments/c/<uuid:comment_id>/heart",
        comments.as_view({"patch": "heart"}),
        name="comment-heart",
    ),
    route(
        "comments/<uuid:video_id>",
        comments.as_view({"get": "list", "post": "create"}),
        name="comment-list",
    ),
    route(
        "likes/toggle/v/<uuid:video_id>",
        likes.as_view({"post": "toggle_video"}),
        name="like-toggle-video",
    ),
    route(
        "likes/toggle/c/<uuid:comment_id>",
        likes.as_view({"post": "toggle_comment"}),
        name="like-toggle-comment",
    ),
    route(
        "likes/toggle/t/<uuid:tweet_id>",
        likes.as_view({"post": "toggle_tweet"}),
        name="like-toggle-tweet",
    ),
    route("likes/videos", likes.as_view({"get": "list"}), name="liked-videos"),
    route(
        "subscriptions/c/<uuid:channel_id>",
        subscriptions.as_view({"get": "list", "post": "toggle"}),
        name="channel-subscriptions",
    ),
    route(
        "subscriptions/u/<uuid:subscriber_id>",
        subscriptions.as_view({"get": "subscribed_channels"}),
        name="subscribed-channels",
    ),
    route("tweets", tweets.as_view({"post": "create"}), name="tweet-create"),
    route("tweets/user/<uuid:user_id>", tweets.as_view({"get": "list"}), name="user-tweets"),
    route(
        "tweets/<uuid:tweet_id>",
        tweets.as_view({"patch": "partial_update", "delete": "destroy"}),
        name="tweet-detail",
    ),
    route("user/c/<str:username>", channels.as_view({"get": "retrieve"}), name="channel-profile"),
    route("feed", feed.as_view({"get": "list"}), name="feed"),
]
