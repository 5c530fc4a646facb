"""Several Redis commands in one round trip, for the reads every request makes: the signed-in
user's cached row with the rate-limit count (accounts/user_cache.py, viztube/api/throttling.py)
and a cached list page (viztube/api/page_cache.py).

redis-py's pipeline costs ~0.33 M instructions for the four commands of a signed-in request
(a tenth of a cached list page: command objects, response callbacks, the retry wrapper,
metrics hooks), and ``cache.get_many`` ~0.18 M for one ``MGET``. ``round_trip`` sends the same
commands on a connection of the same pool (django-redis's) and reads the raw replies, for
about half of that. What it leaves out, decided:

- Retries. A round trip that fails raises, after dropping its connection (so that no reply of
  it is left to be read by the next user of the connection); every caller already has its
  answer for a Redis failure (read PostgreSQL, count the request separately, build the page).
  A connection the server closed while it sat idle in the pool is still replaced by the pool
  before use, as for redis-py's own commands.
- Response callbacks. Replies are raw: bytes or ``None`` for ``GET``, a list of those for
  ``MGET``, an int for ``INCR``; ``cached_value`` decodes a value as django-redis stored it.
"""

from django.core.cache import caches
from django_redis.cache import RedisCache


def redis_cache():
    """The default cache when it is django-redis's, else ``None``. Looked up once by each
    caller: a lookup in ``caches`` costs a few thousand instructions (a thread-local read)."""
    backend = caches["default"]
    return backend if isinstance(backend, RedisCache) else None


def cached_value(backend, raw):
    """A raw reply for a key the cache wrote, as ``cache.get`` would return it."""
    return None if raw is None else backend.client.decode(raw)


def round_trip(backend, *commands):
    """Send ``commands`` (tuples such as ``("GET", backend.make_key(key))``) to ``backend``'s
    Redis in one write; their raw replies, in order. An error reply raises
    ``redis.ResponseError``, a lost connection ``redis.ConnectionError`` or
    ``redis.TimeoutError``."""
    pool = backend.client.get_client(write=True).connection_pool
    connection = pool.get_connection()
    try:
        connection.send_packed_command(connection.pack_commands(commands), check_health=False)
        return [connection.read_response() for _ in commands]
    except BaseException:
        connection.disconnect()
        raise
    finally:
        pool.release(connection)


def get_values(*keys):
    """The cache's values of ``keys`` (``None`` where missing), in one round trip on Redis."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        found = backend.get_many(keys)
        return [found.get(key) for key in keys]
    [raw_values] = round_trip(backend, ("MGET", *map(backend.make_key, keys)))
    return [cached_value(backend, raw) for raw in raw_values]
