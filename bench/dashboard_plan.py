"""How GET /dashboard/stats behaves on a big channel: query plans and timings (not a test).

Builds one channel with 10,000 videos and 100,000 likes of them (plus other channels, comment
likes and comments, so the tables are not that channel alone), then prints:

- ``EXPLAIN (ANALYZE, BUFFERS)`` of every query of ``dashboard.selectors.channel_stats`` and of
  the two queries of a ``/dashboard/videos`` page;
- the median (and p95) of 50 calls of the selector and of 50 requests to the endpoint;
- for comparison, the original's way of counting likes (a COUNT over the likes table joined to
  the channel's videos), which is what the counters spare every request.

Usage (PostgreSQL; the database named in DATABASE_URL is not touched: a throwaway database
``test_<name>`` is created on the same server with every migration applied, and dropped at the end
unless ``--keep``)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/viztube_bench .venv/bin/python bench/dashboard_plan.py
"""

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "viztube.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/viztube_bench")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789abcdef")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402

from dashboard.selectors import channel_stats, channel_videos  # noqa: E402
from social.counters import recount_videos  # noqa: E402
from social.models import Comment, Like  # noqa: E402
from videos.models import Video  # noqa: E402
from viztube.api.pagination import PageRequest, paginate  # noqa: E402

User = get_user_model()

CHANNEL_VIDEOS = 10_000
FANS = 1_000
LIKES_PER_FAN = 100  # 1,000 fans x 100 distinct videos = 100,000 likes of the channel's videos
OTHER_CHANNELS = 400
OTHER_VIDEOS = 40_000  # the channel holds 20% of all videos
OTHER_LIKES = 50_000
COMMENTS = 20_000
COMMENT_LIKES = 20_000
BATCH = 5_000
CALLS = 50


def bulk(model, rows):
    model.objects.bulk_create(rows, batch_size=BATCH)


def build():
    users = [
        User(username=f"bench{i}", email=f"bench{i}@example.com", fullname=f"Bench {i}")
        for i in range(1 + FANS + OTHER_CHANNELS)
    ]
    for user in users:
        user.set_unusable_password()
    bulk(User, users)
    channel, fans, others = users[0], users[1 : 1 + FANS], users[1 + FANS :]

    def video(owner, n, published=True):
        return Video(
            owner=owner,
            title=f"Video {n}",
            video_file=f"videos/{n}.mp4",
            thumbnail=f"thumbnails/{n}.png",
            duration=60.0,
            views=n % 997,
            visibility="public" if published else "private",
        )

    mine = [video(channel, n, published=n % 10 != 0) for n in range(CHANNEL_VIDEOS)]
    theirs = [video(others[n % OTHER_CHANNELS], CHANNEL_VIDEOS + n) for n in range(OTHER_VIDEOS)]
    bulk(Video, mine + theirs)

    # Fan i likes 100 distinct videos: i*7 + k*97 (mod 10,000) never repeats for k < 100.
    bulk(
        Like,
        [
            Like(user=fan, video=mine[(i * 7 + k * 97) % CHANNEL_VIDEOS])
            for i, fan in enumerate(fans)
            for k in range(LIKES_PER_FAN)
        ],
    )
    bulk(
        Like,
        [
            Like(user=fans[n % FANS], video=theirs[(n // FANS * 13 + n) % OTHER_VIDEOS])
            for n in range(OTHER_LIKES)
        ],
    )
    comments = [
        Comment(video=mine[n % CHANNEL_VIDEOS], author=fans[n % FANS], content=f"Comment {n}")
        for n in range(COMMENTS)
    ]
    bulk(Comment, comments)
    bulk(
        Like,
        [Like(user=fans[n % FANS], comment=comments[n]) for n in range(COMMENT_LIKES)],
    )
    with transaction.atomic():
        recount_videos(video_ids=Video.objects.values("pk"))
    User.objects.filter(pk=channel.pk).update(subscribers_count=FANS)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    channel.refresh_from_db()
    return channel


def explain(title, sql):
    print(f"\n--- EXPLAIN ANALYZE: {title}\n{sql}\n")
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        for (line,) in cursor.fetchall():
            print("   ", line)


def explain_queries(title, work):
    """Run ``work`` once, then EXPLAIN ANALYZE every statement it sent. The captured SQL has its
    parameters bound client-side by psycopg (properly quoted), so it is what the server ran."""
    with CaptureQueriesContext(connection) as captured:
        work()
    for number, query in enumerate(captured.captured_queries, 1):
        explain(f"{title}, query {number}", query["sql"])


def timed(title, work):
    work()  # warm-up: connection, caches, plans
    samples = []
    for _ in range(CALLS):
        start = time.perf_counter()
        work()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(f"{title}: median {statistics.median(samples):.2f} ms, p95 {p95:.2f} ms ({CALLS} calls)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database")
    args = parser.parse_args()

    old_name = connection.settings_dict["NAME"]
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    print(f"Throwaway database {test_name} (migrated); load average {os.getloadavg()}")
    # The test client builds the static files middleware; no collectstatic here, no matter.
    warnings.filterwarnings("ignore", message="No directory at")
    try:
        start = time.perf_counter()
        channel = build()
        print(
            f"Built in {time.perf_counter() - start:.1f} s: "
            f"{Video.objects.count():,} videos ({CHANNEL_VIDEOS:,} in the channel), "
            f"{Like.objects.count():,} likes "
            f"({Like.objects.filter(video__owner=channel).count():,} of the channel's videos), "
            f"{Comment.objects.count():,} comments"
        )
        print("Stats:", channel_stats(user=channel))
        original_likes = Like.objects.filter(video__owner=channel)
        assert channel_stats(user=channel)["totalLikes"] == original_likes.count()

        explain_queries("channel_stats (ours)", lambda: channel_stats(user=channel))
        explain_queries("original's totalLikes (COUNT of likes)", original_likes.count)
        page_request = PageRequest(page=1, limit=10)
        explain_queries(
            "/dashboard/videos page 1",
            lambda: paginate(channel_videos(user=channel), page_request),
        )

        print(f"\nLoad average before timing: {os.getloadavg()}")
        timed("channel_stats selector (ours)", lambda: channel_stats(user=channel))
        timed("original's like count alone", original_likes.count)
        client = APIClient(HTTP_HOST="localhost")
        access = RefreshToken.for_user(channel).access_token
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")

        def get_ok(path):
            # secure=True: production settings redirect plain HTTP to HTTPS.
            response = client.get(path, secure=True)
            assert response.status_code == 200, response.content

        timed(
            "GET /api/v1/dashboard/stats (whole request)", lambda: get_ok("/api/v1/dashboard/stats")
        )
        timed(
            "GET /api/v1/dashboard/videos (whole request)",
            lambda: get_ok("/api/v1/dashboard/videos"),
        )
    finally:
        if args.keep:
            print(f"Kept {test_name}")
        else:
            connection.creation.destroy_test_db(old_name, verbosity=0)
            print(f"Dropped {test_name}")


if __name__ == "__main__":
    main()
