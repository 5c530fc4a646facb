from importlib import import_module

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from viztube import views
from viztube.api.routes import route
from viztube.middleware import API_PREFIX


def _routes_of(*urls_modules):
    """The routes of these apps' urls modules in one flat list, in this order.

    Flat rather than one ``include()`` per app: Django tries the patterns in order, and an
    ``include()`` that does not match raises and catches an exception and copies the list of
    patterns it tried. That cost ~0.13 M instructions per request (5 % of a cached list page)
    before the busiest routes were reached. A route's place here is only about speed: no path
    matches two routes (tests/foundation/test_routes.py resolves a sample path of each route).
    """
    return [pattern for name in urls_modules for pattern in import_module(name).urlpatterns]


api_v1 = [
    # Busiest first: the video list, then the video detail, then the social routes.
    *_routes_of(
        "videos.urls",
        "ops.urls",
        "social.urls",
        "dashboard.urls",
        "playlists.urls",
        "accounts.urls",
        "media.urls",
        "notifications.urls",
    ),
    route("healthcheck", views.HealthcheckView.as_view(), name="healthcheck"),
    # Anything else under the API is a JSON 404, in debug mode too.
    re_path(r"^.*$", views.not_found),
]

urlpatterns = [
    # First: nearly every request is an API request.
    path(API_PREFIX.lstrip("/"), include(api_v1)),
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
]

# Local media (answers 404 when CLOUDINARY_URL is set: Cloudinary delivers media then).
urlpatterns += [path("media/", include("media.serving_urls"))]

handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.not_found
handler500 = views.server_error
