"""The wrk output parser of the benchmark (bench/wrk_output.py): pure text in, figures out.

Samples are real wrk 4.1.0 output (Debian), captured from runs of bench/wrk/rotate.lua.
"""

import pytest

from bench.report import summarise_passes
from bench.wrk_output import WrkOutputError, parse_wrk_output

WITH_LUA_SUMMARY = """\
Running 2s test @ http://127.0.0.1:8765
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    43.62ms    5.02ms  52.09ms   96.76%
    Req/Sec    45.12      6.37    60.00     92.68%
  Latency Distribution
     50%   43.96ms
     75%   44.00ms
     90%   44.23ms
     99%   51.76ms
  185 requests in 2.10s, 88.59KB read
Requests/sec:     88.11
Transfer/sec:     42.19KB
BENCH_STATUS 3xx=0 4xx=0 5xx=0
BENCH_LATENCY p50_us=43955 p99_us=51763 max_us=52092 requests=185 duration_us=2099682
"""

PLAIN_WITH_FAILURES = """\
Running 15s test @ http://127.0.0.1:8000/api/v1/videos
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.20s   310.00ms   2.00s    70.00%
    Req/Sec    12.00      4.00    20.00     60.00%
  Latency Distribution
     50%  850.00us
     75%    1.10s
     90%    1.60s
     99%    2.00s
  180 requests in 15.02s, 1.02MB read
  Socket errors: connect 0, read 1, write 0, timeout 7
  Non-2xx or 3xx responses: 22
Requests/sec:     11.98
Transfer/sec:     69.52KB
"""


def test_lua_summary_lines_give_exact_percentiles_and_status_counts():
    result = parse_wrk_output(WITH_LUA_SUMMARY)

    assert result.requests_per_sec == 88.11
    assert result.requests == 185
    # BENCH_LATENCY (microseconds) wins over the rounded "50%   43.96ms".
    assert result.p50_ms == 43.955
    assert result.p99_ms == 51.763
    assert (result.status_3xx, result.status_4xx, result.status_5xx) == (0, 0, 0)
    assert result.non_2xx_3xx == 0
    assert result.failures == 0


def test_plain_wrk_output_units_failures_and_socket_errors():
    result = parse_wrk_output(PLAIN_WITH_FAILURES)

    assert result.requests_per_sec == 11.98
    assert result.requests == 180
    assert result.p50_ms == pytest.approx(0.85)  # microseconds converted
    assert result.p99_ms == pytest.approx(2000.0)  # seconds converted
    assert result.non_2xx_3xx == 22
    assert (result.socket_errors, result.timeouts) == (8, 7)
    assert result.failures == 30
    assert result.status_4xx is None  # no Lua summary: unknown, not zero


def test_output_without_a_summary_is_an_error_not_zero_figures():
    with pytest.raises(WrkOutputError, match="unable to connect"):
        parse_wrk_output("unable to connect to 127.0.0.1:8000 Connection refused\n")
    without_latency = WITH_LUA_SUMMARY.split("  Latency Distribution")[0] + (
        "  185 requests in 2.10s, 88.59KB read\nRequests/sec:     88.11\n"
    )
    with pytest.raises(WrkOutputError, match="latency"):
        parse_wrk_output(without_latency)


def test_passes_are_summarised_by_their_medians_and_failures_add_up():
    passes = [
        parse_wrk_output(WITH_LUA_SUMMARY),
        parse_wrk_output(PLAIN_WITH_FAILURES),
        parse_wrk_output(WITH_LUA_SUMMARY.replace("88.11", "90.00")),
    ]

    summary = summarise_passes(passes)

    assert summary["requests_per_sec"] == 88.11
    assert summary["p50_ms"] == 43.955
    assert summary["non_2xx"] == 22
    assert summary["socket_errors"] == 8
