"""The resumable upload routes and the signing of direct uploads to Cloudinary, under /api/v1
(local media are served by ``serving_urls``)."""

from media.views import CloudinarySignatureViewSet, UploadSessionViewSet
from viztube.api.routes import route

urlpatterns = [
    route(
        "uploads/cloudinary-signature",
        CloudinarySignatureViewSet.as_view({"post": "create"}),
        name="upload-cloudinary-signature",
    ),
    route("uploads", UploadSessionViewSet.as_view({"post": "create"}), name="upload-list"),
    route(
        "uploads/<uuid:upload_id>",
        UploadSessionViewSet.as_view({"get": "retrieve", "put": "write", "delete": "destroy"}),
        name="upload-detail",
    ),
]
