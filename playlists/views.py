"""Playlist routes, one viewset bound route by route in playlists/urls.py.

Reads need no token (anonymous callers see public and unlisted playlists, and the public and
unlisted videos in them; a private playlist is its owner's only, playlists.selectors); writes
need a token and the caller must own the playlist. The write endpoints that answer with a
playlist re-read it through the same selector as ``GET``, so the answer shows exactly what a
``GET`` would (its ``totalVideos`` and ``thumbnail`` as the caller sees them). ``DELETE``
answers ``data: {}``, as the original VizTube API did.
"""

from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated, IsAuthenticatedOrReadOnly

from playlists import selectors, services
from playlists.selectors import PLAYLIST_DETAIL_VIDEOS
from playlists.serializers import (
    PlaylistCreateInputSerializer,
    PlaylistDetailSerializer,
    PlaylistSerializer,
    PlaylistUpdateInputSerializer,
    PlaylistVideoSerializer,
)
from viztube.api.envelope import created, ok
from viztube.api.pagination import PageRequest, page_body
from viztube.api.schema import api_doc
from viztube.api.viewsets import ApiViewSet


# No class docstring: drf-spectacular would show it as the description of every operation
# that has none of its own.
class PlaylistViewSet(ApiViewSet):
    # What each write action reads from the body (the browsable API's forms and OPTIONS show it).
    input_serializers = {
        "create": PlaylistCreateInputSerializer,
        "partial_update": PlaylistUpdateInputSerializer,
    }

    def get_permissions(self):
        # Reads are public and writes need a token, decided per route (``action_map`` holds the
        # route's methods; ``self.action`` is "metadata" for every OPTIONS): a route that only
        # reads is public for any method, one that only writes needs a token for any method
        # (OPTIONS included), and the playlist's own route reads publicly and writes with one.
        methods = set(self.action_map) - {"head"}
        if methods == {"get"}:
            return [AllowAny()]
        if "get" in methods:
            return [IsAuthenticatedOrReadOnly()]
        return [IsAuthenticated()]

    @api_doc(
        name="PlaylistCreate",
        request=PlaylistCreateInputSerializer,
        response=PlaylistSerializer,
        status=201,
        errors=(401, 422),
        summary="Create a playlist",
    )
    def create(self, request):
        playlist = services.playlist_create(owner=request.user, **self.validated_input())
        summary = selectors.playlist_get_summary(playlist_id=playlist.pk, viewer=request.user)
        return created(PlaylistSerializer(summary).data, "Playlist created successfully")

    @api_doc(
        name="PlaylistUserList",
        response=PlaylistSerializer,
        paginated=True,
        errors=(404,),
        summary="A user's playlists, newest first",
        description=(
            "Their public playlists; the owner gets all of theirs (unlisted and private "
            "included). ``totalDocs`` counts the same ones."
        ),
    )
    def list(self, request, user_id):
        page_request = PageRequest.from_request(request)
        playlists, total = selectors.playlist_list_for_user(
            user_id=user_id, viewer=request.user, page_request=page_request
        )
        docs = PlaylistSerializer(playlists, many=True).data
        return ok(page_body(docs, total, page_request), "User playlists fetched successfully")

    @api_doc(
        name="PlaylistDetail",
        response=PlaylistDetailSerializer,
        errors=(404,),
        summary=f"A playlist with its first {PLAYLIST_DETAIL_VIDEOS} videos",
        description=(
            "``videos`` is an array: the first videos the caller can see, in the order they "
            "were added; ``totalVideos`` counts them all. The whole list, paginated, is "
            "``GET /playlist/{playlistId}/videos``."
        ),
    )
    def retrieve(self, request, playlist_id):
        playlist = selectors.playlist_detail_get(playlist_id=playlist_id, viewer=request.user)
        return ok(PlaylistDetailSerializer(playlist).data, "Playlist fetched successfully")

    @api_doc(
        name="PlaylistVideoList",
        response=PlaylistVideoSerializer,
        paginated=True,
        errors=(404,),
        summary="A playlist's videos, oldest addition first",
        description=(
            "The videos of the playlist that the caller can see (anonymous callers: published "
            "ones), as in the playlist's detail, one page at a time."
        ),
    )
    @action(detail=True, methods=["get"])
    def videos(self, request, playlist_id):
        page_request = PageRequest.from_request(request)
        videos, total = selectors.playlist_videos_list(
            playlist_id=playlist_id, viewer=request.user, page_request=page_request
        )
        docs = PlaylistVideoSerializer(videos, many=True).data
        return ok(page_body(docs, total, page_request), "Playlist videos fetched successfully")

    @api_doc(
        name="PlaylistUpdate",
        request=PlaylistUpdateInputSerializer,
        response=PlaylistSerializer,
        errors=(401, 403, 404, 422),
        summary="Change a playlist's name, description and/or visibility (partial)",
    )
    def partial_update(self, request, playlist_id):
        services.playlist_update(
            playlist_id=playlist_id, user=request.user, **self.validated_input()
        )
        summary = selectors.playlist_get_summary(playlist_id=playlist_id, viewer=request.user)
        return ok(PlaylistSerializer(summary).data, "Playlist updated successfully")

    @api_doc(
        name="PlaylistDelete",
        errors=(401, 403, 404),
        summary="Delete a playlist (its videos stay)",
    )
    def destroy(self, request, playlist_id):
        services.playlist_delete(playlist_id=playlist_id, user=request.user)
        return ok({}, "Playlist deleted successfully")

    @api_doc(
        name="PlaylistVideoAdd",
        response=PlaylistSerializer,
        errors=(401, 403, 404, 409),
        summary="Add a video to a playlist",
    )
    @action(detail=True, methods=["post"])
    def add_video(self, request, playlist_id, video_id):
        services.playlist_video_add(playlist_id=playlist_id, video_id=video_id, user=request.user)
        summary = selectors.playlist_get_summary(playlist_id=playlist_id, viewer=request.user)
        return ok(PlaylistSerializer(summary).data, "Video added to playlist")

    @api_doc(
        name="PlaylistVideoRemove",
        errors=(401, 403, 404),
        summary="Remove a video from a playlist",
    )
    @action(detail=True, methods=["delete"])
    def remove_video(self, request, playlist_id, video_id):
        services.playlist_video_remove(
            playlist_id=playlist_id, video_id=video_id, user=request.user
        )
        return ok({}, "Video removed from playlist")
