"""JWT authentication from the ``Authorization`` header, else from the ``accessToken`` cookie.

A cookie is ambient (the browser attaches it to cross-site requests), so an unsafe request
authenticated by it must come from a trusted origin (api.md §2). A Bearer header is not ambient
and needs no such check.
"""

import uuid
from urllib.parse import urlsplit

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.user_cache import user_for_token
from viztube.api.throttling import counter_for, remember_count

ACCESS_COOKIE = "accessToken"
REFRESH_COOKIE = "refreshToken"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
INVALID_ACCESS_TOKEN = "Invalid or expired access token"  # noqa: S105 (a message)


def _origin_of(url):
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def request_origin(request):
    """The origin a browser says the request comes from: ``Origin``, else the ``Referer``'s."""
    origin = request.META.get("HTTP_ORIGIN")
    if origin:
        return origin.lower() if origin != "null" else "null"
    referer = request.META.get("HTTP_REFERER")
    return _origin_of(referer) if referer else None


def is_trusted_origin(request, origin):
    trusted = {o.lower().rstrip("/") for o in settings.CSRF_TRUSTED_ORIGINS}
    if origin in trusted:
        return True
    # The server's own pages (browsable API, docs) are same-origin.
    own = f"{request.scheme}://{request.get_host()}".lower()
    return origin == own


def enforce_trusted_origin(request, *, required):
    """Refuse a cross-site request: 403 when the origin is untrusted, or absent and ``required``."""
    origin = request_origin(request)
    if origin is None:
        if required:
            raise exceptions.PermissionDenied("Cross-site request refused: no Origin or Referer")
        return
    if not is_trusted_origin(request, origin):
        raise exceptions.PermissionDenied("Cross-site request refused: untrusted Origin")


class JWTCookieOrHeaderAuthentication(JWTAuthentication):
    def authenticate(self, request):
        header = self.get_header(request)
        if header is not None:
            raw_token = self.get_raw_token(header)
            if raw_token is not None:
                return self._authenticate_token(raw_token, request)
            # Another scheme (e.g. Basic added by a staging proxy) is not ours: fall back to
            # the cookie instead of treating a signed-in browser as anonymous.

        raw_token = request.COOKIES.get(ACCESS_COOKIE)
        if not raw_token:
            return None
        user, token = self._authenticate_token(raw_token.encode(), request)
        if request.method not in SAFE_METHODS:
            enforce_trusted_origin(request, required=True)
        return user, token

    def _authenticate_token(self, raw_token, request):
        try:
            validated = self.get_validated_token(raw_token)
            return self._user_for(validated, request), validated
        except (InvalidToken, AuthenticationFailed, TokenError) as exc:
            raise exceptions.AuthenticationFailed(INVALID_ACCESS_TOKEN) from exc

    def _user_for(self, validated_token, request):
        """simplejwt's checks (user exists, is active, password unchanged since the token was
        issued) against the cached row of accounts.user_cache instead of a query each time;
        the rate-limit counter of the request rides on the same Redis round trip."""
        user_id = validated_token.get(api_settings.USER_ID_CLAIM)
        if user_id is None:
            raise InvalidToken("Token contained no recognizable user identification")
        try:
            user_id = uuid.UUID(str(user_id))
        except ValueError:
            raise InvalidToken("Token contained no recognizable user identification") from None
        counter = counter_for(request, user_id)
        user, count = user_for_token(user_id, counter=counter)
        if count is not None:
            remember_count(request, counter, count)
        if user is None:
            raise AuthenticationFailed("User not found", code="user_not_found")
        if not user.is_active:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        revoke_claim = validated_token.get(api_settings.REVOKE_TOKEN_CLAIM)
        if revoke_claim != get_md5_hash_password(user.password):
            raise AuthenticationFailed("The user's password has been changed.")
        return user


class CredentialsEndpointAuthentication(BaseAuthentication):
    """For the endpoints that take credentials instead of an access token (register, login,
    refresh-token): a stale or foreign ``accessToken`` cookie must not block them, so nothing is
    authenticated here. It still names the scheme, so that DRF answers their failures with 401
    (DRF turns 401 into 403 when a view has no authenticator with a ``WWW-Authenticate`` value).
    """

    def authenticate(self, request):
        return None

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
