"""Detect recurring series (subscriptions, bills, pay cheques) in one user's transactions.

Rows are dicts with ``id``, ``date`` (date), ``amount`` (Decimal, negative = out), ``currency``
and ``merchant`` (any stable key of the merchant: the service passes a per-user keyed tag).
Rows are grouped by (merchant, currency, direction). A group is a series when:

* it has at least 3 occurrences (2 for yearly);
* its gaps fit one cadence: each gap is 1 or 2 (one occurrence missed) times the cadence's
  nominal length within its tolerance, at least 75 % of gaps fit, and single steps are not
  outnumbered by double steps. Candidates, nominal days +/- tolerance: weekly 7 +/- 1.5,
  biweekly 14 +/- 2, monthly 30.44 +/- 4, quarterly 91.31 +/- 8, yearly 365.25 +/- 15; the
  best fit (single steps count 1, double steps 0.5) wins;
* its amounts are similar: every amount within 35 % of the median (a price change of up to
  that size is still one series).

For each series: the predicted next date (monthly, quarterly and yearly cadences step in
calendar months from the last date, keeping the day of month of the last date, clamped to the
month end), the predicted amount (the last amount), a ``price_change`` when the latest amount
differs from the run before it by more than 0.5 %, and a ``status``: ``active``; ``late`` when
``as_of`` is past the predicted date plus the tolerance; ``stopped`` when more than two cadence
lengths plus the tolerance have passed since the last occurrence.
"""

from __future__ import annotations

import calendar
import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


@dataclass(frozen=True)
class Cadence:
    name: str
    days: float
    tolerance: float
    months: int  # calendar step for prediction; 0 = step in days
    min_count: int = 3


CADENCES = (
    Cadence("weekly", 7.0, 1.5, 0),
    Cadence("biweekly", 14.0, 2.0, 0),
    Cadence("monthly", 30.44, 4.0, 1),
    Cadence("quarterly", 91.31, 8.0, 3),
    Cadence("yearly", 365.25, 15.0, 12, min_count=2),
)
MIN_FIT = 0.75
AMOUNT_SPREAD = Decimal("0.35")
PRICE_CHANGE_MIN = Decimal("0.005")


def _add_months(day: dt.date, months: int, anchor_day: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = index // 12, index % 12 + 1
    return dt.date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def fit_cadence(dates: list[dt.date]) -> tuple[Cadence, float] | None:
    """The cadence that best explains the gaps between sorted ``dates``, with its fit (0..1)."""
    gaps = [(b - a).days for a, b in zip(dates, dates[1:], strict=False)]
    if not gaps:
        return None
    best = None
    for cadence in CADENCES:
        if len(dates) < cadence.min_count:
            continue
        singles = doubles = 0
        for gap in gaps:
            for k in (1, 2):
                if abs(gap - k * cadence.days) <= cadence.tolerance * k:
                    if k == 1:
                        singles += 1
                    else:
                        doubles += 1
                    break
        fit = (singles + doubles) / len(gaps)
        if fit < MIN_FIT or singles < doubles or singles == 0:
            continue
        score = (singles + 0.5 * doubles) / len(gaps)
        if best is None or score > best[2]:
            best = (cadence, fit, score)
    return None if best is None else (best[0], best[1])


def _similar_amounts(amounts: list[Decimal]) -> bool:
    median = Decimal(statistics.median(amounts))
    if median == 0:
        return False
    return all(abs(a - median) <= AMOUNT_SPREAD * median for a in amounts)


def _price_change(dated: list[tuple[dt.date, Decimal]]) -> dict[str, Any] | None:
    last = dated[-1][1]
    run_start = len(dated) - 1
    while run_start > 0 and dated[run_start - 1][1] == last:
        run_start -= 1
    if run_start == 0:
        return None
    previous = dated[run_start - 1][1]
    change = last - previous
    if abs(change) <= PRICE_CHANGE_MIN * previous:
        return None
    return {
        "direction": "increase" if change > 0 else "decrease",
        "previous_amount": previous,
        "new_amount": last,
        "change": change,
        "percent": (change * 100 / previous).quantize(Decimal("0.01"), ROUND_HALF_UP),
        "since": dated[run_start][0],
    }


def _series(
    key: tuple[str, str, str], rows: list[Mapping[str, Any]], as_of: dt.date
) -> dict[str, Any] | None:
    rows = sorted(rows, key=lambda r: (r["date"], str(r["id"])))
    dates = [r["date"] for r in rows]
    amounts = [abs(r["amount"]) for r in rows]
    fitted = fit_cadence(dates)
    if fitted is None or not _similar_amounts(amounts):
        return None
    cadence, fit = fitted
    last = dates[-1]
    if cadence.months:
        predicted = _add_months(last, cadence.months, last.day)
    else:
        predicted = last + dt.timedelta(days=cadence.days)
    tolerance = dt.timedelta(days=cadence.tolerance)
    if as_of > last + dt.timedelta(days=2 * cadence.days) + tolerance:
        status = "stopped"
    elif as_of > predicted + tolerance:
        status = "late"
    else:
        status = "active"
    merchant, currency, direction = key
    sign = -1 if direction == "out" else 1
    price_change = _price_change(list(zip(dates, amounts, strict=True)))
    return {
        "merchant": merchant,
        "currency": currency,
        "direction": direction,
        "cadence": cadence.name,
        "fit": round(fit, 3),
        "count": len(rows),
        "first_date": dates[0],
        "last_date": last,
        "last_amount": sign * amounts[-1],
        "average_amount": sign * (sum(amounts) / len(amounts)).quantize(Decimal("0.01")),
        "predicted_next_date": predicted,
        "predicted_amount": sign * amounts[-1],
        "status": status,
        "price_change": price_change,
        "transaction_ids": [str(r["id"]) for r in rows],
    }


def detect_recurring(rows: Iterable[Mapping[str, Any]], *, as_of: dt.date) -> list[dict[str, Any]]:
    """Every recurring series in ``rows``, most recent first."""
    groups: dict[tuple[str, str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        if not row.get("merchant") or row["amount"] == 0:
            continue
        direction = "out" if row["amount"] < 0 else "in"
        groups[(str(row["merchant"]), row["currency"], direction)].append(row)
    found = [s for key, group in groups.items() if (s := _series(key, group, as_of)) is not None]
    return sorted(found, key=lambda s: (s["last_date"], s["merchant"]), reverse=True)
