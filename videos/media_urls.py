"""Local media (no CLOUDINARY_URL): served by the application, with HTTP Range support."""

urlpatterns = []
