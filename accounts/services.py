"""Every write about accounts: registration, login, passwords, profile, images, deactivation.

Media rules: image files reach storage only after every check passed, and
never while a database transaction is open (a remote upload can be slow). A file that reached
storage is deleted again when the database write fails; a replaced file is deleted only once the
change committed (``media_delete_after_commit``).
"""

import logging
import secrets
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import user_cache
from accounts.models import PERSON_FIELDS
from accounts.selectors import user_identity_taken, user_username_for_email
from accounts.tokens import (
    TokenPair,
    refresh_token_revoke,
    refresh_tokens_revoke_all,
    token_pair_issue,
)
from media.services import media_delete, media_delete_after_commit, media_store
from media.validation import clean_images
from viztube import errors
from viztube.api import page_cache

logger = logging.getLogger(__name__)

INVALID_CREDENTIALS = "Invalid credentials"
INVALID_OLD_PASSWORD = "Invalid old password"  # noqa: S105 - a message, not a password
DUPLICATE_USER = "User with email or username already exists"
TAKEN_MESSAGES = {"username": "Username already exists", "email": "Email already exists"}


def _taken_problem(taken, message=None):
    """409 naming the taken field(s). After a lost race the winner may already have changed
    its name again, so ``taken`` can be all False: the answer is then the generic one."""
    fields = {name: [TAKEN_MESSAGES[name]] for name, is_taken in taken.items() if is_taken}
    if message is None:
        message = next(iter(fields.values()))[0] if len(fields) == 1 else DUPLICATE_USER
    return errors.Conflict(message, fields=fields)


# --- images -----------------------------------------------------------------------------------


def _image_store(*, user, field_name, content) -> str:
    """Save a cleaned image under a random name of ours (never the client's); returns its name."""
    field = user._meta.get_field(field_name)
    extension = PurePosixPath(content.name or "").suffix.lstrip(".") or "img"
    name = field.generate_filename(user, f"{secrets.token_hex(16)}.{extension}")
    return media_store(
        storage=field.storage, name=name, content=content, max_length=field.max_length
    )


# --- registration and login -------------------------------------------------------------------


def user_register(*, username, email, fullname, password, avatar, cover_image=None):
    """Create an account; ``avatar`` and ``cover_image`` are validated and re-encoded first.

    409 when the username or email is taken, also when a concurrent registration wins the
    race between our pre-check and the insert (the files saved meanwhile are deleted).
    """
    User = get_user_model()
    images = clean_images(avatar=avatar, coverImage=cover_image)
    avatar, cover_image = images["avatar"], images["coverImage"]
    taken = user_identity_taken(username=username, email=email)
    if any(taken.values()):
        raise _taken_problem(taken, DUPLICATE_USER)

    user = User(username=username, email=email, fullname=fullname)
    user.set_password(password)
    user.full_clean(
        exclude=["avatar", "cover_image"], validate_unique=False, validate_constraints=False
    )

    stored = []
    try:
        user.avatar.name = _image_store(user=user, field_name="avatar", content=avatar)
        stored.append(user.avatar.name)
        if cover_image is not None:
            user.cover_image.name = _image_store(
                user=user, field_name="cover_image", content=cover_image
            )
            stored.append(user.cover_image.name)
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError:
        _delete_all(user, stored)
        raise _taken_problem(
            user_identity_taken(username=username, email=email), DUPLICATE_USER
        ) from None
    except BaseException:
        _delete_all(user, stored)
        raise
    return user


def _delete_all(user, names):
    # Both image fields live in the default storage.
    for name in names:
        media_delete(storage=user.avatar.storage, name=name)


class LoginLockedOut(errors.TryLater):
    """django-axes' per-account lockout; ``wait`` is how long it lasts."""

    default_message = "Too many failed login attempts for this account; try again later"


def user_login(*, request, password, email=None, username=None):
    """Check credentials; returns ``(user, TokenPair)``.

    Unknown account, wrong password and inactive account are one answer, 401 "Invalid
    credentials", and cost the same: Django's ModelBackend runs the hasher for unknown users
    too. Going through ``authenticate()`` lets django-axes count failures later. When both an
    email and a username are given they must name the same account.
    """
    login_name = username.strip().lower() if username else None
    if email:
        owner = user_username_for_email(email=email)
        if owner is None or (login_name and owner != login_name):
            # A name with "@" is never a username: ModelBackend still hashes, then fails.
            login_name = email.strip().lower()
            if "@" not in login_name:
                login_name = f"@{login_name}"
        else:
            login_name = owner
    user = authenticate(request=request, username=login_name, password=password)
    if user is None:
        if getattr(request, "axes_locked_out", False):
            # django-axes refused this (account, address) pair before checking the password.
            raise LoginLockedOut(wait=settings.AXES_COOLOFF_TIME.total_seconds())
        raise errors.InvalidCredentials(INVALID_CREDENTIALS)
    # What django.contrib.auth.login() would announce: django-axes resets the failure count,
    # Django records last_login.
    user_logged_in.send(sender=type(user), request=request, user=user)
    return user, token_pair_issue(user=user)


def user_logout(*, user, raw_refresh_token):
    """Revoke the presented refresh token, if it is the caller's (else nothing to do)."""
    refresh_token_revoke(raw_token=raw_refresh_token, user=user)


