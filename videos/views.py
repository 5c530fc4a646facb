"""Video and watch-history routes.

Each action parses input, calls one service or selector, and serializes the result.
``GET /videos`` is public; everything else here needs a token. ``/videos/:videoId`` is bound by
``ops`` (its detail shows the caller's like and subscription, and its delete cascades into
every app), with ``VideoViewSet.partial_update`` from here.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.decorators import action
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.permissions import AllowAny, IsAuthenticatedOrReadOnly
from rest_framework.views import APIView

from media import cloudinary_direct
from media.serializers import UploadOffsetSerializer
from videos import selectors, services, streaming
from videos.serializers import (
    VideoListQuerySerializer,
    VideoPublishInputSerializer,
    VideoPublishJsonInputSerializer,
    VideoSerializer,
    VideoUpdateInputSerializer,
    VideoUpdateJsonInputSerializer,
    WatchHistoryClearedSerializer,
    WatchHistoryVideoSerializer,
)
from viztube.api import page_cache
from viztube.api.envelope import created, ok, ok_encoded
from viztube.api.pagination import PageRequest, page_body, paginate, paginated_body
from viztube.api.parsers import UnreadBodyParser
from viztube.api.schema import api_doc, error_envelope
from viztube.api.viewsets import ApiViewSet

VIDEO_ID = OpenApiParameter(
    "video_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The video's id."
)
LIST_PARAMETERS = [
    OpenApiParameter(
        "query",
        {"type": "string", "maxLength": selectors.QUERY_MAX_LENGTH},
        OpenApiParameter.QUERY,
        description=(
            "Full-text search over title (weighted higher) and description; the last word "
            f"matches as a prefix. At most {selectors.QUERY_MAX_LENGTH} characters."
        ),
    ),
    OpenApiParameter("userId", OpenApiTypes.UUID, OpenApiParameter.QUERY, description="Owner."),
    OpenApiParameter(
        "sortBy",
        str,
        OpenApiParameter.QUERY,
        enum=list(selectors.SORT_FIELDS),
        description="Sort key; without it, relevance when searching, else createdAt.",
    ),
    OpenApiParameter(
        "sortType",
        # Matched in any case, surrounding blanks ignored (as the selector does); else a 400.
        {"type": "string", "pattern": r"^\s*([Aa][Ss][Cc]|[Dd][Ee][Ss][Cc])\s*$"},
        OpenApiParameter.QUERY,
        description="asc or desc (any case); default desc.",
    ),
]
PUBLISH_BODY = "Publishing a video needs a multipart/form-data body, or a JSON one with an uploadId"
PUBLISH_MEDIA_TYPES = ("multipart/form-data", "application/json")
UPLOAD_INCOMPLETE = OpenApiResponse(
    error_envelope(UploadOffsetSerializer, name="VideoPublishUploadIncomplete"),
    description=(
        "The upload (uploadId) is not complete yet: `data.offset` says where it stands; send "
        "the rest (PUT /uploads/:uploadId) and publish again. With cloudinaryPublicId, a 409 "
        "says that no video has been uploaded under it yet (`data` null)."
    ),
)
CLD_SIGNATURE = OpenApiParameter(
    "X-Cld-Signature",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="Cloudinary's signature of the body and the timestamp.",
)
CLD_TIMESTAMP = OpenApiParameter(
    "X-Cld-Timestamp",
    {"type": "string", "pattern": "^[0-9]{1,12}$"},
    OpenApiParameter.HEADER,
    required=True,
    description="Unix time the notification was signed; over two hours old is refused (401).",
)


class VideoViewSet(ApiViewSet):
    """``GET /videos`` (public), ``POST /videos`` (publish), ``PATCH /videos/:videoId``,
    ``PATCH /videos/toggle/publish/:videoId`` and ``POST /videos/:videoId/reprocess`` (owner
    only)."""

    permission_classes = [IsAuthenticatedOrReadOnly]
    # Publishing stores media: its own (fail-closed) rate limit.
    throttle_scope = {"POST": "upload"}
    input_serializers = {
        "create": VideoPublishInputSerializer,
        "partial_update": VideoUpdateInputSerializer,
    }

    @api_doc(
        name="VideoList",
        response=VideoSerializer,
        paginated=True,
        errors=(400,),
        parameters=LIST_PARAMETERS,
        summary="List public videos, with search, sorting and an owner filter",
    )
    def list(self, request):
        """``GET /videos`` (public)."""
        page_request = PageRequest.from_request(request)

        def build():
            filters = VideoListQuerySerializer(request).filters()
            videos = selectors.video_list_published(filters=filters)
            total = selectors.video_list_total(filters=filters, queryset=videos)
            rows, total = paginate(videos, page_request, count=total)
            return page_body(VideoSerializer(rows, many=True).data, total, page_request)

        # Keyed by the parameters as sent, so that a cached page is answered without parsing
        # them (a serializer costs a fifth of a cached page). Only a page that was built, and
        # so parsed without error, is ever cached.
        parts = (
            *VideoListQuerySerializer.raw_key_parts(request),
            str(page_request.page),
            str(page_request.limit),
        )
        body = page_cache.page_json(parts, build)
        return ok_encoded(request, body, "Videos fetched successfully")

    @api_doc(
        name="VideoPublish",
        response=VideoSerializer,
        request={
            "multipart/form-data": VideoPublishInputSerializer,
            "application/json": VideoPublishJsonInputSerializer,
        },
        status=201,
        errors=(401, 404, 413, 415, 422, 502),
        more_responses={409: UPLOAD_INCOMPLETE},
        summary=(
            "Publish a video: multipart with videoFile (ready at once), or uploadId in JSON or "
            "multipart (processing, then ready or failed), or, with Cloudinary, "
            "cloudinaryPublicId in JSON or multipart (processing until its HLS rendition is "
            "made); thumbnail optional"
        ),
    )
    def create(self, request):
        """``POST /videos`` (publish)."""
        # Files only travel in multipart, an uploadId or a public id in either; any other body
        # is refused before it is parsed.
        if not request.content_type.startswith(PUBLISH_MEDIA_TYPES):
            raise UnsupportedMediaType(request.content_type, detail=PUBLISH_BODY)
        data = self.validated_input()
        fields = {
            "owner": request.user,
            "title": data["title"],
            "description": data["description"],
            "thumbnail": data.get("thumbnail"),
            "publishing": {key: data[key] for key in ("visibility", "publish_at") if key in data},
        }
        if "upload_id" in data:
            video = services.video_publish_from_upload(
                upload_id=data["upload_id"],
                notification_url=cloudinary_direct.notification_url(request),
                **fields,
            )
        elif "public_id" in data:
            video = services.video_publish_from_cloudinary(
                public_id=data["public_id"],
                notification_url=cloudinary_direct.notification_url(request),
                **fields,
            )
        else:
            video = services.video_publish(
                video_file=data["videoFile"],
                notification_url=cloudinary_direct.notification_url(request),
                **fields,
            )
        return created(VideoSerializer(video).data, "Video published successfully")

    @api_doc(
        name="VideoUpdate",
        response=VideoSerializer,
        request={
            "application/json": VideoUpdateJsonInputSerializer,
            "multipart/form-data": VideoUpdateInputSerializer,
        },
        errors=(401, 403, 404, 413, 422, 502),
        parameters=[VIDEO_ID],
        summary="Update title, description, thumbnail, visibility or schedule (owner only)",
    )
    def partial_update(self, request, video_id):
        """``PATCH /videos/:videoId``."""
        video = services.video_update(
            video_id=video_id, actor=request.user, fields=self.validated_input()
        )
        return ok(VideoSerializer(video).data, "Video updated successfully")

    @api_doc(
        name="VideoTogglePublish",
        response=VideoSerializer,
        errors=(401, 403, 404),
        parameters=[VIDEO_ID],
        summary="Make a private video public, or a public or unlisted one private (owner only)",
    )
    @action(detail=True, methods=["patch"])
    def toggle_publish(self, request, video_id):
        """``PATCH /videos/toggle/publish/:videoId``."""
        video = services.video_toggle_publish(video_id=video_id, actor=request.user)
        return ok(VideoSerializer(video).data, "Video publish status toggled")

    @api_doc(
        name="VideoReprocess",
        response=VideoSerializer,
        status=202,
        errors=(401, 403, 404, 409),
        parameters=[VIDEO_ID],
        summary="Run a failed video's processing again (owner only; failed videos only)",
    )
    @action(detail=True, methods=["post"])
    def reprocess(self, request, video_id):
        """``POST /videos/:videoId/reprocess``: 202, the video processing again."""
        video = services.video_reprocess(
            video_id=video_id,
            actor=request.user,
            notification_url=cloudinary_direct.notification_url(request),
        )
        return ok(VideoSerializer(video).data, "Video processing again", status=202)


class WatchHistoryViewSet(ApiViewSet):
    """The caller's own watch history: ``GET`` and ``DELETE /user/watch-history``,
    ``DELETE /user/watch-history/:videoId``."""

    @api_doc(
        name="VideoWatchHistory",
        response=WatchHistoryVideoSerializer,
        paginated=True,
        errors=(400, 401),
        summary="The caller's watch history, most recent first (visible videos only)",
    )
    def list(self, request):
        """``GET /user/watch-history`` (the caller's own)."""
        history = selectors.watch_history_for_user(user=request.user)
        body = paginated_body(request, history, WatchHistoryVideoSerializer)
        return ok(body, "Watch history fetched")

    @api_doc(
        name="VideoWatchHistoryClear",
        response=WatchHistoryClearedSerializer,
        errors=(401,),
        summary="Clear the caller's whole watch history",
    )
    @action(detail=False, methods=["delete"])
    def clear(self, request):
        """``DELETE /user/watch-history`` (the caller's own)."""
        deleted = services.watch_history_clear(user=request.user)
        return ok({"deleted": deleted}, "Watch history cleared")

    @api_doc(
        name="VideoWatchHistoryRemove",
        response=None,
        errors=(401, 404),
        parameters=[VIDEO_ID],
        summary="Remove one video from the caller's watch history",
    )
    def destroy(self, request, video_id):
        """``DELETE /user/watch-history/:videoId``."""
        services.watch_history_remove(user=request.user, video_id=video_id)
        return ok({}, "Video removed from watch history")


class CloudinaryWebhookView(APIView):
    """``POST /webhooks/cloudinary``: Cloudinary's notifications. Cloudinary proves who it is
    by the signature of the body; no token, no cookie and so no cross-site check (DRF's views
    are CSRF-exempt), and no rate limit: a refusal costs one hash, and a notification that is
    refused is retried by Cloudinary only a few times."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    # The signature covers the body as it came: nothing may parse (or consume) it first.
    parser_classes = [UnreadBodyParser]

    @api_doc(
        name="CloudinaryNotification",
        response=None,
        request={"application/json": OpenApiTypes.OBJECT},
        errors=(400, 401, 404, 413),
        parameters=[CLD_SIGNATURE, CLD_TIMESTAMP],
        summary="Cloudinary's notifications (signed by Cloudinary; with Cloudinary storage only)",
    )
    def post(self, request):
        """``POST /webhooks/cloudinary``."""
        video = streaming.video_apply_cloudinary_notification(
            body=request.body,
            timestamp=request.headers.get("X-Cld-Timestamp"),
            signature=request.headers.get("X-Cld-Signature"),
        )
        return ok({}, "Notification applied" if video is not None else "Notification received")
