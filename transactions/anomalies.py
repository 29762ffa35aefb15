"""Anomaly flags for one user's transactions, scored against that user's own history.

Rows are dicts: ``id``, ``amount`` (Decimal, negative = out), ``at`` (aware datetime; the date
at midnight UTC when the time is unknown), ``time_known`` (bool), ``hour`` (0-23 or None),
``merchant`` (a stable merchant key), ``category`` (detailed category or None), ``country``
(a stable country key or None) and ``dismissed`` (the user marked it as fine). Only outflows
are scored. Reasons (each with its own weight; ``score`` = 1 - prod(1 - weight), so two weak
reasons together outweigh one):

* ``large_for_merchant`` / ``large_for_category``: robust z-score
  ``z = 0.6745 * (x - median) / MAD`` of the amount against the user's earlier outflows at the
  same merchant (>= 5) or in the same category (>= 8), the most recent 200 of each, flagged
  when ``z > 3.5``
  (Iglewicz & Hoaglin). A MAD of 0 is replaced by 5 % of the median (at least 1).
* ``new_merchant_large``: first outflow at this merchant, and larger than both
  ``NEW_MERCHANT_FLOOR`` and the 95th percentile of the user's outflows (>= 10 of them).
* ``duplicate_charge``: an earlier outflow at the same merchant with the same amount within 24 h
  (within 10 minutes when both times are known: a stronger signal).
* ``card_testing``: this and at least 2 other outflows of at most 2.00 within 60 minutes (same
  day when times are unknown), across any merchants.
* ``foreign_location``: a country seen in fewer than 2 earlier transactions while at least
  80 % of the user's >= 5 located transactions are in one other country.
* ``odd_hour``: the time is known, the user has >= 20 timed transactions and fewer than 2 % of
  them fall within one hour (circularly) of this one.

Feedback: a dismissed (marked fine) transaction teaches the scorer. Amount reasons are not
raised for a merchant whose dismissed amounts reach at least ``x / 1.25``; a dismissed
transaction's country counts as usual and its hour as normal.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

Z_THRESHOLD = 3.5
HISTORY_CAP = 200  # robust statistics use the most recent 200 amounts per merchant/category
MIN_MERCHANT_HISTORY = 5
MIN_CATEGORY_HISTORY = 8
MIN_USER_HISTORY = 10
NEW_MERCHANT_FLOOR = Decimal("200")
TINY_CHARGE = Decimal("2.00")
CARD_TESTING_COUNT = 3
CARD_TESTING_WINDOW = dt.timedelta(minutes=60)
DUPLICATE_WINDOW = dt.timedelta(hours=24)
DUPLICATE_TIGHT = dt.timedelta(minutes=10)
HOME_SHARE = 0.8
MIN_LOCATED = 5
MIN_TIMED = 20
ODD_HOUR_SHARE = 0.02
DISMISSED_HEADROOM = Decimal("1.25")
WEIGHTS = {
    "large_for_merchant": 0.6,
    "large_for_category": 0.45,
    "new_merchant_large": 0.5,
    "duplicate_charge": 0.55,
    "card_testing": 0.8,
    "foreign_location": 0.5,
    "odd_hour": 0.3,
}


def robust_z(value: float, history: list[float]) -> float:
    """Modified z-score of ``value`` against ``history`` (median/MAD)."""
    median = statistics.median(history)
    mad = statistics.median(abs(h - median) for h in history)
    if mad == 0:
        mad = max(0.05 * abs(median), 1.0)
    return 0.6745 * (value - median) / mad


def _percentile(values: list[float], q: float) -> float:
    """Linear-interpolated quantile ``q`` of ``values`` (the user's last 1000 outflows)."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _hour_distance(a: int, b: int) -> int:
    d = abs(a - b) % 24
    return min(d, 24 - d)


def combine(reasons: Iterable[str]) -> float:
    remaining = 1.0
    for reason in reasons:
        remaining *= 1.0 - WEIGHTS[reason]
    return round(1.0 - remaining, 4)


class Scorer:
    """Holds one user's history; :meth:`score` a transaction, then :meth:`add` it."""

    def __init__(self, history: Iterable[Mapping[str, Any]] = ()):
        self.rows: list[Mapping[str, Any]] = []
        self.by_merchant: dict[str, deque] = defaultdict(lambda: deque(maxlen=HISTORY_CAP))
        self.by_category: dict[str, deque] = defaultdict(lambda: deque(maxlen=HISTORY_CAP))
        self.outflows: deque = deque(maxlen=5 * HISTORY_CAP)
        self.countries: dict[str, int] = defaultdict(int)
        self.hour_counts = [0] * 24
        self.allowed_amount: dict[str, Decimal] = {}
        self.allowed_countries: set[str] = set()
        self.allowed_hours: set[int] = set()
        for row in sorted(history, key=lambda r: (r["at"], str(r["id"]))):
            self.add(row)

    def add(self, row: Mapping[str, Any]) -> None:
        self.rows.append(row)
        if row.get("country"):
            self.countries[row["country"]] += 1
        if row.get("time_known") and row.get("hour") is not None:
            self.hour_counts[int(row["hour"]) % 24] += 1
        if row.get("dismissed"):
            if row.get("merchant"):
                size = abs(row["amount"])
                self.allowed_amount[row["merchant"]] = max(
                    size, self.allowed_amount.get(row["merchant"], Decimal(0))
                )
            if row.get("country"):
                self.allowed_countries.add(row["country"])
            if row.get("time_known") and row.get("hour") is not None:
                self.allowed_hours.add(int(row["hour"]))
        if row["amount"] >= 0:
            return
        size = float(-row["amount"])
        self.outflows.append(size)
        if row.get("merchant"):
            self.by_merchant[row["merchant"]].append(row)
        if row.get("category"):
            self.by_category[row["category"]].append(size)

    # -- individual reasons ------------------------------------------------------------------

    def _amount_reasons(self, row: Mapping[str, Any]) -> list[str]:
        size = -row["amount"]
        merchant = row.get("merchant")
        allowed = self.allowed_amount.get(merchant) if merchant else None
        if allowed is not None and size <= allowed * DISMISSED_HEADROOM:
            return []
        reasons = []
        seen = self.by_merchant.get(merchant, ()) if merchant else ()
        merchant_amounts = [float(-r["amount"]) for r in seen]
        if (
            len(merchant_amounts) >= MIN_MERCHANT_HISTORY
            and robust_z(float(size), merchant_amounts) > Z_THRESHOLD
        ):
            reasons.append("large_for_merchant")
        category = list(self.by_category.get(row.get("category") or "", ()))
        if len(category) >= MIN_CATEGORY_HISTORY and robust_z(float(size), category) > Z_THRESHOLD:
            reasons.append("large_for_category")
        if (
            merchant
            and not seen
            and len(self.outflows) >= MIN_USER_HISTORY
            and size > NEW_MERCHANT_FLOOR
            and float(size) > _percentile(list(self.outflows), 0.95)
        ):
            reasons.append("new_merchant_large")
        return reasons

    def _is_duplicate(self, row: Mapping[str, Any]) -> bool:
        merchant = row.get("merchant")
        if not merchant:
            return False
        for other in reversed(self.by_merchant.get(merchant, [])):
            if other["amount"] != row["amount"] or other.get("dismissed"):
                continue
            gap = abs(row["at"] - other["at"])
            both_timed = row.get("time_known") and other.get("time_known")
            if gap <= (DUPLICATE_TIGHT if both_timed else DUPLICATE_WINDOW):
                return True
        return False

    def _is_card_testing(self, row: Mapping[str, Any]) -> bool:
        if -row["amount"] > TINY_CHARGE:
            return False
        count = 1
        horizon = row["at"] - max(CARD_TESTING_WINDOW, dt.timedelta(days=1))
        for other in reversed(self.rows):  # rows are added in time order
            if other["at"] < horizon:
                break
            if other["amount"] >= 0 or -other["amount"] > TINY_CHARGE:
                continue
            if row.get("time_known") and other.get("time_known"):
                near = abs(row["at"] - other["at"]) <= CARD_TESTING_WINDOW
            else:
                near = row["at"].date() == other["at"].date()
            count += near
        return count >= CARD_TESTING_COUNT

    def _is_foreign(self, row: Mapping[str, Any]) -> bool:
        country = row.get("country")
        if not country or country in self.allowed_countries:
            return False
        located = sum(self.countries.values())
        if located < MIN_LOCATED or self.countries.get(country, 0) >= 2:
            return False
        home, home_count = max(self.countries.items(), key=lambda kv: kv[1])
        return home != country and home_count / located >= HOME_SHARE

    def _is_odd_hour(self, row: Mapping[str, Any]) -> bool:
        if not row.get("time_known") or row.get("hour") is None:
            return False
        hour = int(row["hour"])
        timed = sum(self.hour_counts)
        if timed < MIN_TIMED or hour in self.allowed_hours:
            return False
        near = sum(n for h, n in enumerate(self.hour_counts) if _hour_distance(h, hour) <= 1)
        return near / timed < ODD_HOUR_SHARE

    def score(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """``{"reasons": [...], "score": 0..1}`` for ``row`` against the history so far."""
        if row["amount"] >= 0:
            return {"reasons": [], "score": 0.0}
        reasons = self._amount_reasons(row)
        if self._is_duplicate(row):
            reasons.append("duplicate_charge")
        if self._is_card_testing(row):
            reasons.append("card_testing")
        if self._is_foreign(row):
            reasons.append("foreign_location")
        if self._is_odd_hour(row):
            reasons.append("odd_hour")
        return {"reasons": reasons, "score": combine(reasons)}


def score_new(
    history: Iterable[Mapping[str, Any]], new_rows: Iterable[Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Score ``new_rows`` in time order, each against the history and the new rows before it."""
    scorer = Scorer(history)
    results = {}
    for row in sorted(new_rows, key=lambda r: (r["at"], str(r["id"]))):
        results[str(row["id"])] = scorer.score(row)
        scorer.add(row)
    return results
