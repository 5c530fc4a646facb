"""The benchmark's table (bench/report.py) for a route the original did not have."""

from bench.endpoints import ENDPOINTS_BY_KEY, NEW
from bench.report import render_table, target_for, verdicts


def _row(**overrides):
    row = {
        "requests_per_sec": 120.0,
        "p50_ms": 30.0,
        "p99_ms": 60.0,
        "requests": 5400,
        "non_2xx": 0,
        "socket_errors": 0,
        "single_p50_ms": 9.5,
        "sql": 3,
        "sql_page_size_probe": 3,
        "server_cpu_share": 0.98,
        "requests_per_server_cpu_second": 122.0,
    }
    return {**row, **overrides}


def test_the_feed_has_no_original_figures_and_no_throughput_target():
    feed = ENDPOINTS_BY_KEY["feed"]

    assert (feed.kind, feed.original) == (NEW, None)
    assert target_for(feed) == (None, None)
    assert verdicts({"feed": _row()}) == {"feed": (True, "met")}


def test_its_other_checks_still_apply():
    judged = verdicts({"feed": _row(sql_page_size_probe=5, non_2xx=2)})

    assert judged["feed"] == (False, "non-2xx/errors; SQL grows with page size (3 -> 5)")


def test_its_row_shows_dashes_where_the_original_would_be():
    table = render_table({"feed": _row(), "comments": _row()}, {}, {})
    feed_line, comments_line = table.splitlines()[2:4]

    assert feed_line == (
        "| GET /feed (1,000 subscriptions, signed in) | 120 | - | - | 30.0 (-) | 60.0 (-) "
        "| 9.50 (-) | 3 (3 @100) | 0 | 98% | 122 | met |"
    )
    assert comments_line.startswith("| GET /comments/<most commented video> | 120 | 892 | 0.1x |")
    skipped = render_table({"feed": {"skipped": "HTTP 500"}}, {}, {}).splitlines()[2]
    assert skipped.endswith("| - | skipped: HTTP 500 |")
    assert skipped.count("|") == table.splitlines()[0].count("|")
