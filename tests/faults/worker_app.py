"""``celery -A tests.faults.worker_app worker``: the project's Celery app, with the broker's
visibility timeout taken from ``TEST_VISIBILITY_TIMEOUT`` (seconds), so that a test sees a task
whose worker was killed delivered again within seconds instead of an hour. The worker also looks
for such tasks every second (kombu's Redis transport looks every 10 x 10 s by default)."""

import os

from viztube.celery import app

timeout = os.environ.get("TEST_VISIBILITY_TIMEOUT")
if timeout:
    app.conf.broker_transport_options = {
        **app.conf.broker_transport_options,
        "visibility_timeout": int(timeout),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }

__all__ = ["app"]
