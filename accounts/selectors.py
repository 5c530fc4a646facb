"""Reads about users. Emails are compared through ``lower(email)``, the expression the
case-insensitive unique index is built on, so these lookups use that index."""

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.db.models.functions import Lower

from accounts.models import PERSON_FIELDS

# A user joined into a video, comment or tweet query loads only the person shape's columns and,
# for a video's detail, the channel's subscriber count: not the password hash, email or flags
# it would never show.
JOINED_USER_FIELDS = frozenset({*PERSON_FIELDS, "subscribers_count"})


def person_defer(relation):
    """``defer()`` arguments that leave out of ``relation`` (a user joined with
    ``select_related``) every column the person shape does not show."""
    return [
        f"{relation}__{field.name}"
        for field in get_user_model()._meta.concrete_fields
        if field.name not in JOINED_USER_FIELDS
    ]


def _users_by_lower_email():
    return get_user_model().objects.annotate(email_lower=Lower("email"))


def user_username_for_email(*, email: str) -> str | None:
    """The username of the account with this email (any case), or ``None``."""
    return (
        _users_by_lower_email()
        .filter(email_lower=email.strip().lower())
        .values_list("username", flat=True)
        .first()
    )


def user_identity_taken(*, username=None, email=None, exclude_pk=None) -> dict[str, bool]:
    """Which of ``username`` / ``email`` another account already uses: one query.

    Only a pre-check for a friendly answer; the unique constraints decide (services turn an
    ``IntegrityError`` into the same 409).
    """
    condition = Q()
    if username:
        condition |= Q(username=username)
    if email:
        condition |= Q(email_lower=email.lower())
    taken = {"username": False, "email": False}
    if not condition:
        return taken
    rows = _users_by_lower_email().filter(condition)
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    for found_username, found_email in rows.values_list("username", "email_lower"):
        taken["username"] |= bool(username) and found_username == username
        taken["email"] |= bool(email) and found_email == email.lower()
    return taken
