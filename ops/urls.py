from ops.views import VideoDetailViewSet
from viztube.api.routes import route

urlpatterns = [
    route(
        "videos/<uuid:video_id>",
        VideoDetailViewSet.as_view(
            {
                "get": "retrieve",
                "head": "retrieve_head",
                "patch": "partial_update",
                "delete": "destroy",
            }
        ),
        name="video-detail",
    ),
]
