"""What the benchmark measures: the endpoints and the original's figures.

``path`` is a template filled from the data-set facts (``bench/run.py`` ``Facts``); an endpoint whose
template names ``{video_ids}`` or ``{like_ids}`` rotates over one path per id.
"""

from dataclasses import dataclass

HEAVY = "heavy"  # target: at least 10x the original's requests/s
LIGHT = "light"  # target: at least the original's requests/s
NEW = "new"  # the original had no such route: no throughput target, the other checks apply

HEAVY_FACTOR = 10.0
LIGHT_FACTOR = 1.0
# "page 500 as fast as page 1": within the run-to-run noise of this machine.
DEEP_PAGE_MIN_RATIO = 0.9
RSS_LIMIT_MB = 250.0


@dataclass(frozen=True)
class Original:
    """The original backend on this machine type with this data."""

    requests_per_sec: float
    p50_ms: float
    p99_ms: float
    single_p50_ms: float


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    method: str
    path: str
    caller: str  # "viewer" or "channel": whose Bearer token the requests carry
    kind: str
    original: Original | None
    # The same request with a bigger page, to check that the SQL count does not grow with it.
    page_size_probe: str | None = None


ORIGINAL_RSS_MB = {"idle": 166.0, "peak": 321.0}

ENDPOINTS = [
    Endpoint(
        "videos_page1",
        "GET /videos?page=1&limit=10",
        "GET",
        "/api/v1/videos?page=1&limit=10",
        "viewer",
        HEAVY,
        Original(59, 267, 371, 32),
        page_size_probe="/api/v1/videos?page=1&limit=100",
    ),
    Endpoint(
        "videos_page500",
        "GET /videos?page=500&limit=10",
        "GET",
        "/api/v1/videos?page=500&limit=10",
        "viewer",
        HEAVY,
        Original(58, 270, 398, 35),
        page_size_probe="/api/v1/videos?page=50&limit=100",
    ),
    Endpoint(
        "videos_search",
        "GET /videos?query=<1% word>&sortBy=views&sortType=desc",
        "GET",
        "/api/v1/videos?query={search_word}&sortBy=views&sortType=desc",
        "viewer",
        HEAVY,
        Original(5.3, 2543, 3568, 319),
        page_size_probe="/api/v1/videos?query={search_word}&sortBy=views&sortType=desc&limit=100",
    ),
    Endpoint(
        "video_detail",
        "GET /videos/:id (1,000 ids, signed in)",
        "GET",
        "/api/v1/videos/{video_ids}",
        "viewer",
        LIGHT,
        Original(615, 25, 59, 2.9),
    ),
    Endpoint(
        "channel_profile",
        "GET /user/c/<big channel>",
        "GET",
        "/api/v1/user/c/{big_channel}",
        "viewer",
        HEAVY,
        Original(81, 197, 308, 22),
    ),
    Endpoint(
        "comments",
        "GET /comments/<most commented video>",
        "GET",
        "/api/v1/comments/{most_commented_video}",
        "viewer",
        LIGHT,
        Original(892, 17, 52, 2.1),
        page_size_probe="/api/v1/comments/{most_commented_video}?limit=100",
    ),
    Endpoint(
        "dashboard_stats",
        "GET /dashboard/stats (big channel)",
        "GET",
        "/api/v1/dashboard/stats",
        "channel",
        HEAVY,
        Original(8.2, 1828, 2834, 128),
    ),
    Endpoint(
        "like_toggle",
        "POST /likes/toggle/v/:id (rotating)",
        "POST",
        "/api/v1/likes/toggle/v/{like_ids}",
        "viewer",
        LIGHT,
        Original(1096, 14, 32, 1.6),
    ),
    Endpoint(
        "feed",
        "GET /feed (1,000 subscriptions, signed in)",
        "GET",
        "/api/v1/feed",
        "viewer",
        NEW,
        None,
        page_size_probe="/api/v1/feed?limit=100",
    ),
]

ENDPOINTS_BY_KEY = {endpoint.key: endpoint for endpoint in ENDPOINTS}

ROTATING = ("video_ids", "like_ids")


def expand_paths(template, facts):
    """The concrete paths of one endpoint: one path, or one per id when the template rotates."""
    for name in ROTATING:
        if "{" + name + "}" in template:
            single = {key: value for key, value in facts.items() if key not in ROTATING}
            return [
                template.replace("{" + name + "}", str(item)).format(**single)
                for item in facts[name]
            ]
    return [template.format(**{k: v for k, v in facts.items() if k not in ROTATING})]
