"""A short-lived cache of ``GET /videos`` page bodies (issue 7: the list is the busiest read).

The public list is the same for every caller (its shape has no per-caller field), so one page
body, once built, can answer everyone who asks for the same page with the same filters. A hit
skips the ORM and the serializer, which is where the request's time goes.

Freshness, decided:
- Anything that changes what a list shows structurally — a video published, edited, hidden or
  deleted, an owner renamed or given a new avatar, a user deactivated or deleted — bumps a
  version, at once and again after the transaction commits, and every cached page of the older
  version is dead at once. Model saves of videos and users and deletions of users bump it through signals (so
  admin edits are covered); video deletions and the services that write with
  ``QuerySet.update()`` call ``bump()`` themselves.
- A video deleted with ``Model.delete()`` outside the services (a shell) is, like raw SQL, a
  change behind the application's back: its pages expire within ``VIDEO_LIST_CACHE_SECONDS``.
- View counts are not a structural change: a listed ``views`` may lag by up to
  ``VIDEO_LIST_CACHE_SECONDS`` (10 s by default with Redis, off without), as on every large
  video site. The detail (``GET /videos/:id``) is never cached.
- Redis down: the list is built as if nothing were cached (logged), never an error.

``VIDEO_LIST_CACHE_SECONDS=0`` turns the cache off.
"""

import hashlib
import logging
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction

from viztube.api.renderers import dumps, fragment

logger = logging.getLogger(__name__)

VERSION_KEY = "videos:list:version"
# The owner's fields a list page shows (the person shape). is_active too: a moderator's
# deactivation is a change operators expect to see take effect everywhere at once.
LISTED_USER_FIELDS = frozenset({"username", "fullname", "avatar", "is_active"})


def _ttl():
    return settings.VIDEO_LIST_CACHE_SECONDS


def _page_key(filters, page_request):
    parts = (
        filters.query,
        str(filters.owner_id or ""),
        filters.sort_by or "",
        "desc" if filters.descending else "asc",
        str(page_request.page),
        str(page_request.limit),
    )
    # Hashed: the search text is free-form (spaces, any script, up to 200 characters).
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()
    return f"videos:list:page:{digest}"


def page_body(filters, page_request, build):
    """The page body for these filters: from the cache, else ``build()`` (then cached).

    A cached page is its JSON (``viztube.api.renderers.dumps``) tagged with the version it was
    built under; it answers only while that version is current. The version and the page come
    in one round trip (``MGET``), and the version is read before the rows: a page built while
    a change commits is tagged with a version that the change's second bump retires.
    A cached page is returned as a ``fragment``, which the renderer writes out unparsed (so
    ``Response.data`` holds a fragment, not a dict; a page built without the cache is a dict).
    One key per page: a slow build that finishes after a change may overwrite the newer page
    with its retired one; that costs the next reader a rebuild, never a stale answer.
    """
    if not _ttl():
        return build()
    key = _page_key(filters, page_request)
    try:
        found = cache.get_many([VERSION_KEY, key])
        version = found.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
            version = cache.get(VERSION_KEY)
    except Exception:
        logger.warning("Video list cache unavailable; building the page", exc_info=True)
        return build()
    cached = found.get(key)
    if cached is not None and cached[0] == version:
        return fragment(cached[1])
    encoded = dumps(build())
    try:
        cache.set(key, (version, encoded), timeout=_ttl())
    except Exception:
        logger.warning("Video list cache unavailable; page not cached", exc_info=True)
    return fragment(encoded)


def retire_pages():
    """Start a new version: every page cached so far is dead (and expires on its own)."""
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:
        # Cached pages then expire on their own within VIDEO_LIST_CACHE_SECONDS.
        logger.warning("Video list cache unavailable; version not bumped", exc_info=True)


def bump():
    """Retire every cached page: now, and again once the current transaction commits.

    Now, so that nothing cached before the change is served from here on; after the commit as
    well, because a reader between the first bump and the commit still sees the old rows and
    may cache them under the new version."""
    if _ttl():
        retire_pages()
        transaction.on_commit(retire_pages, robust=True)


def bump_on_change(sender, update_fields=None, **kwargs):
    """Signal receiver (post_save of Video and User, post_delete of User; see videos.apps).

    A user saved with ``update_fields`` that a list never shows (``last_login`` on every
    sign-in, a password) leaves the pages alone: retiring them on each login would leave
    little cached on a busy site."""
    if sender is get_user_model() and (
        kwargs.get("created")  # a new account has no videos yet
        or (update_fields is not None and not set(update_fields) & LISTED_USER_FIELDS)
    ):
        return
    bump()
