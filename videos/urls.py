from videos import views
from viztube.api.routes import route

urlpatterns = [
    route("videos", views.VideoListView.as_view(), name="video-list"),
    route(
        "videos/toggle/publish/<uuid:video_id>",
        views.VideoTogglePublishView.as_view(),
        name="video-toggle-publish",
    ),
    route("user/watch-history", views.WatchHistoryView.as_view(), name="watch-history"),
    route(
        "user/watch-history/<uuid:video_id>",
        views.WatchHistoryEntryView.as_view(),
        name="watch-history-entry",
    ),
]
