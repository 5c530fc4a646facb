from accounts import views
from viztube.api.routes import route

urlpatterns = [
    route("user/register", views.RegisterView.as_view(), name="user-register"),
    route("user/login", views.LoginView.as_view(), name="user-login"),
    route("user/refresh-token", views.RefreshTokenView.as_view(), name="user-refresh-token"),
    route("user/logout", views.LogoutView.as_view(), name="user-logout"),
    route("user/change-password", views.ChangePasswordView.as_view(), name="user-change-password"),
    route(
        "user/current-user-details", views.CurrentUserView.as_view(), name="user-current-details"
    ),
    route("user/update-account", views.UpdateAccountView.as_view(), name="user-update-account"),
    route("user/update-avatar", views.UpdateAvatarView.as_view(), name="user-update-avatar"),
    route(
        "user/update-cover-image",
        views.UpdateCoverImageView.as_view(),
        name="user-update-cover-image",
    ),
]
