"""A real Celery worker (``celery -A viztube worker``, a process of its own) on the real Redis
broker: the deletions a request enqueues after its commit run there, a failed one is retried
with its backoff until the fake Cloudinary recovers, and nothing is left behind.

Redis database 8 is this module's queue (emptied before and after). The fake Cloudinary runs in
the test process; the worker reaches it through ``CLOUDINARY_URL``, as a deployed worker reaches
Cloudinary.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis

from tests.videos.conftest import publish, video_url

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
BROKER_URL = "redis://127.0.0.1:6379/8"
READY_SECONDS = 60
# The retries of one outage call wait up to 1 s, 2 s and 4 s: well within this.
DONE_SECONDS = 60
OUTAGE_CALLS = 3


class Worker:
    """``celery -A viztube worker`` in a subprocess; its log lines are collected as they come."""

    def __init__(self, environment, app="viztube"):
        celery = Path(sys.executable).with_name("celery")
        self.process = subprocess.Popen(
            [
                str(celery),
                "-A",
                app,
                "worker",
                "-l",
                "info",
                "-c",
                "1",
                "-n",
                f"test-{os.getpid()}@%h",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=REPO,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # A process group of its own: the worker and its pool can be killed together.
            start_new_session=True,
        )
        self.lines = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def log(self):
        return "\n".join(self.lines)

    def count(self, text):
        return sum(text in line for line in self.lines)

    def wait_for(self, text, seconds, times=1):
        """Whether ``text`` appeared in ``times`` log lines within ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.process.poll() is None:
            if self.count(text) >= times:
                return True
            time.sleep(0.05)
        return self.count(text) >= times

    def kill(self):
        """SIGKILL the worker and its pool at once, as the OOM killer or a lost machine would:
        no warm shutdown, nothing acknowledged or handed back."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._reader.join(timeout=5)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()  # Celery's warm shutdown
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._reader.join(timeout=5)


@pytest.fixture
def queue():
    client = redis.Redis.from_url(BROKER_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def worker(queue, fake_cloudinary):
    environment = {
        **os.environ,
        "CELERY_BROKER_URL": BROKER_URL,
        "CLOUDINARY_URL": fake_cloudinary.cloudinary_url,
        "DEBUG": "0",
        "PYTHONUNBUFFERED": "1",
    }
    # CLOUDINARY_URL alone, as a deployment sets it: the SDK reads the CLOUDINARY_CLOUD_NAME
    # family (which the fake's session fixture sets for this process) before it.
    for name in (
        "REDIS_URL",
        "CLOUDINARY_CLOUD_NAME",
        "CLOUDINARY_API_KEY",
        "CLOUDINARY_API_SECRET",
    ):
        environment.pop(name, None)
    started = time.monotonic()
    process = Worker(environment)
    try:
        assert process.wait_for(" ready.", READY_SECONDS), process.log
        process.started_in = time.monotonic() - started
        yield process
    finally:
        process.stop()


def test_deletions_enqueued_by_a_request_run_in_the_worker_and_outlast_an_outage(
    worker, fake_cloudinary, auth_client, celery_broker, django_capture_on_commit_callbacks
):
    published = publish(auth_client)
    assert published.status_code == 201
    assert len(fake_cloudinary.public_ids()) == 2
    celery_broker(BROKER_URL)  # this process enqueues; it no longer runs tasks itself
    for n in range(1, OUTAGE_CALLS + 1):
        fake_cloudinary.fail_destroy(n)

    enqueued_at = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.delete(video_url(published.json()["data"]["id"]))
    assert response.status_code == 200

    deadline = time.monotonic() + DONE_SECONDS
    while fake_cloudinary.public_ids() and time.monotonic() < deadline:
        time.sleep(0.05)
    took = time.monotonic() - enqueued_at

    assert fake_cloudinary.public_ids() == [], worker.log
    statuses = [destroy.status for destroy in fake_cloudinary.destroys]
    assert statuses.count(500) == OUTAGE_CALLS
    assert statuses.count(200) == 2
    # Run by the worker (this process only enqueues): each file's task succeeded there, after
    # the outage's failed attempts were retried there.
    assert worker.wait_for("] succeeded in ", 5, times=2), worker.log
    runs = [line for line in worker.lines if "Task media.tasks.delete_media[" in line]
    assert sum(" retry: Retry in " in line for line in runs) == OUTAGE_CALLS, worker.log
    assert sum(" succeeded in " in line for line in runs) == 2, worker.log
    print(f"worker ready in {worker.started_in:.1f} s; files gone {took:.1f} s after the request")


def test_a_worker_without_a_broker_refuses_to_start():
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"REDIS_URL", "CELERY_BROKER_URL"}
    }
    celery = Path(sys.executable).with_name("celery")

    result = subprocess.run(
        [str(celery), "-A", "viztube", "worker", "-l", "info"],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert "No broker: set REDIS_URL" in result.stderr
