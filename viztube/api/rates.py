"""Rate strings such as ``100/m``, ``15/5m`` or ``100/minute`` (read by settings at start-up, so
no Django here)."""

import re

_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Every spelling of each unit: the project's one letter, and DRF's names (``100/minute``,
# ``1000/hour``), short or long, singular or plural.
_UNIT_NAMES = {
    "s": ("s", "sec", "secs", "second", "seconds"),
    "m": ("m", "min", "mins", "minute", "minutes"),
    "h": ("h", "hour", "hours"),
    "d": ("d", "day", "days"),
}
_UNITS = {name: _SECONDS[unit] for unit, names in _UNIT_NAMES.items() for name in names}
_RATE = re.compile(r"^(?P<count>\d+)/(?P<multiplier>\d*)(?P<unit>[a-z]+)$", re.ASCII)

ACCEPTED_FORMS = (
    "N/<period>, the period a unit s, m, h or d with an optional count before it (100/m, 15/5m), "
    "the unit also spelled sec(s)/second(s), min(s)/minute(s), hour(s) or day(s) (100/minute)"
)


def parse_rate(rate):
    """``"15/5m"`` → ``(15, 300)``; ``"100/hour"`` → ``(100, 3600)``. Raises ValueError
    naming the accepted forms otherwise."""
    match = _RATE.match(rate.strip())
    if (
        not match
        or match["unit"] not in _UNITS
        or int(match["count"]) < 1
        or (match["multiplier"] and int(match["multiplier"]) < 1)
    ):
        raise ValueError(f"expected {ACCEPTED_FORMS}; got {rate!r}")
    return int(match["count"]), int(match["multiplier"] or 1) * _UNITS[match["unit"]]
