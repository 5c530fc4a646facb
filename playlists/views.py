"""Playlist routes (api.md §3 "Playlists"; messages of original-api.md §2.7).

Reads are public (anonymous callers see published videos only); writes need a token and the
caller must own the playlist. The write endpoints that answer with a playlist re-read it through
the same selector as ``GET``, so the answer shows exactly what a ``GET`` would (its
``totalVideos`` and ``thumbnail`` as the caller sees them). ``DELETE`` answers ``data: {}``,
as the original does.
"""

from rest_framework.permissions import AllowAny, IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.views import APIView

from playlists import selectors, services
from playlists.serializers import (
    PlaylistCreateInputSerializer,
    PlaylistDetailSerializer,
    PlaylistSerializer,
    PlaylistUpdateInputSerializer,
)
from viztube.api.envelope import created, ok
from viztube.api.pagination import PageRequest, page_body
from viztube.api.schema import PAGE_PARAMETERS, api_doc


class PlaylistCreateView(APIView):
    permission_classes = [IsAuthenticated]

    @api_doc(
        name="PlaylistCreate",
        request=PlaylistCreateInputSerializer,
        response=PlaylistSerializer,
        status=201,
        errors=(401, 422),
        summary="Create a playlist",
    )
    def post(self, request):
        params = PlaylistCreateInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        playlist = services.playlist_create(owner=request.user, **params.validated_data)
        summary = selectors.playlist_get_summary(playlist_id=playlist.pk, viewer=request.user)
        return created(PlaylistSerializer(summary).data, "Playlist created successfully")


class UserPlaylistListView(APIView):
    permission_classes = [AllowAny]

    @api_doc(
        name="PlaylistUserList",
        response=PlaylistSerializer,
        paginated=True,
        errors=(404,),
        summary="A user's playlists, newest first",
    )
    def get(self, request, user_id):
        page_request = PageRequest.from_request(request)
        playlists, total = selectors.playlist_list_for_user(
            user_id=user_id, viewer=request.user, page_request=page_request
        )
        docs = PlaylistSerializer(playlists, many=True).data
        return ok(page_body(docs, total, page_request), "User playlists fetched successfully")


class PlaylistDetailView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @api_doc(
        name="PlaylistDetail",
        response=PlaylistDetailSerializer,
        errors=(404,),
        summary="A playlist with one page of its videos (page/limit page the videos)",
        parameters=[*PAGE_PARAMETERS],
    )
    def get(self, request, playlist_id):
        page_request = PageRequest.from_request(request)
        playlist, videos = selectors.playlist_detail_get(
            playlist_id=playlist_id, viewer=request.user, page_request=page_request
        )
        context = {"videos": videos, "page_request": page_request}
        data = PlaylistDetailSerializer(playlist, context=context).data
        return ok(data, "Playlist fetched successfully")

    @api_doc(
        name="PlaylistUpdate",
        request=PlaylistUpdateInputSerializer,
        response=PlaylistSerializer,
        errors=(401, 403, 404, 422),
        summary="Change a playlist's name and/or description (partial)",
    )
    def patch(self, request, playlist_id):
        params = PlaylistUpdateInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        services.playlist_update(
            playlist_id=playlist_id, user=request.user, **params.validated_data
        )
        summary = selectors.playlist_get_summary(playlist_id=playlist_id, viewer=request.user)
        return ok(PlaylistSerializer(summary).data, "Playlist updated successfully")

    @api_doc(
        name="PlaylistDelete",
        errors=(401, 403, 404),
        summary="Delete a playlist (its videos stay)",
    )
    def delete(self, request, playlist_id):
        services.playlist_delete(playlist_id=playlist_id, user=request.user)
        return ok({}, "Playlist deleted successfully")


class PlaylistVideoView(APIView):
    permission_classes = [IsAuthenticated]

    @api_doc(
        name="PlaylistVideoAdd",
        response=PlaylistSerializer,
        errors=(401, 403, 404, 409),
        summary="Add a video to a playlist",
    )
    def post(self, request, playlist_id, video_id):
        services.playlist_video_add(playlist_id=playlist_id, video_id=video_id, user=request.user)
        summary = selectors.playlist_get_summary(playlist_id=playlist_id, viewer=request.user)
        return ok(PlaylistSerializer(summary).data, "Video added to playlist")

    @api_doc(
        name="PlaylistVideoRemove",
        errors=(401, 403, 404),
        summary="Remove a video from a playlist",
    )
    def delete(self, request, playlist_id, video_id):
        services.playlist_video_remove(
            playlist_id=playlist_id, video_id=video_id, user=request.user
        )
        return ok({}, "Video removed from playlist")
