"""Notification fan-out: a channel with 100,000 subscribers publishes a video. Prints figures;
it is not a test.

    .venv/bin/python bench/notifications_fanout.py [--subscribers 100000] [--runs 3]

What it measures, with gunicorn as in production (gunicorn.conf.py, pinned to CPU 0) and a real
Celery worker (``celery -A viztube worker``, one process) on Redis (database 12, or
``NOTIF_BENCH_BROKER_URL``, emptied at the start):

1. the publish request (``POST /videos``, multipart, a 1-second MP4 and a PNG thumbnail, public
   at once) of a channel with no subscriber, then of one with ``--subscribers``: the median of
   ``--runs`` requests each. The fan-out is a task enqueued after the commit, so both should
   answer in the same time;
2. for each publish of the large channel, the time from the request's start until every
   subscriber has the notification (polled every 50 ms); the target is 60 s;
3. the unread count of a user with ``--subscribers`` unread notifications (the large channel,
   one ``channelSubscribed`` from each subscriber): the capped count the API answers, an exact
   ``COUNT(*)``, and what an exact counter column would cost instead (its read, and the extra
   ``UPDATE`` each fan-out batch would have to make); and ``GET /notifications`` over HTTP for
   that user.

The database is one of its own (``viztube_notif_bench``, or ``NOTIF_BENCH_DATABASE_URL``),
created, migrated and filled on the first run (about a minute) and reused after; the
notifications of earlier runs are deleted at the start. Linux only.
"""

import argparse
import contextlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.run import (  # noqa: E402
    PYTHON,
    BenchError,
    Server,
    ensure_database,
    free_port,
    http_request,
    log,
    manage,
    server_env,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/viztube_notif_bench"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/12"
CELERY = REPO / ".venv" / "bin" / "celery"
TARGET_SECONDS = 60
WARM_UP = 6
SETTLE_SECONDS = 3
BIG, EMPTY = "bench_big_channel", "bench_empty_channel"
SAMPLE_VIDEO = REPO / "tests" / "media" / "sample.mp4"


def _multipart(fields, files):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, (filename, content_type, data) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _png():
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (16, 9), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def publish(base_url, token, title):
    """``POST /videos``: (seconds, video id)."""
    body, content_type = _multipart(
        {"title": title},
        {
            "videoFile": ("sample.mp4", "video/mp4", SAMPLE_VIDEO.read_bytes()),
            "thumbnail": ("thumb.png", "image/png", _png()),
        },
    )
    request = urllib.request.Request(base_url + "/api/v1/videos", data=body, method="POST")  # noqa: S310
    request.add_header("Content-Type", content_type)
    request.add_header("Authorization", f"Bearer {token}")
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback)
        answer = json.loads(response.read())
    elapsed = time.perf_counter() - started
    if answer.get("statusCode") != 201:
        raise BenchError(f"publish failed: {answer}")
    return elapsed, answer["data"]["id"], started


# --- The data set (in this process: Django on the benchmark's database) ------------------------


def _django(env):
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "viztube.settings")
    import django

    django.setup()


def fill(subscribers):
    """The two channels, ``subscribers`` users subscribed to the large one, and the large
    channel's ``channelSubscribed`` notifications (one per subscriber, unread); made once."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from social.models import Subscription

    user_model = get_user_model()
    big = user_model.objects.filter(username=BIG).first()
    if big is not None and big.subscribers_count == subscribers:
        return big, user_model.objects.get(username=EMPTY)
    log(f"creating {subscribers:,} subscribers (once)")
    with transaction.atomic():
        user_model.objects.filter(username__in=[BIG, EMPTY]).delete()
        user_model.objects.filter(username__startswith="bench_fan_").delete()
        big = user_model.objects.create_user(BIG, f"{BIG}@example.com", None, fullname="Big")
        empty = user_model.objects.create_user(
            EMPTY, f"{EMPTY}@example.com", None, fullname="Empty"
        )
        for start in range(0, subscribers, 10_000):
            fans = user_model.objects.bulk_create(
                user_model(
                    username=f"bench_fan_{n}",
                    email=f"bench_fan_{n}@example.com",
                    fullname=f"Fan {n}",
                    password="!",  # noqa: S106 (unusable: nobody signs in as a fan)
                    subscriptions_count=1,
                )
                for n in range(start, min(start + 10_000, subscribers))
            )
            Subscription.objects.bulk_create(
                Subscription(subscriber=fan, channel=big) for fan in fans
            )
        user_model.objects.filter(pk=big.pk).update(subscribers_count=subscribers)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    big.refresh_from_db()
    return big, empty


def reset_notifications(big, subscribers):
    """No notification but the large channel's ``subscribers`` unread ``channelSubscribed``."""
    from django.db import connection

    from notifications.models import Notification
    from notifications.services import _UUID7_SQL

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Notification._meta.db_table}")
        cursor.execute(
            f"INSERT INTO {Notification._meta.db_table} "  # noqa: S608
            "(id, recipient_id, type, actor_id, is_read, created_at) "
            f"SELECT {_UUID7_SQL}, channel_id, 'channelSubscribed', subscriber_id, false, "
            "created_at FROM social_subscription WHERE channel_id = %s",
            [big.pk],
        )
        cursor.execute("VACUUM ANALYZE")
    count = Notification.objects.filter(recipient=big, is_read=False).count()
    if count != subscribers:
        raise BenchError(f"expected {subscribers} unread notifications, found {count}")


