"""Routes composed from several apps.

``/videos/:videoId``: its detail shows the caller's like and subscription (``social``) beside the
video (``videos``), and its ``DELETE`` cascades into every app (``ops.deletion``), so the route
is bound here, above the apps it composes; its ``PATCH`` is the videos app's own.
"""

from ops import deletion
from social.selectors import video_viewer_state, video_viewer_state_of
from videos import selectors, services
from videos.serializers import VideoDetailSerializer
from videos.views import VIDEO_ID, VideoViewSet
from viztube.api.client import client_ip
from viztube.api.envelope import ok
from viztube.api.schema import api_doc
from viztube.compiled import lean


class VideoDetailViewSet(VideoViewSet):
    """``GET`` (public), ``PATCH`` and ``DELETE`` ``/videos/:videoId``."""

    @api_doc(
        name="VideoDetail",
        response=VideoDetailSerializer,
        errors=(404,),
        parameters=[VIDEO_ID],
        summary="A video with its counters; counts a view, records watch history",
    )
    def retrieve(self, request, video_id):
        """``GET /videos/:videoId`` (public)."""
        # The project's one notion of the caller's address: REMOTE_ADDR, and X-Forwarded-For
        # only behind declared trusted proxies, so a spoofed header cannot mint new views.
        if lean():
            data = services.video_watch_data(
                video_id=video_id,
                viewer=request.user,
                client_ip=client_ip(request),
                viewer_state=video_viewer_state_of,
            )
            return ok(data, "Video fetched successfully")
        video = services.video_watch(
            video_id=video_id,
            viewer=request.user,
            client_ip=client_ip(request),
            viewer_state=video_viewer_state(request.user),
        )
        return ok(VideoDetailSerializer(video).data, "Video fetched successfully")

    def retrieve_head(self, request, video_id):
        """Link checkers and prefetchers send HEAD: same answer, but no view and no history."""
        if lean():
            data = services.video_watch_data(
                video_id=video_id,
                viewer=request.user,
                client_ip=None,
                viewer_state=video_viewer_state_of,
                record=False,
            )
            return ok(data, "Video fetched successfully")
        video = selectors.video_detail_for_viewer(
            video_id=video_id, viewer=request.user, viewer_state=video_viewer_state(request.user)
        )
        return ok(VideoDetailSerializer(video).data, "Video fetched successfully")

    @api_doc(
        name="VideoDelete",
        response=None,
        errors=(401, 403, 404),
        parameters=[VIDEO_ID],
        summary="Delete a video and its media (owner only)",
    )
    def destroy(self, request, video_id):
        """``DELETE /videos/:videoId``."""
        deletion.video_delete(video_id=video_id, actor=request.user)
        return ok({}, "Video deleted successfully")
