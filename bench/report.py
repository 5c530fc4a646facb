"""Medians, the comparison with the original and the markdown table (pure; no I/O)."""

import statistics

from bench.endpoints import (
    DEEP_PAGE_MIN_RATIO,
    ENDPOINTS_BY_KEY,
    HEAVY,
    HEAVY_FACTOR,
    LIGHT_FACTOR,
    ORIGINAL_RSS_MB,
    RSS_LIMIT_MB,
)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarise_passes(passes):
    """Three (or N) measured WrkResults → the medians the table reports, and the failure count.

    Each figure is the median over passes on its own (the p99 of the median pass is not special).
    """
    return {
        "requests_per_sec": median([p.requests_per_sec for p in passes]),
        "p50_ms": median([p.p50_ms for p in passes]),
        "p99_ms": median([p.p99_ms for p in passes]),
        "requests": sum(p.requests for p in passes),
        "non_2xx": sum(p.non_2xx_3xx for p in passes),
        "socket_errors": sum(p.socket_errors for p in passes),
        "status_4xx": sum(p.status_4xx or 0 for p in passes),
        "status_5xx": sum(p.status_5xx or 0 for p in passes),
        "passes_requests_per_sec": [round(p.requests_per_sec, 1) for p in passes],
    }


def target_for(endpoint):
    """``(requests/s needed, factor)``; ``(None, None)`` for a route the original did not have."""
    if endpoint.original is None:
        return None, None
    factor = HEAVY_FACTOR if endpoint.kind == HEAVY else LIGHT_FACTOR
    return factor * endpoint.original.requests_per_sec, factor


def verdicts(results):
    """Per endpoint: (met?, why) for the throughput target, the SQL-constancy and failures."""
    out = {}
    for key, row in results.items():
        endpoint = ENDPOINTS_BY_KEY[key]
        problems = []
        if row.get("skipped"):
            out[key] = (False, row["skipped"])
            continue
        needed, factor = target_for(endpoint)
        if needed is not None and row["requests_per_sec"] < needed:
            problems.append(f"needs >= {needed:g} req/s ({factor:g}x)")
        if not row["requests"]:
            problems.append("no request completed within a pass")
        if row["non_2xx"] or row["socket_errors"] or row.get("single_failures"):
            problems.append("non-2xx/errors")
        sql, sql_big = row.get("sql"), row.get("sql_page_size_probe")
        if sql is not None and sql_big is not None and sql_big != sql:
            problems.append(f"SQL grows with page size ({sql} -> {sql_big})")
        out[key] = (not problems, "; ".join(problems) or "met")
    page1, page500 = results.get("videos_page1"), results.get("videos_page500")
    if (
        page1
        and page500
        and not page1.get("skipped")
        and not page500.get("skipped")
        and page1["requests_per_sec"] > 0
    ):
        ratio = page500["requests_per_sec"] / page1["requests_per_sec"]
        if ratio < DEEP_PAGE_MIN_RATIO:
            met, why = out["videos_page500"]
            why = f"slower than page 1 ({ratio:.2f}x)" if met else f"{why}; {ratio:.2f}x page 1"
            out["videos_page500"] = (False, why)
    return out


def _num(value, digits=1):
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.{digits}f}"


def _percent(share):
    return "-" if share is None else f"{share:.0%}"


def _original(original, figure, digits=1):
    return _num(getattr(original, figure), digits) if original else "-"


def render_table(results, rss, meta):
    """The markdown table: ours beside the original, ratio, SQL/request, failures. A route the
    original did not have shows "-" for its figures."""
    judged = verdicts(results)
    lines = [
        "| Endpoint | req/s | orig | x | p50 ms (orig) | p99 ms (orig) | 1-conn p50 ms (orig) "
        "| SQL/req | non-2xx | server CPU | req/CPU-s | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for key, row in results.items():
        endpoint = ENDPOINTS_BY_KEY[key]
        original = endpoint.original
        if row.get("skipped"):
            lines.append(
                f"| {endpoint.label} | - | {_original(original, 'requests_per_sec')} | - | - | - "
                f"| - | - | - | - | - | skipped: {row['skipped']} |"
            )
            continue
        ratio = f"{row['requests_per_sec'] / original.requests_per_sec:.1f}x" if original else "-"
        sql = _num(row.get("sql"))
        if row.get("sql_page_size_probe") is not None:
            sql += f" ({row['sql_page_size_probe']} @100)"
        failures = row["non_2xx"] + row["socket_errors"] + row.get("single_failures", 0)
        failure_text = str(failures) if not failures else f"**{failures}** (FLAGGED)"
        met, why = judged[key]
        lines.append(
            f"| {endpoint.label} | {_num(row['requests_per_sec'])} "
            f"| {_original(original, 'requests_per_sec')} | {ratio} "
            f"| {_num(row['p50_ms'])} ({_original(original, 'p50_ms')}) "
            f"| {_num(row['p99_ms'])} ({_original(original, 'p99_ms')}) "
            f"| {_num(row.get('single_p50_ms'), 2)} ({_original(original, 'single_p50_ms')}) "
            f"| {sql} | {failure_text} | {_percent(row.get('server_cpu_share'))} "
            f"| {_num(row.get('requests_per_server_cpu_second'))} "
            f"| {'met' if met else 'MISSED: '}{'' if met else why} |"
        )
    if rss:
        peak_ok = rss.get("peak_mb") is not None and rss["peak_mb"] <= RSS_LIMIT_MB
        lines += [
            "",
            f"Server RSS (master + workers, sum of VmRSS): idle {_num(rss.get('idle_mb'))} MB"
            f", peak {_num(rss.get('peak_mb'))} MB (original {ORIGINAL_RSS_MB['idle']:g} / "
            f"{ORIGINAL_RSS_MB['peak']:g} MB; target <= {RSS_LIMIT_MB:g} MB: "
            f"{'met' if peak_ok else 'MISSED'}). Proportional (PSS) peak: "
            f"{_num(rss.get('peak_pss_mb'))} MB; worker processes seen: {rss.get('workers_seen', '-')}.",
        ]
    if meta:
        lines += ["", "Run: " + "; ".join(f"{key} {value}" for key, value in meta.items()) + "."]
    return "\n".join(lines) + "\n"
