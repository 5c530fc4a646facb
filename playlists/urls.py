from playlists import views
from viztube.api.routes import route

urlpatterns = [
    route("playlist", views.PlaylistCreateView.as_view(), name="playlist-create"),
    route(
        "playlist/user/<uuid:user_id>",
        views.UserPlaylistListView.as_view(),
        name="playlist-user-list",
    ),
    route(
        "playlist/<uuid:playlist_id>", views.PlaylistDetailView.as_view(), name="playlist-detail"
    ),
    route(
        "playlist/<uuid:playlist_id>/<uuid:video_id>",
        views.PlaylistVideoView.as_view(),
        name="playlist-video",
    ),
]
