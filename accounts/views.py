"""The accounts API under ``/api/v1/user``.

Each view parses input with an input serializer, calls one service, and answers through the
envelope with an output serializer.

The caller's own account is one resource, ``UserViewSet`` (current-user-details, update-account,
update-avatar, update-cover-image, change-password). Register, login, refresh-token and logout
stay plain ``APIView``s: each is a one-off route about a sign-in (not about the account
resource) whose policy is its own. Register, login and refresh take credentials instead of an
access token (``CredentialsEndpointAuthentication``, so a stale ``accessToken`` cookie never
blocks them) and each has its own throttle scope and parsers; logout takes a token but acts on a
refresh token. In one viewset they would need per-action authentication as well as per-action
throttles and parsers, for no shared code.
"""

from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from accounts.authentication import (
    REFRESH_COOKIE,
    CredentialsEndpointAuthentication,
    enforce_trusted_origin,
)
from accounts.serializers import (
    AccountFieldsSerializer,
    AvatarInputSerializer,
    ChangePasswordInputSerializer,
    CoverImageInputSerializer,
    LoginInputSerializer,
    LoginOutputSerializer,
    RefreshTokenInputSerializer,
    RegisterInputSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from accounts.services import (
    user_change_password,
    user_login,
    user_logout,
    user_register,
    user_update_account,
    user_update_avatar,
    user_update_cover_image,
)
from accounts.tokens import (
    REFRESH_TOKEN_REQUIRED,
    auth_cookies_clear,
    auth_cookies_set,
    refresh_token_rotate,
)
from viztube.api.envelope import created, ok
from viztube.api.parsers import JSONObjectParser, MultiPartFormParser
from viztube.api.schema import api_doc
from viztube.api.viewsets import ApiViewSet


class CredentialsAPIView(APIView):
    """Public endpoints that take credentials (no access token needed or looked at)."""

    authentication_classes = [CredentialsEndpointAuthentication]
    permission_classes = [AllowAny]


class RegisterView(CredentialsAPIView):
    """``POST /user/register``: multipart; every check runs before any file is stored."""

    # Security limits: exact per-IP counters, failing closed when the cache is down.
    throttle_scope = "register"
    parser_classes = [MultiPartFormParser]

    @api_doc(
        name="UserRegister",
        response=UserSerializer,
        request=RegisterInputSerializer,
        status=201,
        errors=(409, 413, 415, 422, 502),
        auth=[],
        summary="Create an account (multipart; avatar required). Does not log in.",
    )
    def post(self, request):
        serializer = RegisterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = user_register(
            username=data["username"],
            email=data["email"],
            fullname=data["fullname"],
            password=data["password"],
            avatar=data["avatar"],
            cover_image=data.get("coverImage"),
        )
        return created(UserSerializer(user).data, "User registered successfully!")


class LoginView(CredentialsAPIView):
    """``POST /user/login``: email or username (any case) and password; tokens in cookies
    and in ``data``."""

    throttle_scope = "login"
    parser_classes = [JSONObjectParser, FormParser]

    @api_doc(
        name="UserLogin",
        response=LoginOutputSerializer,
        request=LoginInputSerializer,
        errors=(401, 403, 415, 422),
        auth=[],
        summary="Log in with email or username; sets the token cookies and returns the tokens.",
    )
    def post(self, request):
        # Login CSRF: a foreign page must not sign the browser into someone else's account.
        enforce_trusted_origin(request, required=False)
        serializer = LoginInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, pair = user_login(request=request, **serializer.validated_data)
        body = LoginOutputSerializer({"user": user, **pair.as_data()}).data
        return auth_cookies_set(ok(body, "User logged in successfully"), pair)


class RefreshTokenView(CredentialsAPIView):
    """``POST /user/refresh-token``: the refresh token from the cookie, else the body, is
    spent exactly once for a new pair.

    When both are present the cookie wins, as in the original. A cookie refresh with an
    untrusted ``Origin`` (or ``Referer``) is refused; one with neither header is allowed, like
    login (the check is for requests that carry an untrusted Origin), because the cookie is
    ``SameSite`` and the answer is unreadable to a foreign page anyway.
    """

    parser_classes = [JSONObjectParser, FormParser]

    @api_doc(
        name="UserTokenRefresh",
        response=TokenPairSerializer,
        request=RefreshTokenInputSerializer,
        errors=(401, 403, 415, 422),
        auth=[],
        summary="Exchange a refresh token (cookie, else body) for a new pair; the old one dies.",
    )
    def post(self, request):
        raw_token = request.COOKIES.get(REFRESH_COOKIE)
        if raw_token:
            # The cookie is ambient: a foreign page may not spend it.
            enforce_trusted_origin(request, required=False)
        else:
            serializer = RefreshTokenInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            raw_token = serializer.validated_data.get("refreshToken")
        if not raw_token:
            raise exceptions.AuthenticationFailed(REFRESH_TOKEN_REQUIRED)
        _, pair = refresh_token_rotate(raw_token=raw_token)
        body = TokenPairSerializer(pair.as_data()).data
        return auth_cookies_set(ok(body, "Access token refreshed"), pair)


class LogoutView(APIView):
    """``POST /user/logout``: revokes the presented refresh token and clears the cookies.

    It needs a valid access token (as the original): a client whose access token expired
    refreshes first. A refresh token of someone else is left alone.
    """

    parser_classes = [JSONObjectParser, FormParser]

    @api_doc(
        name="UserLogout",
        response=None,
        request=RefreshTokenInputSerializer,
        errors=(401, 403, 415, 422),
        summary="Revoke the presented refresh token (cookie, else body) and clear the cookies.",
    )
    def post(self, request):
        raw_token = request.COOKIES.get(REFRESH_COOKIE)
        if not raw_token:
            serializer = RefreshTokenInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            raw_token = serializer.validated_data.get("refreshToken")
        user_logout(user=request.user, raw_refresh_token=raw_token)
        return auth_cookies_clear(ok({}, "User logged out successfully"))


class UserViewSet(ApiViewSet):
    """The caller's own account."""

    # By default an action reads JSON or a form and counts in the caller's general rate limit;
    # an @action may say otherwise (the image uploads, change-password).
    parser_classes = [JSONObjectParser, FormParser]
    throttle_scope = None
    # What each write action reads from the body (the browsable API's forms and OPTIONS show it).
    input_serializers = {
        "partial_update": AccountFieldsSerializer,
        "avatar": AvatarInputSerializer,
        "cover_image": CoverImageInputSerializer,
        "change_password": ChangePasswordInputSerializer,
    }

    @api_doc(name="UserCurrent", response=UserSerializer, summary="The caller's account.")
    def retrieve(self, request):
        """``GET /user/current-user-details``."""
        # The authentication class already loaded the user: no further query.
        return ok(UserSerializer(request.user).data, "Current user details")

    @api_doc(
        name="UserAccountUpdate",
        response=UserSerializer,
        request=AccountFieldsSerializer,
        errors=(401, 403, 409, 415, 422),
        summary="Partial update of fullname, email, username (other fields are ignored).",
    )
    def partial_update(self, request):
        """``PATCH /user/update-account``: partial; unknown fields are ignored."""
        user = user_update_account(user=request.user, **self.validated_input(partial=True))
        return ok(UserSerializer(user).data, "Account updated successfully")

    @api_doc(
        name="UserAvatarUpdate",
        response=UserSerializer,
        request=AvatarInputSerializer,
        errors=(401, 403, 413, 415, 422, 502),
        summary="Replace the avatar; the old file is deleted once the change committed.",
    )
    @action(
        detail=False,
        methods=["patch"],
        parser_classes=[MultiPartFormParser],
        throttle_scope="upload",
    )
    def avatar(self, request):
        """``PATCH /user/update-avatar``: multipart ``avatar``."""
        user = user_update_avatar(user=request.user, avatar=self.validated_input()["avatar"])
        return ok(UserSerializer(user).data, "Avatar updated")

    @api_doc(
        name="UserCoverImageUpdate",
        response=UserSerializer,
        request=CoverImageInputSerializer,
        errors=(401, 403, 413, 415, 422, 502),
        summary="Replace the cover image; the old file is deleted once the change committed.",
    )
    @action(
        detail=False,
        methods=["patch"],
        parser_classes=[MultiPartFormParser],
        throttle_scope="upload",
    )
    def cover_image(self, request):
        """``PATCH /user/update-cover-image``: multipart ``coverImage``."""
        user = user_update_cover_image(
            user=request.user, cover_image=self.validated_input()["coverImage"]
        )
        return ok(UserSerializer(user).data, "Cover updated")

    @api_doc(
        name="UserPasswordChange",
        response=TokenPairSerializer,
        request=ChangePasswordInputSerializer,
        errors=(400, 401, 403, 415, 422),
        summary="Change the password; every earlier token stops working; returns fresh tokens.",
    )
    # The old-password check is a password oracle: limited like login.
    @action(detail=False, methods=["post"], throttle_scope="login")
    def change_password(self, request):
        """``POST /user/change-password``: earlier tokens stop working; fresh ones come back."""
        data = self.validated_input(context={"user": request.user})
        pair = user_change_password(
            user=request.user,
            old_password=data["oldPassword"],
            new_password=data["newPassword"],
        )
        body = TokenPairSerializer(pair.as_data()).data
        return auth_cookies_set(ok(body, "Password changed successfully"), pair)
