"""Django's middleware for the server's own pages, skipped by API requests."""

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.middleware.csrf import CsrfViewMiddleware

from viztube.middleware import API_PREFIX


class _BrowserOnly:
    """Skips the wrapped middleware for requests under ``API_PREFIX``.

    The API authenticates with JWTs and never reads a session, a session user, a message or a
    CSRF cookie: its cross-site checks are its own (``accounts.authentication``: an unsafe
    request authenticated by the cookie must come from a trusted origin), and its views are
    ``csrf_exempt`` (DRF's views are). These middleware cost about 8 % of a cheap API request
    for nothing. The admin, the API docs and the landing page keep all of them, and a view under
    the prefix that is not exempt still gets Django's full CSRF check (``process_view`` below).

    One difference for API requests: a malformed ``csrftoken`` or an empty ``sessionid`` cookie
    the browser sends along is no longer replaced or deleted in the response (the next page of
    the admin does that).
    """

    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        return super().__call__(request)


class BrowserSessionMiddleware(_BrowserOnly, SessionMiddleware):
    pass


class BrowserCsrfViewMiddleware(_BrowserOnly, CsrfViewMiddleware):
    def process_view(self, request, callback, callback_args, callback_kwargs):
        # Django calls this hook for every request. Under the API prefix, an exempt view (all
        # of them) is let through as CsrfViewMiddleware itself would; a view that is not
        # exempt still gets the full check (it reads the cookie itself, not what the skipped
        # process_request put in META).
        if getattr(callback, "csrf_exempt", False):
            return None
        return super().process_view(request, callback, callback_args, callback_kwargs)


class BrowserAuthenticationMiddleware(_BrowserOnly, AuthenticationMiddleware):
    pass


class BrowserMessageMiddleware(_BrowserOnly, MessageMiddleware):
    pass
