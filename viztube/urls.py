from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from viztube import views
from viztube.api.routes import route

api_v1 = [
    route("healthcheck", views.HealthcheckView.as_view(), name="healthcheck"),
    path("", include("accounts.urls")),
    path("", include("videos.urls")),
    # Right after the videos app's: the video detail is the busiest route with an id, and every
    # pattern before it is tried first.
    path("", include("ops.urls")),
    path("", include("social.urls")),
    path("", include("playlists.urls")),
    path("", include("dashboard.urls")),
    path("", include("media.urls")),
    # Anything else under the API is a JSON 404, in debug mode too.
    re_path(r"^.*$", views.not_found),
]

urlpatterns = [
    path("", views.landing, name="landing"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path(
        "api/redoc/",
        # The stock page also loads web fonts from Google: ours uses the system's fonts.
        SpectacularRedocView.as_view(url_name="schema", template_name="docs/redoc.html"),
        name="redoc",
    ),
    path("api/v1/", include(api_v1)),
]

# Local media (answers 404 when CLOUDINARY_URL is set: Cloudinary delivers media then).
urlpatterns += [path("media/", include("media.serving_urls"))]

handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.not_found
handler500 = views.server_error
