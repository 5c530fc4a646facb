"""The row of a token's user, cached in Redis for the authentication of API requests (issue 7).

Every authenticated request needs its user: to check that the account is still active and that
the token predates no password change (simplejwt's ``CHECK_USER_IS_ACTIVE`` and
``CHECK_REVOKE_TOKEN``), and as ``request.user``. Loading it through the ORM was the largest
single cost of a cheap request; a cached copy costs one Redis GET.

Exactness, decided:
- every save or delete of a user retires its copy, now and again after the commit (a reader in
  between would otherwise cache the old row again): a password change, a deactivation through the
  admin or a service, a rename, takes effect on the very next request;
- services that write users with ``QuerySet.update()`` call ``forget()`` themselves (avatar and
  cover changes, mass deactivation);
- the denormalised counters (``subscribers_count``, ``subscriptions_count``) are updated with
  ``F()`` and do not retire the copy: nothing reads them from ``request.user`` (the dashboard
  reads the channel's count in its own query);
- a copy lives ``USER_CACHE_SECONDS`` at most (300 s by default), which bounds the staleness of
  a row changed behind the application's back (raw SQL, ``update()`` elsewhere);
- without Redis the cache is off by default: a per-process copy could not be retired in the
  other workers;
- Redis down: the row is read from PostgreSQL, as if nothing were cached.
``USER_CACHE_SECONDS=0`` turns the cache off.
"""

import functools
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache, caches
from django.db import transaction
from django_redis.cache import RedisCache

from viztube.api.throttling import add_count_commands

logger = logging.getLogger(__name__)


def _key(user_id):
    return f"auth:user:{user_id}"


def user_for_token(user_id, *, counter=None):
    """The user with this primary key (a copy from the cache when there is one), or ``None``.

    ``counter``: a rate-limit window (viztube.api.throttling) to count this request in, in the
    same Redis round trip as the read. Returns ``(user, count)``; ``count`` is ``None`` when it
    was not counted here (no counter, no Redis, Redis failing), and the throttle counts itself.
    """
    ttl = settings.USER_CACHE_SECONDS
    count = None
    if ttl:
        try:
            user, count = _read_copy(user_id, counter)
        except Exception:
            logger.warning("User cache unavailable; reading the user row", exc_info=True)
            ttl = 0
        else:
            if user is not None:
                return user, count
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is not None and ttl:
        try:
            cache.set(_key(user_id), user, timeout=ttl)
        except Exception:
            logger.warning("User cache unavailable; user row not cached", exc_info=True)
    return user, count


def _read_copy(user_id, counter):
    backend = caches["default"]
    if counter is None or not isinstance(backend, RedisCache):
        return backend.get(_key(user_id)), None
    pipeline = backend.client.get_client(write=True).pipeline(transaction=False)
    pipeline.get(backend.make_key(_key(user_id)))
    add_count_commands(pipeline, counter)
    raw_user, count, _ = pipeline.execute()
    return (backend.client.decode(raw_user) if raw_user is not None else None), count


def retire_copies(user_ids):
    """Delete the cached copies of these users."""
    try:
        cache.delete_many([_key(user_id) for user_id in user_ids])
    except Exception:
        # Without Redis nothing is served from the cache either; the copy expires on its own.
        logger.warning("User cache unavailable; copies not retired", exc_info=True)


def forget(*user_ids):
    """Retire the cached copies of these users: now, and again once the transaction commits."""
    if settings.USER_CACHE_SECONDS and user_ids:
        retire_copies(user_ids)
        transaction.on_commit(functools.partial(retire_copies, user_ids), robust=True)


def forget_on_change(sender, instance, **kwargs):
    """Signal receiver (post_save / post_delete of the user model, see accounts.apps)."""
    forget(instance.pk)
