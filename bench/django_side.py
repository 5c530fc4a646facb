"""The benchmark's in-process side: facts about the data set, SQL counts, profiles.

Run by bench/run.py with the server's environment (``python -m bench.django_side <command>``),
never imported by it: the harness itself stays free of Django. Usable by hand too, e.g. to see
where one endpoint spends its time (same environment variables as the server; see
docs/benchmark.md):

    python -m bench.django_side profile videos_search --requests 30

Commands print one JSON document on stdout (``profile`` prints a readable report).
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "viztube.settings")

import django  # noqa: E402

django.setup()

import logging  # noqa: E402

# The access log lines of the requests made here go to stderr: stdout holds the command's JSON.
for _handler in logging.getLogger("viztube.access").handlers:
    if isinstance(_handler, logging.StreamHandler):
        _handler.setStream(sys.stderr)

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, TextField  # noqa: E402
from django.db.models.functions import MD5, Cast  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402

from bench.endpoints import ENDPOINTS_BY_KEY, expand_paths  # noqa: E402
from videos.models import Video  # noqa: E402

User = get_user_model()
HOST = "127.0.0.1"


def _summary(path):
    try:
        return json.loads(Path(path).read_text())
    except (FileNotFoundError, ValueError):
        return {}


def _search_word_fallback():
    """A title word in ~1% of published titles, when the seed summary does not name one."""
    counts, total = {}, 0
    for title in Video.objects.filter(visibility="public").values_list("title", flat=True)[:20000]:
        total += 1
        for word in {w.lower() for w in title.split() if w.isalpha() and len(w) > 3}:
            counts[word] = counts.get(word, 0) + 1
    if not counts:
        return "video"
    return min(counts, key=lambda word: (abs(counts[word] / total - 0.01), word))


def facts(args):
    """Who and what the benchmark requests: from the seed summary, else from the database.

    Ids are picked in a fixed pseudo-random order (md5 of the id), so they spread over the whole
    table and are the same on every run. The viewer never owns them: an owner's own views are not
    counted, and the benchmark measures counted views.
    """
    summary = _summary(args.summary)
    big_channel = (summary.get("big_channel") or {}).get("username")
    if not big_channel:
        owner_id = (
            Video.objects.values("owner")
            .order_by()
            .annotate(n=Count("id"))
            .order_by("-n")
            .values_list("owner", flat=True)
            .first()
        )
        big_channel = User.objects.get(pk=owner_id).username
    # The seeding names the viewer it subscribed to ~1,000 channels (the feed's reader); without
    # that (an older summary), the first user by username.
    viewer_name = (summary.get("feed_viewer") or {}).get("username")
    viewers = User.objects.filter(is_active=True, is_staff=False).exclude(username=big_channel)
    if viewer_name:
        viewers = viewers.filter(username=viewer_name)
    viewer = viewers.order_by("username").first()
    published = (
        Video.objects.filter(visibility="public")
        .exclude(owner=viewer)
        .order_by(MD5(Cast("id", TextField())))
        .values_list("id", flat=True)
    )
    picked = [str(pk) for pk in published[: args.ids * 2]]
    # Two disjoint sets (views, likes); a small data set shares what it has between them.
    half = min(args.ids, len(picked) // 2)
    most_commented = (summary.get("most_commented_video") or {}).get("id") or str(
        Video.objects.filter(visibility="public")
        .order_by("-comments_count", "id")
        .values_list("id", flat=True)
        .first()
    )
    search_word = (summary.get("search_word") or {}).get("word") or _search_word_fallback()
    password = summary.get("demo_password")
    if not password:
        try:
            from ops.seeding import DEMO_PASSWORD as password
        except ImportError:
            password = os.environ.get("BENCH_PASSWORD", "")
    # The bench's own cache database starts empty: no view de-duplication or throttle state
    # left over from an earlier run.
    cache.clear()
    return {
        "big_channel": big_channel,
        "viewer": viewer.username,
        "password": password,
        "video_ids": picked[:half],
        "like_ids": picked[half : half * 2],
        "most_commented_video": most_commented,
        "search_word": search_word,
        "counts": summary.get("counts")
        or {
            "users": User.objects.count(),
            "videos": Video.objects.count(),
        },
    }


def _access_token(username):
    return str(RefreshToken.for_user(User.objects.get(username=username)).access_token)


def tokens(args):
    """Access tokens of ``--count`` active ordinary users other than ``--exclude`` (in username
    order): callers of their own, e.g. one per uploading client."""
    users = (
        User.objects.filter(is_active=True, is_staff=False)
        .exclude(username__in=args.exclude)
        .order_by("username")[: args.count]
    )
    found = {user.username: str(RefreshToken.for_user(user).access_token) for user in users}
    if len(found) < args.count:
        raise SystemExit(f"the data set has {len(found)} such users, {args.count} needed")
    return found


def _request(client, method, path, token):
    return client.generic(method, path, HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST=HOST)


def _plan(context, keys):
    tokens = {
        "viewer": _access_token(context["viewer"]),
        "channel": _access_token(context["big_channel"]),
    }
    for key in keys:
        endpoint = ENDPOINTS_BY_KEY[key]
        paths = expand_paths(endpoint.path, context)
        probe = (
            expand_paths(endpoint.page_size_probe, context)[0] if endpoint.page_size_probe else None
        )
        yield endpoint, paths, probe, tokens[endpoint.caller]


def queries(args):
    """SQL statements per request, counted in-process (Django test Client) against the bench DB.

    Each endpoint is requested twice in a row (for rotating endpoints, the same id twice): the
    first view of a video is counted and the second is de-duplicated, the like toggle likes then
    unlikes (so the data is left as it was); both counts are reported. A bigger page (limit=100)
    shows whether the count grows with the page size. One healthcheck first, so that connection
    set-up is not charged to the first endpoint.
    """
    context = json.loads(Path(args.context).read_text())
    client = Client()
    client.get("/api/v1/healthcheck", HTTP_HOST=HOST)
    out = {}
    for endpoint, paths, probe, token in _plan(context, args.endpoints):
        counts, statuses, sql = [], [], []
        for _ in range(2):
            with CaptureQueriesContext(connection) as captured:
                response = _request(client, endpoint.method, paths[-1], token)
            counts.append(len(captured.captured_queries))
            statuses.append(response.status_code)
            sql = sql or [q["sql"] for q in captured.captured_queries]
        row = {"counts": counts, "statuses": statuses, "sql": sql}
        if probe:
            # Counted as above (the larger of two requests), so that a page built on a cache
            # miss is compared with a page built on a cache miss.
            probe_counts = []
            for _ in range(2):
                with CaptureQueriesContext(connection) as captured:
                    response = _request(client, endpoint.method, probe, token)
                probe_counts.append(len(captured.captured_queries))
            row["page_size_probe"] = max(probe_counts)
            row["page_size_probe_status"] = response.status_code
        out[endpoint.key] = row
    return out


def _explain(sql_list):
    """EXPLAIN ANALYZE of each read; writes are shown, not executed twice."""
    report = []
    with connection.cursor() as cursor:
        for sql in sql_list:
            if not sql.lstrip().upper().startswith("SELECT"):
                report.append(("(write, not explained)", sql, []))
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = [row[0] for row in cursor.fetchall()]
            took = next((line for line in reversed(plan) if "Execution Time" in line), "")
            report.append((took.strip(), sql, plan))
    return report


def profile(args):
    """Where one endpoint's time goes: wall time, cProfile of N requests, EXPLAIN ANALYZE."""
    context = json.loads(Path(args.context).read_text())
    endpoint, paths, _probe, token = next(_plan(context, [args.endpoint]))
    client = Client()
    client.get("/api/v1/healthcheck", HTTP_HOST=HOST)
    _request(client, endpoint.method, paths[0], token)
    with CaptureQueriesContext(connection) as captured:
        response = _request(client, endpoint.method, paths[0], token)
    # Copied now: the next request's request_started signal empties Django's query log.
    captured = list(captured.captured_queries)
    sql_time = sum(float(q["time"]) for q in captured)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for index in range(args.requests):
        _request(client, endpoint.method, paths[index % len(paths)], token)
    profiler.disable()
    per_request_ms = (time.perf_counter() - started) * 1000 / args.requests
    out = io.StringIO()
    out.write(
        f"# {endpoint.label}: HTTP {response.status_code}, "
        f"{len(captured)} queries ({sql_time * 1000:.1f} ms of SQL "
        f"as seen by Django), {per_request_ms:.1f} ms per request under cProfile\n\n"
    )
    for took, sql, plan in _explain([q["sql"] for q in captured]):
        out.write(f"## {took}\n{sql}\n")
        out.write("".join(f"    {line}\n" for line in plan[: args.plan_lines]) + "\n")
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)
    return out.getvalue()


