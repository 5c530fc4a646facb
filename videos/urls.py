from videos.views import CloudinaryWebhookView, VideoViewSet, WatchHistoryViewSet
from viztube.api.routes import route

urlpatterns = [
    route(
        "videos",
        VideoViewSet.as_view({"get": "list", "post": "create"}),
        name="video-list",
    ),
    route(
        "videos/toggle/publish/<uuid:video_id>",
        VideoViewSet.as_view({"patch": "toggle_publish"}),
        name="video-toggle-publish",
    ),
    route(
        "videos/<uuid:video_id>/reprocess",
        VideoViewSet.as_view({"post": "reprocess"}),
        name="video-reprocess",
    ),
    route(
        "user/watch-history",
        WatchHistoryViewSet.as_view({"get": "list", "delete": "clear"}),
        name="watch-history",
    ),
    route(
        "user/watch-history/<uuid:video_id>",
        WatchHistoryViewSet.as_view({"delete": "destroy"}),
        name="watch-history-entry",
    ),
    route("webhooks/cloudinary", CloudinaryWebhookView.as_view(), name="cloudinary-webhook"),
]
