"""Start-up guards for what settings cannot refuse at import without breaking tooling."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

UNCONFIGURED_SIGNING_MESSAGE = (
    "Environment variable SECRET_KEY: required when DEBUG is off (at least 50 random characters)"
)


@register(Tags.security, deploy=True)
def secret_key_check(app_configs, **kwargs):
    if settings.SECRET_KEY_MISSING:
        return [Error(UNCONFIGURED_SIGNING_MESSAGE, id="viztube.E001")]
    return []


@register(deploy=True)
def broker_check(app_configs, **kwargs):
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return [
            Warning(
                "No task broker: background tasks (media deletions) run inside the requests "
                "that enqueue them, and every web process runs the periodic tasks.",
                hint="Set REDIS_URL (or CELERY_BROKER_URL) and run `celery -A viztube worker` "
                "and one `celery -A viztube beat`.",
                id="viztube.W001",
            )
        ]
    return []


@register(deploy=True)
def channel_layer_check(app_configs, **kwargs):
    if settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer":
        return [
            Warning(
                "No channel layer server: live notifications reach only the WebSockets of the "
                "process that makes them, and in production that is never the WebSocket "
                "server's (gunicorn and the Celery workers make them).",
                hint="Set REDIS_URL (or CHANNEL_LAYER_URL).",
                id="viztube.W002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def csrf_middleware_check(app_configs, **kwargs):
    """Django's ``security.W003`` looks for ``CsrfViewMiddleware`` by its exact path, and this
    project runs a subclass of it (``viztube.browser.BrowserCsrfViewMiddleware``: every request
    but the API's, which has its own Origin check), so W003 is silenced in the settings and this
    check stands in for it: an error when no CSRF middleware at all is installed."""
    from django.middleware.csrf import CsrfViewMiddleware
    from django.utils.module_loading import import_string

    if any(
        isinstance(import_string(path), type)
        and issubclass(import_string(path), CsrfViewMiddleware)
        for path in settings.MIDDLEWARE
    ):
        return []
    return [Error("No CSRF middleware is installed.", id="viztube.E002")]


def require_secret_key():
    """Called by the WSGI/ASGI entry points: never serve on a throwaway key."""
    if settings.SECRET_KEY_MISSING:
        raise ImproperlyConfigured(UNCONFIGURED_SIGNING_MESSAGE)
