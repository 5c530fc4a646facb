"""The periodic work: one beat schedule (CELERY_BEAT_SCHEDULE) that `celery beat` sends to the
workers, or, without a broker, that each web process runs in a thread (viztube.periodic)."""

import io
import logging
import os
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from celery.schedules import crontab
from django.core.management import call_command

from viztube import periodic
from viztube.celery import app


def test_the_schedule_is_the_six_periodic_tasks_each_in_its_app(settings):
    schedule = {entry.name: entry for entry in periodic.entries()}

    assert {name: entry.task for name, entry in schedule.items()} == {
        "publish-scheduled-videos": "videos.tasks.publish_due_videos",
        "fail-stuck-videos": "videos.tasks.fail_stuck_videos",
        "sweep-upload-temp": "media.tasks.sweep_upload_temp",
        "expire-upload-sessions": "media.tasks.expire_upload_sessions",
        "flush-expired-tokens": "accounts.tasks.flush_expired_tokens",
        "report-orphan-media": "ops.tasks.report_orphan_media",
    }
    for entry in schedule.values():
        assert periodic.task_named(entry.task).name == entry.task
    assert schedule["publish-scheduled-videos"].schedule.run_every == timedelta(
        seconds=settings.SCHEDULED_PUBLISHING_SECONDS
    )
    assert schedule["fail-stuck-videos"].schedule.run_every == timedelta(minutes=5)
    assert schedule["sweep-upload-temp"].schedule.run_every == timedelta(minutes=15)
    assert schedule["expire-upload-sessions"].schedule.run_every == timedelta(minutes=15)
    assert schedule["flush-expired-tokens"].schedule == crontab(minute=30, hour=3)
    assert schedule["report-orphan-media"].schedule == crontab(minute=0, hour=4, day_of_week="mon")


def test_tasks_are_json_only_acknowledged_late_and_time_limited():
    conf = app.conf
    assert (conf.task_serializer, conf.accept_content) == ("json", ["json"])
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    # The suite runs without a broker, as `make run` does: tasks run inline.
    assert conf.task_always_eager
    assert conf.broker_url.startswith("memory://")


def test_the_thread_starts_only_without_a_broker(settings, monkeypatch):
    ran = threading.Event()
    monkeypatch.setattr(periodic, "run_forever", lambda tick_seconds: ran.set())
    monkeypatch.setattr(periodic, "_started_in_pid", None)

    settings.CELERY_TASK_ALWAYS_EAGER = False  # a broker: celery beat runs the schedule
    assert periodic.start_in_process() is False
    assert not ran.is_set()

    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert periodic.start_in_process() is True
    assert ran.wait(5)
    assert periodic._started_in_pid == os.getpid()


def test_the_runner_runs_what_is_due_and_goes_on_after_a_failure(settings, caplog):
    uploads = Path(settings.FILE_UPLOAD_TEMP_DIR)
    leftover = uploads / "tmpabc.upload.mp4"
    leftover.write_bytes(b"x")
    long_ago = time.time() - 7200
    os.utime(leftover, (long_ago, long_ago))
    schedule = {
        "broken": {"task": "media.tasks.delete_media", "schedule": 0.05, "args": ["nowhere", "x"]},
        "sweep": {"task": "media.tasks.sweep_upload_temp", "schedule": 0.05},
        "yearly": {
            "task": "ops.tasks.report_orphan_media",
            "schedule": crontab(minute=0, hour=0, day_of_month=1, month_of_year=1),
        },
    }
    stop = threading.Event()
    runner = threading.Thread(target=periodic.run_forever, args=(0.01, stop, schedule))

    def failures():
        return [r for r in caplog.records if r.getMessage().startswith("Periodic task broken")]

    with caplog.at_level(logging.INFO):
        runner.start()
        try:
            deadline = time.monotonic() + 10
            while (leftover.exists() or len(failures()) < 2) and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            stop.set()
            runner.join()

    assert not leftover.exists()
    assert len(failures()) >= 2  # failed, and was run again at its next turn
    assert not any("Media reconciliation" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_run_periodic_jobs_runs_every_task_of_the_schedule_once():
    out = io.StringIO()

    call_command("run_periodic_jobs", stdout=out)

    assert out.getvalue().splitlines() == [
        "publish-scheduled-videos: 0",
        "fail-stuck-videos: 0",
        "sweep-upload-temp: {'removed': 0, 'failed': 0, 'kept': 0}",
        "expire-upload-sessions: 0",
        "flush-expired-tokens: done",
        "report-orphan-media: True",
    ]
