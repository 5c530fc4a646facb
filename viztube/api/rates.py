"""Rate strings such as ``100/m`` or ``15/5m`` (read by settings at start-up, so no Django here)."""

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^(?P<count>\d+)/(?P<multiplier>\d*)(?P<unit>[smhd])$")


def parse_rate(rate):
    """``"15/5m"`` → ``(15, 300)``; ``"100/h"`` → ``(100, 3600)``. Raises ValueError otherwise."""
    match = _RATE.match(rate.strip())
    if not match or int(match["count"]) < 1 or match["multiplier"] in {"0", "00"}:
        raise ValueError(f"expected N/<period> such as 100/m or 15/5m, got {rate!r}")
    return int(match["count"]), int(match["multiplier"] or 1) * _UNITS[match["unit"]]
