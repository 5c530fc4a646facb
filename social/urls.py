from social import views
from viztube.api.routes import route

urlpatterns = [
    route("comments/c/<uuid:comment_id>", views.CommentDetailView.as_view(), name="comment-detail"),
    route("comments/<uuid:video_id>", views.CommentListCreateView.as_view(), name="comment-list"),
    route(
        "likes/toggle/v/<uuid:video_id>",
        views.VideoLikeToggleView.as_view(),
        name="like-toggle-video",
    ),
    route(
        "likes/toggle/c/<uuid:comment_id>",
        views.CommentLikeToggleView.as_view(),
        name="like-toggle-comment",
    ),
    route(
        "likes/toggle/t/<uuid:tweet_id>",
        views.TweetLikeToggleView.as_view(),
        name="like-toggle-tweet",
    ),
    route("likes/videos", views.LikedVideoListView.as_view(), name="liked-videos"),
    route(
        "subscriptions/c/<uuid:channel_id>",
        views.ChannelSubscriptionView.as_view(),
        name="channel-subscriptions",
    ),
    route(
        "subscriptions/u/<uuid:subscriber_id>",
        views.SubscribedChannelListView.as_view(),
        name="subscribed-channels",
    ),
    route("tweets", views.TweetCreateView.as_view(), name="tweet-create"),
    route("tweets/user/<uuid:user_id>", views.UserTweetListView.as_view(), name="user-tweets"),
    route("tweets/<uuid:tweet_id>", views.TweetDetailView.as_view(), name="tweet-detail"),
    route("user/c/<str:username>", views.ChannelProfileView.as_view(), name="channel-profile"),
]
