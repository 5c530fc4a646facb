"""The Celery application: background tasks and the periodic schedule.

Configured from Django's settings (every ``CELERY_*`` setting, see the "Background tasks"
section of viztube/settings.py). Each app keeps its tasks in its own ``tasks.py``, found by
``autodiscover_tasks``. ``celery -A viztube worker`` runs them and ``celery -A viztube beat``
sends the periodic ones (``CELERY_BEAT_SCHEDULE``). Without a broker nothing has to be started:
tasks run inline where they are enqueued, and the periodic ones in the web processes
(viztube/periodic.py).
"""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "viztube.settings")

app = Celery("viztube")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

NO_BROKER_MESSAGE = (
    "No broker: set REDIS_URL (the queue then uses its server's database 1) or "
    "CELERY_BROKER_URL. Without one, tasks run inside the web processes and no worker or beat "
    "is needed."
)


@signals.worker_init.connect
@signals.beat_init.connect
def _refuse_to_start_without_a_broker(**kwargs):
    # Without a broker the settings point Celery at an in-memory transport, which a worker or
    # beat in a process of its own would serve to nobody. SystemExit, because Celery logs and
    # ignores an ordinary exception raised by a signal handler.
    if app.conf.task_always_eager:
        raise SystemExit(NO_BROKER_MESSAGE)
