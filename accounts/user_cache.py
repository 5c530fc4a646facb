"""The row of a token's user, cached in Redis for the authentication of API requests.

Every authenticated request needs its user: to check that the account is still active and that
the token predates no password change (simplejwt's ``CHECK_USER_IS_ACTIVE`` and
``CHECK_REVOKE_TOKEN``), and as ``request.user``. Loading it through the ORM was the largest
single cost of a cheap request; a cached copy costs one Redis GET.

Exactness, decided:
- each user has a generation number in Redis. Every service that saves or deletes a user raises
  it (``forget()``), now and again after the commit; staff edits in the admin go through those
  services; a copy is only used while it carries the current generation, and a
  copy is tagged with the generation read *before* the row was read from PostgreSQL. So a
  reader that loaded the row just before a password change commits can store its copy, but
  nobody will use it: the change revokes tokens on the very next request;
- the denormalised counters (``subscribers_count``, ``subscriptions_count``) are updated with
  ``F()`` and do not retire the copy: nothing reads them from ``request.user`` (the dashboard
  reads the channel's count in its own query);
- the copy holds the row's columns except the password hash, and a fingerprint of that hash
  (what the token carries, to detect a password change). ``request.user.password`` is loaded
  from PostgreSQL when something needs it (a password check);
- a copy lives ``USER_CACHE_SECONDS`` at most (300 s by default), which also bounds the
  staleness of a row changed behind the services' back (a shell, raw SQL, ``manage.py
  changepassword``) or while Redis was failing (a failed retirement is logged);
- Redis down: the row is read from PostgreSQL, as if nothing were cached;
- without Redis the cache must stay off (settings refuse it): a per-process copy could not be
  retired in the other workers.
"""

import functools
import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import transaction
from django.db.models.base import DEFERRED
from rest_framework_simplejwt.utils import get_md5_hash_password

from viztube.redis_io import cached_value, redis_cache, round_trip

logger = logging.getLogger(__name__)


@functools.cache
def _copied_columns():
    return tuple(f for f in get_user_model()._meta.concrete_fields if f.attname != "password")


@functools.cache
def _copied_fields():
    return tuple(field.attname for field in _copied_columns())


@functools.cache
def _layout():
    # A deploy that changes the user's columns starts from empty copies instead of old ones.
    return hashlib.blake2b(" ".join(_copied_fields()).encode(), digest_size=4).hexdigest()


def _copy_key(user_id):
    return f"auth:user:{_layout()}:{user_id}"


def _generation_key(user_id):
    return f"auth:user-generation:{user_id}"


@dataclass(frozen=True)
class TokenUser:
    """The user, and the fingerprint of their password hash that tokens carry."""

    user: object
    password_fingerprint: str


def user_for_token(user_id, *, also=()):
    """The user with this primary key (from the cached copy when it is current), or ``None``.

    ``also``: more Redis commands to send in the same round trip as the read (the request's
    rate-limit count, ``viztube.redis_io.round_trip`` tuples); returns ``(token_user, their
    replies)``, the replies being ``None`` when they were not sent (no Redis, Redis failing,
    cache off).
    """
    generation, extra = None, None
    if settings.USER_CACHE_SECONDS:
        try:
            generation, copy, extra = _read(user_id, also)
        except Exception:
            logger.warning("User cache unavailable; reading the user row", exc_info=True)
        else:
            if copy is not None and copy["generation"] == generation:
                return _from_copy(copy), extra
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return None, extra
    token_user = TokenUser(user, get_md5_hash_password(user.password))
    if generation is not None:
        _store(user_id, token_user, generation)
    return token_user, extra


def _read(user_id, also):
    """``(generation, copy, replies to also)`` in one round trip."""
    generation_key, copy_key = _generation_key(user_id), _copy_key(user_id)
    backend = redis_cache()
    if backend is None:
        found = caches["default"].get_many([generation_key, copy_key])
        return found.get(generation_key, 0), found.get(copy_key), None
    raw_generation, raw_copy, *extra = round_trip(
        backend,
        ("GET", backend.make_key(generation_key)),
        ("GET", backend.make_key(copy_key)),
        *also,
    )
    generation = int(cached_value(backend, raw_generation)) if raw_generation is not None else 0
    return generation, cached_value(backend, raw_copy), (extra if also else None)


def _store(user_id, token_user, generation):
    copy = {
        "generation": generation,
        # Plain column values (a FieldFile would pickle its whole instance, hash included).
        "fields": [
            field.get_prep_value(field.value_from_object(token_user.user))
            for field in _copied_columns()
        ],
        "password_fingerprint": token_user.password_fingerprint,
    }
    try:
        caches["default"].set(_copy_key(user_id), copy, timeout=settings.USER_CACHE_SECONDS)
    except Exception:
        logger.warning("User cache unavailable; user row not cached", exc_info=True)


@functools.cache
def _password_position():
    return [f.attname for f in get_user_model()._meta.concrete_fields].index("password")


def _from_copy(copy):
    # What Model.from_db does with a saved row (the password hash a deferred field), given the
    # row in column order: from_db would first match every column name against the copied
    # ones, half the cost of building the user.
    values = list(copy["fields"])
    values.insert(_password_position(), DEFERRED)
    user = get_user_model()(*values)
    user._state.adding = False
    user._state.db = "default"
    return TokenUser(user, copy["password_fingerprint"])


def retire_copies(user_ids):
    """Raise these users' generations: every copy stored so far is dead."""
    backend = caches["default"]
    try:
        for user_id in user_ids:
            key = _generation_key(user_id)
            backend.add(key, 0, timeout=None)
            backend.incr(key)
    except Exception:
        logger.error(
            "User cache unavailable; cached copies of %s live until they expire", list(user_ids)
        )


def forget(*user_ids):
    """Retire the cached copies of these users: now, and again once the transaction commits."""
    if settings.USER_CACHE_SECONDS and user_ids:
        retire_copies(user_ids)
        transaction.on_commit(functools.partial(retire_copies, user_ids), robust=True)
