"""A short-lived cache of public list page bodies (``GET /videos``: the busiest read).

A public list is the same for every caller (its shape has no per-caller field), so one page
body, once built, can answer everyone who asks for the same page with the same filters. A hit
skips the ORM and the serializer, which is where the request's time goes.

Freshness, decided:
- Anything that changes what a cached page shows structurally (a video published, edited,
  hidden or deleted; an owner renamed or given a new avatar; a user deactivated or deleted)
  makes the service that writes it call ``bump()``: a new version, at once and again after the
  transaction commits, and every page cached under an older version is dead. Admin edits go
  through the same services. There are no signal receivers: a change made behind the services'
  back (a shell, raw SQL) is seen when its pages expire, within ``VIDEO_LIST_CACHE_SECONDS``.
- View counts are not a structural change: a listed ``views`` may lag by up to
  ``VIDEO_LIST_CACHE_SECONDS`` (10 s by default with Redis, off without), as on every large
  video site. Detail pages are never cached.
- Redis down: the page is built as if nothing were cached (logged), never an error.

``VIDEO_LIST_CACHE_SECONDS=0`` turns the cache off.
"""

import hashlib
import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from viztube.api.renderers import dumps, fragment
from viztube.middleware import media_base_url
from viztube.redis_io import get_values

logger = logging.getLogger(__name__)

VERSION_KEY = "videos:list:version"


def _ttl():
    return settings.VIDEO_LIST_CACHE_SECONDS


def _page_key(parts):
    # Hashed: parts may hold free-form text (a search of any script, up to 200 characters).
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()
    return f"videos:list:page:{digest}"


def page_json(parts, build):
    """The JSON of the page body for the request that ``parts`` (strings) identify: from the
    cache, else ``dumps(build())`` (then cached).

    A cached page is its JSON (``viztube.api.renderers.dumps``) tagged with the version it was
    built under; it answers only while that version is current. The version and the page come
    in one round trip (``MGET``), and the version is read before the rows: a page built while
    a change commits is tagged with a version that the change's second bump retires.
    One key per page: a slow build that finishes after a change may overwrite the newer page
    with its retired one; that costs the next reader a rebuild, never a stale answer.
    """
    if not _ttl():
        return dumps(build())
    # Pages hold absolute media URLs built from the request's origin (no MEDIA_BASE_URL): one
    # origin's page must not answer another's.
    key = _page_key((*parts, media_base_url()))
    try:
        version, cached = get_values(VERSION_KEY, key)
        if version is None:
            cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
            version = cache.get(VERSION_KEY)
    except Exception:
        logger.warning("Page cache unavailable; building the page", exc_info=True)
        return dumps(build())
    if cached is not None and cached[0] == version:
        return cached[1]
    encoded = dumps(build())
    try:
        cache.set(key, (version, encoded), timeout=_ttl())
    except Exception:
        logger.warning("Page cache unavailable; page not cached", exc_info=True)
    return encoded


def page_body(parts, build):
    """``page_json`` as a ``fragment``, to place in data that the renderer encodes (a page built
    without the cache is ``build()`` itself)."""
    if not _ttl():
        return build()
    return fragment(page_json(parts, build))


def retire_pages():
    """Start a new version: every page cached so far is dead (and expires on its own)."""
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:
        # Cached pages then expire on their own within VIDEO_LIST_CACHE_SECONDS.
        logger.warning("Page cache unavailable; version not bumped", exc_info=True)


def bump():
    """Retire every cached page: now, and again once the current transaction commits.

    Now, so that nothing cached before the change is served from here on; after the commit as
    well, because a reader between the first bump and the commit still sees the old rows and
    may cache them under the new version."""
    if _ttl():
        retire_pages()
        transaction.on_commit(retire_pages, robust=True)
