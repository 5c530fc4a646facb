"""Local media (no CLOUDINARY_URL): served by the application, with HTTP Range support."""

from django.urls import re_path

from media.views import serve_media

urlpatterns = [re_path(r"^(?P<path>.+)$", serve_media, name="media")]