@transaction.atomic
def user_change_password(*, user, old_password, new_password) -> TokenPair:
    """Set a new password; every earlier token stops working; returns a fresh pair.

    Earlier access and refresh tokens carry a hash of the old password hash (simplejwt's
    ``CHECK_REVOKE_TOKEN``), so they fail from now on; outstanding refresh tokens are also
    blacklisted so that the token tables tell the truth.
    """
    if not user.check_password(old_password):
        raise errors.InvalidInput(
            INVALID_OLD_PASSWORD, fields={"oldPassword": [INVALID_OLD_PASSWORD]}
        )
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    _user_changed(user=user, fields=["password"])
    refresh_tokens_revoke_all(user_ids=[user.pk])
    return token_pair_issue(user=user)


# --- caches -----------------------------------------------------------------------------------

# A user's fields that cached list pages show: the person shape, and whether the account is
# active (a deactivation takes effect everywhere at once).
LISTED_USER_FIELDS = frozenset({*PERSON_FIELDS, "is_active"})


def _user_changed(*, user, fields):
    """Retire what caches the user after ``fields`` changed: the authentication's copy
    always, the cached list pages when a field they show changed."""
    user_cache.forget(user.pk)
    if LISTED_USER_FIELDS & set(fields):
        page_cache.bump()


def user_save_by_staff(*, user, changed_fields):
    """A staff edit in the admin: saved, then the caches retired like any other change."""
    user.save()
    if changed_fields:
        _user_changed(user=user, fields=changed_fields)
    return user


@transaction.atomic
def user_password_set_by_staff(*, user):
    """Save a password that staff set (``user.set_password`` done): every earlier token of the
    user stops working, as after the user's own change."""
    user.save()
    refresh_tokens_revoke_all(user_ids=[user.pk])
    _user_changed(user=user, fields=["password"])
    return user


# --- profile ----------------------------------------------------------------------------------

ACCOUNT_FIELDS = ("fullname", "email", "username")
NOTHING_TO_UPDATE = "Nothing to update: give fullname, email or username"


def user_update_account(*, user, **changes):
    """Partial update of ``fullname``, ``email``, ``username`` (already normalised).

    409 with the taken field named, from the pre-check or from the unique constraints.
    """
    if not changes.keys() & set(ACCOUNT_FIELDS):
        raise errors.InvalidInput(
            NOTHING_TO_UPDATE, fields={name: [NOTHING_TO_UPDATE] for name in ACCOUNT_FIELDS}
        )
    changes = {
        name: value
        for name, value in changes.items()
        if name in ACCOUNT_FIELDS and getattr(user, name) != value
    }
    if not changes:
        return user  # what was asked is already so
    taken = user_identity_taken(
        username=changes.get("username"), email=changes.get("email"), exclude_pk=user.pk
    )
    if any(taken.values()):
        raise _taken_problem(taken)
    for name, value in changes.items():
        setattr(user, name, value)
    user.full_clean(
        exclude=["password", "avatar", "cover_image"],
        validate_unique=False,
        validate_constraints=False,
    )
    try:
        with transaction.atomic():
            user.save(update_fields=[*changes, "updated_at"])
            _user_changed(user=user, fields=changes)
    except IntegrityError:
        user.refresh_from_db()
        raise _taken_problem(
            user_identity_taken(
                username=changes.get("username"), email=changes.get("email"), exclude_pk=user.pk
            )
        ) from None
    return user


def _user_replace_image(*, user, field_name, request_field, content):
    """Store the new image, point the row at it, delete the old file after commit."""
    User = get_user_model()
    content = clean_images(**{request_field: content})[request_field]
    new_name = _image_store(user=user, field_name=field_name, content=content)
    storage = user._meta.get_field(field_name).storage
    try:
        with transaction.atomic():
            # The row lock makes concurrent replacements queue, so each one deletes the file
            # the previous one stored instead of two deleting the same file and leaking one.
            locked = User.objects.select_for_update().only(field_name).get(pk=user.pk)
            old_name = getattr(locked, field_name).name
            now = timezone.now()
            User.objects.filter(pk=user.pk).update(**{field_name: new_name, "updated_at": now})
            page_cache.bump()  # lists show the owner's avatar
            user_cache.forget(user.pk)
            if old_name and old_name != new_name:
                media_delete_after_commit((storage, old_name))
    except BaseException:
        media_delete(storage=storage, name=new_name)
        raise
    getattr(user, field_name).name = new_name
    user.updated_at = now
    return user


def user_update_avatar(*, user, avatar):
    return _user_replace_image(
        user=user, field_name="avatar", request_field="avatar", content=avatar
    )


def user_update_cover_image(*, user, cover_image):
    return _user_replace_image(
        user=user, field_name="cover_image", request_field="coverImage", content=cover_image
    )


# --- moderation -------------------------------------------------------------------------------


@transaction.atomic
def user_deactivate_many(*, user_ids) -> int:
    """Staff moderation: the users can no longer log in or refresh, and their access tokens
    stop at once (simplejwt's ``CHECK_USER_IS_ACTIVE`` loads the user on every request)."""
    user_ids = list(user_ids)
    count = (
        get_user_model()
        .objects.filter(pk__in=user_ids, is_active=True)
        .update(is_active=False, updated_at=timezone.now())
    )
    page_cache.bump()
    user_cache.forget(*user_ids)
    refresh_tokens_revoke_all(user_ids=user_ids)
    return count
