"""Issuing, rotating and revoking JWTs, and the auth cookies that carry them.

simplejwt signs and verifies the tokens and keeps the outstanding/blacklisted tables. What it does
not do is make rotation atomic: it checks the blacklist when a token is parsed and writes it later,
so N simultaneous refreshes of one token can all succeed. Here the jti is *claimed* by inserting
its blacklist row: the row's token column is unique (a OneToOne), so exactly one request creates
it, and only that request receives a new pair.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.authentication import ACCESS_COOKIE, REFRESH_COOKIE
from viztube import errors

INVALID_REFRESH_TOKEN = "Invalid refresh token"  # noqa: S105 (a message)
REFRESH_TOKEN_REQUIRED = "Refresh token is required"  # noqa: S105 (a message)
_EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str

    def as_data(self):
        return {"accessToken": self.access, "refreshToken": self.refresh}


def token_pair_issue(*, user) -> TokenPair:
    """A fresh access/refresh pair for ``user`` (the refresh token is recorded as outstanding)."""
    refresh = RefreshToken.for_user(user)
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def _user_still_entitled(refresh):
    """The token's user, if it still exists, is active and has not changed password since."""
    User = get_user_model()
    try:
        user = User.objects.get(**{api_settings.USER_ID_FIELD: refresh[api_settings.USER_ID_CLAIM]})
    except (KeyError, ValueError, DjangoValidationError, User.DoesNotExist):
        return None
    if not user.is_active:
        return None
    if api_settings.CHECK_REVOKE_TOKEN and refresh.get(
        api_settings.REVOKE_TOKEN_CLAIM
    ) != get_md5_hash_password(user.password):
        return None
    return user


def _parse_refresh(raw_token):
    """A verified refresh token (signature, expiry, type, not blacklisted), else ``None``."""
    try:
        return RefreshToken(raw_token)
    except (TokenError, ValueError, TypeError):
        return None


def refresh_token_rotate(*, raw_token: str):
    """Exchange a refresh token for a new pair, exactly once.

    Returns ``(user, TokenPair)``. Every failure (bad signature, expired, wrong type, already used
    or logged out, user gone or inactive, password changed) is the same 401 "Invalid refresh token".
    The claim and the new pair are one transaction: if issuing fails, the old token stays usable.
    """
    invalid = errors.InvalidCredentials(INVALID_REFRESH_TOKEN)
    refresh = _parse_refresh(raw_token)
    if refresh is None:
        raise invalid
    user = _user_still_entitled(refresh)
    if user is None:
        raise invalid
    with transaction.atomic():
        # get_or_create on the unique OneToOne column: concurrent callers block on the first
        # insert and then find its row, so only one of them sees created=True.
        _, claimed = refresh.blacklist()
        if not claimed:
            raise invalid
        pair = token_pair_issue(user=user)
    return user, pair


def refresh_token_revoke(*, raw_token: str, user) -> bool:
    """Blacklist a refresh token of ``user`` (logout). Anything else is ignored: a missing,
    invalid, foreign or already revoked token is not an error. Returns whether one was revoked."""
    refresh = _parse_refresh(raw_token) if raw_token else None
    if refresh is None or str(refresh.get(api_settings.USER_ID_CLAIM)) != str(user.pk):
        return False
    _, revoked = refresh.blacklist()
    return revoked


def refresh_tokens_revoke_all(*, user_ids) -> int:
    """Blacklist every outstanding, unexpired refresh token of these users (password change,
    deactivation): one SELECT and one bulk INSERT that skips tokens blacklisted meanwhile."""
    outstanding = OutstandingToken.objects.filter(
        user_id__in=list(user_ids),
        expires_at__gt=timezone.now(),
        blacklistedtoken__isnull=True,
    ).values_list("pk", flat=True)
    rows = [BlacklistedToken(token_id=pk) for pk in outstanding]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _cookie_options():
    # Browsers drop SameSite=None cookies that are not Secure, so None implies Secure.
    samesite = settings.AUTH_COOKIE_SAMESITE
    return {
        "path": "/",
        "httponly": True,
        "samesite": samesite,
        "secure": settings.AUTH_COOKIE_SECURE or samesite == "None",
    }


def auth_cookies_set(response, pair: TokenPair):
    """``accessToken`` and ``refreshToken`` cookies, each living as long as its token."""
    options = _cookie_options()
    response.set_cookie(
        ACCESS_COOKIE,
        pair.access,
        max_age=int(AccessToken.lifetime.total_seconds()),
        **options,
    )
    response.set_cookie(
        REFRESH_COOKIE,
        pair.refresh,
        max_age=int(RefreshToken.lifetime.total_seconds()),
        **options,
    )
    return response


def auth_cookies_clear(response):
    """Expire both cookies with the attributes they were set with (else browsers keep them)."""
    options = _cookie_options()
    for name in (ACCESS_COOKIE, REFRESH_COOKIE):
        response.set_cookie(name, "", max_age=0, expires=_EPOCH, **options)
    return response
