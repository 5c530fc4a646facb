"""The resumable upload routes (under /api/v1), and local media (``serving_urlpatterns``,
under /media/: no CLOUDINARY_URL; served by the application, with HTTP Range support)."""

from django.urls import re_path

from media.views import UploadSessionViewSet, serve_media
from viztube.api.routes import route

urlpatterns = [
    route("uploads", UploadSessionViewSet.as_view({"post": "create"}), name="upload-list"),
    route(
        "uploads/<uuid:upload_id>",
        UploadSessionViewSet.as_view({"get": "retrieve", "put": "write", "delete": "destroy"}),
        name="upload-detail",
    ),
]

serving_urlpatterns = [re_path(r"^(?P<path>.+)$", serve_media, name="media")]