def notification_bytes():
    """Bytes per notification row, its indexes included."""
    from django.db import connection

    from notifications.models import Notification

    table = Notification._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute(
            f"SELECT pg_total_relation_size(%s), pg_relation_size(%s), count(*) FROM {table}",  # noqa: S608
            [table, table],
        )
        total, heap, rows = cursor.fetchone()
    return total / rows, heap / rows


def delete_seconds(video_id):
    """Seconds to delete the video ``video_id`` (as its owner's ``DELETE`` does, with its
    notifications); the notifications must be gone after."""
    from notifications.models import Notification
    from ops.deletion import videos_delete
    from videos.models import Video

    started = time.perf_counter()
    videos_delete(videos=Video.objects.filter(pk=video_id))
    elapsed = time.perf_counter() - started
    if Notification.objects.filter(video_id=video_id).exists():
        raise BenchError("the video's notifications outlived it")
    return elapsed


def delivered_for(video_id):
    from notifications.models import Notification

    return Notification.objects.filter(video_id=video_id).count()


def _timed(function, repeat):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def unread_count_figures(big, subscribers, repeat=30):
    """Median milliseconds of each way of answering ``unreadCount``."""
    from django.db import connection, transaction

    from notifications.models import Notification
    from notifications.selectors import unread_count

    capped = _timed(lambda: unread_count(user_id=big.pk), repeat)
    exact = _timed(
        lambda: Notification.objects.filter(recipient_id=big.pk, is_read=False).count(), repeat
    )
    # The counter alternative: a column per user, read by primary key; every delivery (and every
    # read-marking) moves it in the same transaction. Measured on a table of its own, so nothing
    # of the project's changes.
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_unread (user_id uuid PRIMARY KEY, n integer NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO bench_unread SELECT subscriber_id, 0 FROM social_subscription "
            "WHERE channel_id = %s",
            [big.pk],
        )
        cursor.execute("INSERT INTO bench_unread VALUES (%s, %s)", [big.pk, subscribers])
        cursor.execute("ANALYZE bench_unread")

    def read_counter():
        with connection.cursor() as cursor:
            cursor.execute("SELECT n FROM bench_unread WHERE user_id = %s", [big.pk])
            cursor.fetchone()

    counter_read = _timed(read_counter, repeat)
    ids = list(Notification.objects.filter(recipient=big).values_list("actor_id", flat=True)[:5000])

    def counter_batch():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE bench_unread SET n = n + 1 WHERE user_id = ANY(%s)", [ids])

    counter_batch_ms = _timed(counter_batch, 10)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_unread")
    return {
        "capped": capped,
        "exact": exact,
        "counter_read": counter_read,
        "counter_batch": counter_batch_ms,
    }


# --- The run -----------------------------------------------------------------------------------


