"""The creator dashboard: read-only numbers about the caller's own channel (token required).

One viewset, bound route by route in dashboard/urls.py; it has no class docstring because
drf-spectacular would show it as the description of both operations."""

from rest_framework.decorators import action

from dashboard.selectors import channel_stats, channel_videos
from dashboard.serializers import ChannelStatsSerializer, ChannelVideoSerializer
from viztube.api.envelope import ok
from viztube.api.pagination import paginated_body
from viztube.api.schema import api_doc
from viztube.api.viewsets import ApiViewSet


class DashboardViewSet(ApiViewSet):
    @api_doc(
        name="DashboardStats",
        response=ChannelStatsSerializer,
        summary="Totals of the caller's channel",
    )
    @action(detail=False, methods=["get"])
    def stats(self, request):
        # The serializer describes the answer (OpenAPI); channel_stats builds it already.
        return ok(channel_stats(user=request.user), "Channel stats fetched successfully")

    @api_doc(
        name="DashboardVideoList",
        response=ChannelVideoSerializer,
        paginated=True,
        summary="The caller's videos, newest first, unpublished included",
    )
    @action(detail=False, methods=["get"])
    def videos(self, request):
        body = paginated_body(request, channel_videos(user=request.user), ChannelVideoSerializer)
        return ok(body, "Videos fetched")
