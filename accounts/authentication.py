"""JWT authentication from the ``Authorization`` header, else from the ``accessToken`` cookie.

A cookie is ambient (the browser attaches it to cross-site requests), so an unsafe request
authenticated by it must come from a trusted origin. A Bearer header is not ambient
and needs no such check.
"""

import contextlib
import functools
import uuid

from django.contrib.auth import get_user_model
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import aware_utcnow, get_md5_hash_password

from accounts.user_cache import user_for_token
from viztube import origins
from viztube.api.throttling import count_commands, counter_for, remember_count, uncount

ACCESS_COOKIE = "accessToken"
REFRESH_COOKIE = "refreshToken"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
INVALID_ACCESS_TOKEN = "Invalid or expired access token"  # noqa: S105 (a message)
# Verified access tokens each worker process remembers (see _verified_token).
VERIFIED_TOKENS_KEPT = 1024


def request_origin(request):
    """The origin a browser says the request comes from: ``Origin``, else the ``Referer``'s."""
    origin = request.META.get("HTTP_ORIGIN")
    if origin:
        return origins.normalized(origin)
    referer = request.META.get("HTTP_REFERER")
    return origins.origin_of(referer) if referer else None


def is_trusted_origin(request, origin):
    # The rule is viztube.origins' (WebSocket handshakes follow it too).
    return origins.is_trusted(origin, own_origin=f"{request.scheme}://{request.get_host()}".lower())


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
                return self._authenticate_token(raw_token, request, cookie=False)
            # Another scheme (e.g. Basic added by a staging proxy) is not ours: fall back to
            # the cookie instead of treating a signed-in browser as anonymous.

        raw_token = request.COOKIES.get(ACCESS_COOKIE)
        if not raw_token:
            return None
        try:
            return self._authenticate_token(raw_token.encode(), request, cookie=True)
        except exceptions.AuthenticationFailed:
            if request.method not in SAFE_METHODS:
                raise
            # A browser whose session lapsed still reads public pages: a stale or invalid
            # cookie on a read is no credential at all (a Bearer header is the client's own
            # choice, and fails). Should the route need a token, its 401 says why.
            request.anonymous_because = INVALID_ACCESS_TOKEN
            return None

    def _authenticate_token(self, raw_token, request, *, cookie):
        try:
            validated = _verified_token(raw_token)
            # Verified once per process, but its expiry is checked on every request.
            validated.check_exp(current_time=aware_utcnow())
        except (InvalidToken, TokenError) as exc:
            raise exceptions.AuthenticationFailed(INVALID_ACCESS_TOKEN) from exc
        user_id = _user_id(validated)
        # The request's rate-limit count rides on the Redis read of the user (one round trip);
        # it is kept only once every check below has passed.
        window = counter_for(request, user_id)
        token_user, results = user_for_token(user_id, also=count_commands(window) if window else ())
        try:
            user = self._checked(token_user, validated)
            if cookie and request.method not in SAFE_METHODS:
                enforce_trusted_origin(request, required=True)
        except exceptions.APIException:
            if results:
                uncount(window)
            raise
        if results:
            remember_count(request, window, results[-1])
        return user, validated

    @staticmethod
    def _checked(token_user, validated_token):
        """simplejwt's checks, against the cached row (accounts.user_cache): the user exists, is
        active, and has not changed their password since the token was issued."""
        if token_user is None:
            raise exceptions.AuthenticationFailed(INVALID_ACCESS_TOKEN)
        if api_settings.CHECK_USER_IS_ACTIVE and not token_user.user.is_active:
            raise exceptions.AuthenticationFailed(INVALID_ACCESS_TOKEN)
        if api_settings.CHECK_REVOKE_TOKEN and (
            validated_token.get(api_settings.REVOKE_TOKEN_CLAIM) != token_user.password_fingerprint
        ):
            raise exceptions.AuthenticationFailed(INVALID_ACCESS_TOKEN)
        return token_user.user


@functools.lru_cache(maxsize=VERIFIED_TOKENS_KEPT)
def _verified_token(raw_token):
    """simplejwt's full validation of these exact bytes (signature, type, claims), remembered by
    each process for the next requests that present the same token.

    Decoding and checking a JWT costs more than the rest of authenticating (about 0.45 M
    instructions; 14 % of a cached list page), and a client sends the same access token with
    every request of its lifetime. Only tokens that passed are kept (a refusal raises, and
    ``lru_cache`` keeps no exceptions), keyed by their exact bytes, so no other input can match
    one; expiry is checked on each use by the caller, and the user checks (active, password
    unchanged) run on every request as before. The signing key is the process's own for its
    whole life (simplejwt builds its token backend once, at import). The kept token is shared by
    the requests that present it: it is read, never changed. About 1.5 kB each.
    """
    return JWTAuthentication().get_validated_token(raw_token)


def _user_id(validated_token):
    try:
        return uuid.UUID(str(validated_token[api_settings.USER_ID_CLAIM]))
    except (KeyError, ValueError):
        raise exceptions.AuthenticationFailed(INVALID_ACCESS_TOKEN) from None


def authenticate_access_token(raw_token):
    """``(user, validated token)`` for an access token presented outside a DRF request (a
    WebSocket): the checks of a request's token, ``AuthenticationFailed`` when one fails."""
    if isinstance(raw_token, str):
        raw_token = raw_token.encode()
    try:
        validated = _verified_token(raw_token)
        validated.check_exp(current_time=aware_utcnow())
    except (InvalidToken, TokenError) as exc:
        raise exceptions.AuthenticationFailed(INVALID_ACCESS_TOKEN) from exc
    return user_of_validated_token(validated), validated


def user_of_validated_token(validated_token):
    """The token's user, checked again now (it exists, is active, and has not changed their
    password since the token was issued); ``AuthenticationFailed`` otherwise. Its expiry is the
    caller's to check. For what outlives one request: an open WebSocket re-checks its token."""
    token_user, _ = user_for_token(_user_id(validated_token))
    return JWTCookieOrHeaderAuthentication._checked(token_user, validated_token)


def tokens_still_valid(validated_tokens):
    """For each validated token, whether ``user_of_validated_token`` would accept it now (its
    user exists, is active, and has not changed their password since), all read in one query:
    for the many open WebSockets that receive one push each. Expiry is the caller's to check."""
    tokens = list(validated_tokens)
    user_ids = set()
    for token in tokens:
        with contextlib.suppress(exceptions.AuthenticationFailed):
            user_ids.add(_user_id(token))
    rows = {
        pk: (is_active, get_md5_hash_password(password))
        for pk, is_active, password in get_user_model()
        .objects.filter(pk__in=user_ids)
        .values_list("pk", "is_active", "password")
    }
    valid = []
    for token in tokens:
        try:
            row = rows.get(_user_id(token))
        except exceptions.AuthenticationFailed:
            row = None
        valid.append(
            row is not None
            and (row[0] or not api_settings.CHECK_USER_IS_ACTIVE)
            and (
                not api_settings.CHECK_REVOKE_TOKEN
                or token.get(api_settings.REVOKE_TOKEN_CLAIM) == row[1]
            )
        )
    return valid


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
