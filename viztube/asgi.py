"""The ASGI entry point: `make run` (daphne's runserver) and the WebSocket server of production
(`daphne viztube.asgi:application`). HTTP goes to Django as under gunicorn; ``/ws/...`` to the
consumers of ``settings.WEBSOCKET_URLCONF`` (viztube/routing.py)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "viztube.settings")

from viztube.checks import require_secret_key
from viztube.routing import application

require_secret_key()

from viztube import periodic  # noqa: E402

# Without a broker the periodic tasks run in the serving processes (viztube/periodic.py): this
# one is `make run`'s only process. With a broker (production) celery beat runs them instead.
periodic.start_in_process()

__all__ = ["application"]
