"""Routes composed from several apps.

``/videos/:videoId`` reads the caller's like and subscription (``social``) into the detail
(``videos``), and its ``DELETE`` cascades into every app (``ops.deletion``), so it is bound here,
above the apps it composes.
"""

from rest_framework.permissions import IsAuthenticatedOrReadOnly
from rest_framework.views import APIView

from ops import deletion
from social import selectors as social_selectors
from videos import selectors, services
from videos.serializers import (
    VideoDetailSerializer,
    VideoSerializer,
    VideoUpdateInputSerializer,
    VideoUpdateJsonInputSerializer,
)
from videos.views import VIDEO_ID
from viztube.api.client import client_ip
from viztube.api.envelope import ok
from viztube.api.schema import api_doc


class VideoDetailView(APIView):
    """``GET`` (public), ``PATCH`` and ``DELETE`` ``/videos/:videoId``."""

    permission_classes = [IsAuthenticatedOrReadOnly]

    @api_doc(
        name="VideoDetail",
        response=VideoDetailSerializer,
        errors=(404,),
        parameters=[VIDEO_ID],
        summary="A video with its counters; counts a view, records watch history",
    )
    def get(self, request, video_id):
        # The project's one notion of the caller's address: REMOTE_ADDR, and X-Forwarded-For
        # only behind declared trusted proxies, so a spoofed header cannot mint new views.
        video = services.video_watch(
            video_id=video_id,
            viewer=request.user,
            client_ip=client_ip(request),
            viewer_state=social_selectors.video_viewer_state(request.user),
        )
        return ok(VideoDetailSerializer(video).data, "Video fetched successfully")

    def head(self, request, video_id):
        """Link checkers and prefetchers send HEAD: same answer, but no view and no history."""
        video = selectors.video_detail_for_viewer(
            video_id=video_id,
            viewer=request.user,
            viewer_state=social_selectors.video_viewer_state(request.user),
        )
        return ok(VideoDetailSerializer(video).data, "Video fetched successfully")

    @api_doc(
        name="VideoUpdate",
        response=VideoSerializer,
        request={
            "application/json": VideoUpdateJsonInputSerializer,
            "multipart/form-data": VideoUpdateInputSerializer,
        },
        errors=(401, 403, 404, 413, 422, 502),
        parameters=[VIDEO_ID],
        summary="Update title, description and/or thumbnail (owner only)",
    )
    def patch(self, request, video_id):
        data = VideoUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        video = services.video_update(
            video_id=video_id, actor=request.user, fields=data.validated_data
        )
        return ok(VideoSerializer(video).data, "Video updated successfully")

    @api_doc(
        name="VideoDelete",
        response=None,
        errors=(401, 403, 404),
        parameters=[VIDEO_ID],
        summary="Delete a video and its media (owner only)",
    )
    def delete(self, request, video_id):
        deletion.video_delete(video_id=video_id, actor=request.user)
        return ok({}, "Video deleted successfully")
