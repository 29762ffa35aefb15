"""Dates in bank exports, with the day/month order detected from the data itself."""

from __future__ import annotations

import re
from datetime import date, datetime

# Tried in this order; the first that parses every row wins (US before UK on a tie, unless
# the file looks European: see detect_date_format).
FORMATS = (
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y/%m/%d",
    "%m/%d/%y",
    "%d/%m/%y",
    "%d.%m.%y",
    "%d %b %Y",
    "%d %B %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%b %d, %Y",
    "%Y%m%d",
)
DAY_FIRST = {"%d/%m/%Y", "%d/%m/%y"}
MONTH_FIRST = {"%m/%d/%Y", "%m/%d/%y"}
_TIME_TAIL = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?( ?[AP]M)?(Z|[+-]\d{2}:?\d{2})?$", re.I)


def date_part(raw: str) -> str:
    """``2024-01-05 10:22:11`` -> ``2024-01-05`` (Revolut and others add a time)."""
    return _TIME_TAIL.sub("", raw.strip())


def parse_date(raw: str, fmt: str) -> date:
    text = date_part(raw)
    if not text:
        raise ValueError("date is empty")
    try:
        return datetime.strptime(text, fmt).date()
    except ValueError:
        raise ValueError(f"date {raw.strip()[:30]!r} does not match {fmt}") from None


def _parses_all(values: list[str], fmt: str) -> bool:
    try:
        for value in values:
            parse_date(value, fmt)
    except ValueError:
        return False
    return True


def detect_date_format(values: list[str], *, prefer_day_first: bool = False) -> str:
    """The format under which every non-empty value parses. When both MM/DD and DD/MM fit
    (every day <= 12) the file's other hints decide (``prefer_day_first``)."""
    present = [v for v in values if v and v.strip()]
    if not present:
        raise ValueError("no dates to detect a format from")
    fitting = [fmt for fmt in FORMATS if _parses_all(present, fmt)]
    if not fitting:
        # report the most common shape so the user knows what to map explicitly
        raise ValueError(f"unrecognised date format (e.g. {present[0].strip()[:30]!r})")
    if prefer_day_first:
        for fmt in fitting:
            if fmt in DAY_FIRST:
                return fmt
    return fitting[0]


def best_partial_format(values: list[str], *, prefer_day_first: bool = False) -> str | None:
    """The format most values parse with (used when a few rows are broken)."""
    present = [v for v in values if v and v.strip()]
    scored = []
    for index, fmt in enumerate(FORMATS):
        good = sum(1 for v in present if _parses_all([v], fmt))
        bonus = 0.5 if prefer_day_first and fmt in DAY_FIRST else 0
        scored.append((good + bonus, -index, fmt))
    best = max(scored) if scored else None
    if best is None or best[0] < 1 or best[0] * 2 <= len(present):
        return None
    return best[2]