def instructions(args):
    """The request loop that bench/instructions.py runs under callgrind: per endpoint, warm-up
    requests, a marker, the measured requests, a marker. A marker is a call of ``os.getppid``,
    before which callgrind dumps its counts (``--dump-before=os_getppid``), so every measured
    stretch lands in a dump of its own."""
    context = json.loads(Path(args.context).read_text())
    client = Client()
    client.get("/api/v1/healthcheck", HTTP_HOST=HOST)
    statuses = {}
    for endpoint, paths, _probe, token in _plan(context, args.endpoints):
        for index in range(args.warmup):
            _request(client, endpoint.method, paths[index % len(paths)], token)
        os.getppid()
        codes = set()
        for index in range(args.warmup, args.warmup + args.requests):
            response = _request(client, endpoint.method, paths[index % len(paths)], token)
            codes.add(response.status_code)
        os.getppid()
        statuses[endpoint.key] = sorted(codes)
    return statuses


def main():
    parser = argparse.ArgumentParser(prog="python -m bench.django_side")
    commands = parser.add_subparsers(dest="command", required=True)
    facts_parser = commands.add_parser("facts")
    facts_parser.add_argument("--summary", required=True, help="seed_demo --summary-json output")
    facts_parser.add_argument("--ids", type=int, default=1000)
    queries_parser = commands.add_parser("queries")
    queries_parser.add_argument("--context", default=str(REPO / "var/bench/context.json"))
    queries_parser.add_argument("endpoints", nargs="+", choices=sorted(ENDPOINTS_BY_KEY))
    profile_parser = commands.add_parser("profile")
    profile_parser.add_argument("endpoint", choices=sorted(ENDPOINTS_BY_KEY))
    profile_parser.add_argument("--context", default=str(REPO / "var/bench/context.json"))
    profile_parser.add_argument("--requests", type=int, default=30)
    profile_parser.add_argument("--top", type=int, default=25)
    profile_parser.add_argument("--plan-lines", type=int, default=40)
    instructions_parser = commands.add_parser("instructions")
    instructions_parser.add_argument("--context", default=str(REPO / "var/bench/context.json"))
    instructions_parser.add_argument("--warmup", type=int, default=10)
    instructions_parser.add_argument("--requests", type=int, default=30)
    instructions_parser.add_argument("endpoints", nargs="+", choices=sorted(ENDPOINTS_BY_KEY))
    tokens_parser = commands.add_parser("tokens")
    tokens_parser.add_argument("--count", type=int, required=True)
    tokens_parser.add_argument("--exclude", nargs="*", default=[])
    args = parser.parse_args()
    if args.command == "tokens":
        sys.stdout.write(json.dumps(tokens(args)) + "\n")
        return
    if args.command == "instructions":
        sys.stdout.write(json.dumps(instructions(args)) + "\n")
        return
    if args.command == "profile":
        sys.stdout.write(profile(args))
        return
    result = facts(args) if args.command == "facts" else queries(args)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
