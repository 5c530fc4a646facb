"""Parse what wrk prints (stdlib only; unit-tested in tests/bench/test_wrk_parse.py).

wrk's human-readable summary is the contract: ``Requests/sec``, the ``--latency`` distribution, the
``Non-2xx or 3xx responses`` and ``Socket errors`` lines. Our Lua script (bench/wrk/rotate.lua) adds
``BENCH_*`` lines with exact microsecond percentiles and per-class status counts; when present they
win over the rounded figures of the human-readable summary.
"""

import re
from dataclasses import dataclass

_UNIT_TO_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}

_RPS = re.compile(r"^\s*Requests/sec:\s+([0-9.]+)\s*$", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in ([0-9.]+)(us|ms|s|m|h),", re.MULTILINE)
_PERCENTILE = re.compile(r"^\s*(50|75|90|99)(?:\.0+)?%\s+([0-9.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_NON_2XX = re.compile(r"^\s*Non-2xx or 3xx responses:\s+(\d+)\s*$", re.MULTILINE)
_SOCKET_ERRORS = re.compile(
    r"^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)\s*$", re.MULTILINE
)
_BENCH_LINE = re.compile(r"^BENCH_(\w+)\s+(.*)$", re.MULTILINE)


class WrkOutputError(ValueError):
    """wrk printed something we cannot read (it failed, or its format changed)."""


@dataclass(frozen=True)
class WrkResult:
    requests_per_sec: float
    requests: int
    p50_ms: float
    p99_ms: float
    non_2xx_3xx: int = 0
    socket_errors: int = 0
    timeouts: int = 0
    status_3xx: int | None = None
    status_4xx: int | None = None
    status_5xx: int | None = None

    @property
    def failures(self):
        """Responses that were not 2xx, plus requests that got no response at all."""
        return self.non_2xx_3xx + self.socket_errors


def _to_ms(value, unit):
    return float(value) * _UNIT_TO_MS[unit]


def _bench_fields(text):
    """``BENCH_LATENCY p50_us=123 p99_us=456`` → ``{"latency": {"p50_us": 123, ...}}``."""
    fields = {}
    for name, rest in _BENCH_LINE.findall(text):
        pairs = dict(item.split("=", 1) for item in rest.split() if "=" in item)
        fields[name.lower()] = {key: int(float(value)) for key, value in pairs.items()}
    return fields


def parse_wrk_output(text):
    """Read one wrk run's stdout into a WrkResult; raise WrkOutputError when it is not there."""
    rps = _RPS.search(text)
    total = _TOTAL.search(text)
    if not rps or not total:
        first_line = text.strip().splitlines()[0] if text.strip() else "(no output)"
        raise WrkOutputError(f"no wrk summary in the output: {first_line}")
    percentiles = {int(p): _to_ms(value, unit) for p, value, unit in _PERCENTILE.findall(text)}
    bench = _bench_fields(text)
    latency = bench.get("latency", {})
    if "p50_us" in latency and "p99_us" in latency:
        p50_ms, p99_ms = latency["p50_us"] / 1000, latency["p99_us"] / 1000
    elif 50 in percentiles and 99 in percentiles:
        p50_ms, p99_ms = percentiles[50], percentiles[99]
    else:
        raise WrkOutputError("no latency distribution in the output (was --latency given?)")
    non_2xx = _NON_2XX.search(text)
    socket = _SOCKET_ERRORS.search(text)
    socket_counts = [int(n) for n in socket.groups()] if socket else [0, 0, 0, 0]
    status = bench.get("status", {})
    return WrkResult(
        requests_per_sec=float(rps.group(1)),
        requests=int(total.group(1)),
        p50_ms=p50_ms,
        p99_ms=p99_ms,
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(socket_counts),
        timeouts=socket_counts[3],
        status_3xx=status.get("3xx"),
        status_4xx=status.get("4xx"),
        status_5xx=status.get("5xx"),
    )
