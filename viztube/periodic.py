"""Periodic jobs, run inside the web process.

Apps register their jobs in ``AppConfig.ready`` (``register``); this module knows none of them.
``start_in_process`` runs them from a daemon thread of each serving process: ``make run`` (the
development server loads ``viztube.wsgi``) and every gunicorn worker (``gunicorn.conf.py``
starts it after the fork: a thread started in the preloading master would not survive it).
``PERIODIC_JOBS_IN_PROCESS=false`` turns the thread off for deployments that run the jobs
elsewhere (``manage.py run_periodic_jobs``, from cron or a process of its own).

Several processes run the same job at about the same time, so every job must be safe to run
concurrently and repeatedly (claim rows with ``SKIP LOCKED``, change only what is still to
change). A job that fails is logged and tried again at its next tick; it never stops the others.
"""

import logging
import os
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    run: object  # a callable taking no argument


_jobs = {}
_started_in_pid = None
_start_lock = threading.Lock()


def register(name, *, every_seconds, run):
    """Add (or replace) the job ``name``: ``run()`` every ``every_seconds``."""
    _jobs[name] = Job(name=name, every_seconds=every_seconds, run=run)


def jobs():
    return list(_jobs.values())


def run_job(job):
    """Run ``job`` once; returns what it returned, or None when it failed (logged)."""
    try:
        return job.run()
    except Exception:
        logger.exception("Periodic job %s failed", job.name)
        return None


def run_forever(tick_seconds=1.0, stop=None):
    """Run every job at its interval, the first time at once, until the process ends (or the
    ``threading.Event`` ``stop`` is set)."""
    next_run = {}
    while stop is None or not stop.is_set():
        ran = False
        for job in jobs():
            if time.monotonic() >= next_run.get(job.name, 0):
                run_job(job)
                next_run[job.name] = time.monotonic() + job.every_seconds
                ran = True
        if ran:
            # This thread's connection is not kept between ticks: an idle one would go stale.
            connections.close_all()
        time.sleep(tick_seconds)


def start_in_process(tick_seconds=1.0):
    """Start the jobs' thread in this process, once per process; False when turned off."""
    global _started_in_pid
    if not settings.PERIODIC_JOBS_IN_PROCESS:
        return False
    with _start_lock:
        if _started_in_pid == os.getpid():
            return True
        _started_in_pid = os.getpid()
    thread = threading.Thread(
        target=run_forever, args=(tick_seconds,), name="viztube-periodic-jobs", daemon=True
    )
    thread.start()
    return True
