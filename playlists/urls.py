from playlists.views import PlaylistViewSet
from viztube.api.routes import route

urlpatterns = [
    route("playlist", PlaylistViewSet.as_view({"post": "create"}), name="playlist-create"),
    route(
        "playlist/user/<uuid:user_id>",
        PlaylistViewSet.as_view({"get": "list"}),
        name="playlist-user-list",
    ),
    route(
        "playlist/<uuid:playlist_id>",
        PlaylistViewSet.as_view(
            {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
        ),
        name="playlist-detail",
    ),
    route(
        "playlist/<uuid:playlist_id>/videos",
        PlaylistViewSet.as_view({"get": "videos"}),
        name="playlist-videos",
    ),
    route(
        "playlist/<uuid:playlist_id>/<uuid:video_id>",
        PlaylistViewSet.as_view({"post": "add_video", "delete": "remove_video"}),
        name="playlist-video",
    ),
]