def start_worker(env, folder):
    log_path = folder / "celery.log"
    with open(log_path, "wb") as output:
        process = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
            [
                str(CELERY),
                "-A",
                "viztube",
                "worker",
                "--concurrency",
                "1",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process, log_path


def stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def empty_broker(url):
    import redis

    redis.Redis.from_url(url).flushdb()


def run(args, folder):
    port = free_port()
    env = server_env(args.database_url, secrets.token_urlsafe(64), port)
    env.pop("REDIS_URL", None)  # local-memory cache: the one Redis database is the broker's
    env.update(
        CELERY_BROKER_URL=args.broker_url,
        MEDIA_ROOT=str(folder / "media"),
        FILE_UPLOAD_TEMP_DIR=str(folder / "uploads"),
    )
    (folder / "uploads").mkdir()
    ensure_database(args.database_url)
    manage(env, "migrate", "--noinput", "-v", "0", timeout=900)
    _django(env)
    from rest_framework_simplejwt.tokens import RefreshToken

    big, empty = fill(args.subscribers)
    reset_notifications(big, args.subscribers)
    tokens = {user.pk: str(RefreshToken.for_user(user).access_token) for user in (big, empty)}
    empty_broker(args.broker_url)

    server = Server(env, folder=folder)
    worker, worker_log = start_worker(env, folder)
    try:
        server.start()
        time.sleep(2)  # the worker connects to the broker
        # Publishes first, not counted: the first requests of each worker import and warm up.
        for warm_up in range(WARM_UP):
            publish(server.base_url, tokens[empty.pk], f"warm-up {warm_up}")
        quiet, loud, until_all = [], [], []
        # Interleaved, each after a pause: both kinds of publish meet the same machine (the
        # previous fan-out's aftermath, autovacuum of the new rows, included).
        for run_number in range(args.runs):
            time.sleep(SETTLE_SECONDS)
            seconds, _, _ = publish(server.base_url, tokens[empty.pk], f"quiet {run_number}")
            quiet.append(seconds * 1000)
            time.sleep(SETTLE_SECONDS)
            seconds, video_id, started = publish(
                server.base_url, tokens[big.pk], f"loud {run_number}"
            )
            loud.append(seconds * 1000)
            deadline = started + args.time_limit
            while (count := delivered_for(video_id)) < args.subscribers:
                if time.perf_counter() > deadline:
                    raise BenchError(
                        f"only {count:,} of {args.subscribers:,} notified after "
                        f"{args.time_limit} s; see {worker_log}"
                    )
                time.sleep(0.05)
            until_all.append(time.perf_counter() - started)
            log(f"run {run_number + 1}: {args.subscribers:,} notified in {until_all[-1]:.1f} s")
        size = notification_bytes()
        deleted = delete_seconds(video_id)
        figures = unread_count_figures(big, args.subscribers)
        list_times = []
        for _ in range(30):
            started = time.perf_counter()
            status, _ = http_request(
                server.base_url + "/api/v1/notifications?limit=20", token=tokens[big.pk]
            )
            list_times.append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise BenchError(f"GET /notifications answered {status}")
    finally:
        server.stop()
        stop(worker)

    print()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"Load average at the end (1, 5, 15 min; 2 CPUs): {load}")
    print(f"Publish request (POST /videos, multipart), median of {args.runs}:")
    print(f"  0 subscribers:       {statistics.median(quiet):7.1f} ms  (each: {_ms(quiet)})")
    print(
        f"  {args.subscribers:,} subscribers: {statistics.median(loud):7.1f} ms  "
        f"(each: {_ms(loud)})"
    )
    slowest = max(until_all)
    verdict = "OK" if slowest <= TARGET_SECONDS else "MISSED"
    print(
        f"Until every subscriber has the notification: {', '.join(f'{s:.1f}' for s in until_all)}"
        f" s ({args.subscribers / statistics.median(until_all):,.0f} notifications/s); "
        f"{verdict} (target: {TARGET_SECONDS} s)"
    )
    print(
        f"Storage: {size[0]:.0f} bytes per notification with its indexes "
        f"({size[1]:.0f} in the table itself)"
    )
    print(
        f"Deleting a video with {args.subscribers:,} notifications (its notifications with it): "
        f"{deleted * 1000:.0f} ms"
    )
    print(f"unreadCount of a user with {args.subscribers:,} unread notifications (median):")
    print(f"  capped count (what the API answers, 100 = '99+'): {figures['capped']:.2f} ms")
    print(f"  exact COUNT(*) over the partial index:           {figures['exact']:.2f} ms")
    print(f"  exact counter column, its read:                   {figures['counter_read']:.2f} ms")
    print(
        f"  exact counter column, its UPDATE per fan-out batch of 5,000: "
        f"{figures['counter_batch']:.1f} ms"
    )
    print(
        f"GET /notifications?limit=20 for that user over HTTP: median "
        f"{statistics.median(list_times):.1f} ms"
    )


def _ms(values):
    return ", ".join(f"{value:.1f}" for value in values)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--time-limit", type=int, default=180, help="seconds per fan-out")
    parser.add_argument(
        "--database-url", default=os.environ.get("NOTIF_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    parser.add_argument(
        "--broker-url", default=os.environ.get("NOTIF_BENCH_BROKER_URL", DEFAULT_BROKER_URL)
    )
    args = parser.parse_args(argv)
    if not PYTHON.exists() or not CELERY.exists():
        raise SystemExit("run `make install` first")
    with tempfile.TemporaryDirectory(prefix="notif-bench-") as folder:
        try:
            run(args, Path(folder))
        except BenchError as exc:
            raise SystemExit(f"notifications_fanout: {exc}") from None


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
