"""Which origins a browser may act from with the user's cookie: one rule, for HTTP requests
(``accounts.authentication``) and for WebSockets (their ASGI scope).

A cookie is ambient: the browser attaches it to requests that other sites' pages make, and to
their WebSocket handshakes too. So an action authenticated by it must come from a trusted
origin: one listed in ``CSRF_TRUSTED_ORIGINS``, or the server's own (``scheme://host`` of the
request, for its own pages: the browsable API, the docs). ``null`` (a sandboxed frame, a
``file:`` page) is never trusted.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host


def origin_of(url):
    """``scheme://host[:port]`` of an absolute URL, lower-cased; ``None`` for anything else."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def normalized(origin):
    """An ``Origin`` header's value as the rule compares it (``null`` stays ``null``)."""
    return origin.lower() if origin != "null" else "null"


def is_trusted(origin, *, own_origin):
    """Whether ``origin`` (normalized) is trusted; ``own_origin`` is the server's, or ``None``
    when it is unknown (then only the configured origins are)."""
    trusted = {o.lower().rstrip("/") for o in settings.CSRF_TRUSTED_ORIGINS}
    if origin in trusted:
        return True
    return own_origin is not None and origin == own_origin


def _header(scope, name):
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def scope_origin(scope):
    """The ``Origin`` a browser sent with a WebSocket handshake (normalized), or ``None``."""
    origin = _header(scope, b"origin")
    return normalized(origin) if origin else None


def scope_own_origin(scope):
    """``http(s)://host`` of the server a WebSocket handshake came to, as Django works out a
    request's: the ``Host`` header when it is one of ``ALLOWED_HOSTS`` (``None`` otherwise), and
    the scheme from ``SECURE_PROXY_SSL_HEADER`` when one is configured (TLS ends at a proxy)."""
    host = _header(scope, b"host")
    if not host:
        return None
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, allowed_hosts):
        return None
    scheme = "https" if scope.get("scheme") == "wss" else "http"
    if settings.SECURE_PROXY_SSL_HEADER:
        meta_name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        forwarded = _header(
            scope, meta_name.removeprefix("HTTP_").lower().replace("_", "-").encode()
        )
        if forwarded is not None:
            scheme = "https" if forwarded.split(",", 1)[0].strip() == secure_value else "http"
    return f"{scheme}://{host}".lower()


def scope_origin_is_trusted(scope):
    """A WebSocket handshake's rule: a present ``Origin`` must be trusted (a client that is not
    a browser sends none, and carries no ambient cookie of a victim)."""
    origin = scope_origin(scope)
    return origin is None or is_trusted(origin, own_origin=scope_own_origin(scope))
