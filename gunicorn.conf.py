"""gunicorn settings for production (`gunicorn viztube.wsgi`). Override with GUNICORN_CMD_ARGS."""

import gc
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# Six threads: up to UPLOAD_CHUNKS_IN_FLIGHT (2) may be reading upload chunks, which take as long
# as the client takes to send them, and four are left for everything else, as many as a worker
# had before that cap (bench/upload_concurrency.py; docs/operations.md). Each thread keeps a
# PostgreSQL connection of its own (CONN_MAX_AGE): workers x threads per server.
threads = int(os.environ.get("GUNICORN_THREADS", "6"))
worker_class = "gthread"
# Large uploads arrive slowly; the proxy in front should cap the body size too.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so that slow leaks cannot grow without bound; rarely enough that
# a busy server does not spend its time re-importing the application.
max_requests = 100_000
max_requests_jitter = 10_000
# Import the application once in the master: workers start at once and share its memory pages.
# GUNICORN_PRELOAD=0 turns it off (each worker imports the application; the benchmark compares).
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"
# Heartbeat files in memory, not on a possibly slow disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
# Request lines up to gunicorn's own maximum reach the application, which answers a URI over
# viztube.middleware.MAX_URI_BYTES with a 414 in the JSON envelope; only a line over 8190 bytes
# gets gunicorn's plain 414.
limit_request_line = 8190
# No access log from gunicorn: the application writes one line per request itself, with its
# request id, for a fraction of the cost (ACCESS_LOG, viztube/middleware.py).
accesslog = None
errorlog = "-"


def pre_fork(server, worker):
    if not preload_app:
        return
    # Move everything the preloaded application allocated into the permanent generation: the
    # collector then never touches (and so never copies) those shared pages in the workers.
    gc.freeze()


def post_fork(server, worker):
    # Without a broker, the periodic tasks' thread, in each worker: a thread started in the
    # master does not survive the fork (viztube/periodic.py). With one, celery beat runs them.
    from viztube import periodic

    periodic.start_in_process()


def post_worker_init(worker):
    # Chunks of resumable uploads past UPLOAD_CHUNKS_IN_FLIGHT are refused so that a worker keeps
    # threads for every other request (viztube/middleware.py): a cap at or over the threads
    # leaves none, and slow uploads take the worker as they did without it.
    from django.conf import settings

    cap = settings.UPLOAD_CHUNKS_IN_FLIGHT
    if cap and cap >= worker.cfg.threads:
        worker.log.warning(
            "UPLOAD_CHUNKS_IN_FLIGHT=%d leaves none of this worker's %d threads to other "
            "requests while that many upload chunks arrive: keep it below GUNICORN_THREADS",
            cap,
            worker.cfg.threads,
        )
