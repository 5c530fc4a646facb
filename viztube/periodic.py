"""The periodic tasks, run inside the web processes when there is no broker.

The periodic work is one list: ``settings.CELERY_BEAT_SCHEDULE``. With a broker, ``celery beat``
sends those tasks to the workers and the web processes run none of them. Without one (``make
run``: no Redis, nothing else to start), ``start_in_process`` runs the same tasks, inline, from a
daemon thread of each serving process: the development server (it loads ``viztube.wsgi``) and
every gunicorn worker (``gunicorn.conf.py`` starts it after the fork: a thread started in the
preloading master would not survive it).

Each entry runs when its schedule says so, as beat would run it: an interval first elapses once
after start-up, a fixed time (``crontab``) waits for that time. Several processes run the same
task at about the same time, so every periodic task must be safe to run concurrently and
repeatedly (claim rows with ``SKIP LOCKED``, change only what is still to change). A task that
fails is logged and runs again when it is next due; it never stops the others.
"""

import logging
import os
import threading
import time
from dataclasses import dataclass

from celery.schedules import maybe_schedule
from django.conf import settings
from django.db import connections

from viztube.celery import app

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    """One entry of the beat schedule."""

    name: str
    task: str
    schedule: object  # a celery.schedules schedule (an interval, or a crontab)
    args: tuple = ()
    kwargs: dict | None = None


_started_in_pid = None
_start_lock = threading.Lock()


def entries(beat_schedule=None):
    """The entries of ``beat_schedule`` (default: ``settings.CELERY_BEAT_SCHEDULE``)."""
    beat_schedule = settings.CELERY_BEAT_SCHEDULE if beat_schedule is None else beat_schedule
    return [
        Entry(
            name=name,
            task=spec["task"],
            schedule=maybe_schedule(spec["schedule"], app=app),
            args=tuple(spec.get("args", ())),
            kwargs=dict(spec.get("kwargs", {})),
        )
        for name, spec in beat_schedule.items()
    ]


def task_named(name):
    """The registered task ``name``; the apps' ``tasks`` modules are imported on first use."""
    if name not in app.tasks:
        app.loader.import_default_modules()
    return app.tasks[name]


def run_entry(entry):
    """Run the entry's task once, inline; returns Celery's ``EagerResult`` (a failure is
    logged, never raised)."""
    result = task_named(entry.task).apply(args=entry.args, kwargs=entry.kwargs)
    if result.failed():
        logger.error("Periodic task %s (%s) failed: %r", entry.name, entry.task, result.result)
    return result


def run_forever(tick_seconds=1.0, stop=None, beat_schedule=None):
    """Run every entry whenever it is due, until the process ends (or the
    ``threading.Event`` ``stop`` is set)."""
    schedule = entries(beat_schedule)
    last_run = {entry.name: entry.schedule.now() for entry in schedule}
    while stop is None or not stop.is_set():
        ran = False
        for entry in schedule:
            due, _ = entry.schedule.is_due(last_run[entry.name])
            if due:
                last_run[entry.name] = entry.schedule.now()
                run_entry(entry)
                ran = True
        if ran:
            # This thread's connection is not kept between ticks: an idle one would go stale.
            connections.close_all()
        if stop is None:
            time.sleep(tick_seconds)
        else:
            stop.wait(tick_seconds)


def start_in_process(tick_seconds=1.0):
    """Start the periodic tasks' thread in this process, once per process. Only without a
    broker; with one, ``celery beat`` runs the schedule (returns False)."""
    global _started_in_pid
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        return False
    with _start_lock:
        if _started_in_pid == os.getpid():
            return True
        _started_in_pid = os.getpid()
    thread = threading.Thread(
        target=run_forever, args=(tick_seconds,), name="viztube-periodic-tasks", daemon=True
    )
    thread.start()
    return True
