from accounts.views import LoginView, LogoutView, RefreshTokenView, RegisterView, UserViewSet
from viztube.api.routes import route

urlpatterns = [
    route("user/register", RegisterView.as_view(), name="user-register"),
    route("user/login", LoginView.as_view(), name="user-login"),
    route("user/refresh-token", RefreshTokenView.as_view(), name="user-refresh-token"),
    route("user/logout", LogoutView.as_view(), name="user-logout"),
    route(
        "user/change-password",
        UserViewSet.as_view({"post": "change_password"}),
        name="user-change-password",
    ),
    route(
        "user/current-user-details",
        UserViewSet.as_view({"get": "retrieve"}),
        name="user-current-details",
    ),
    route(
        "user/update-account",
        UserViewSet.as_view({"patch": "partial_update"}),
        name="user-update-account",
    ),
    route(
        "user/update-avatar", UserViewSet.as_view({"patch": "avatar"}), name="user-update-avatar"
    ),
    route(
        "user/update-cover-image",
        UserViewSet.as_view({"patch": "cover_image"}),
        name="user-update-cover-image",
    ),
]
