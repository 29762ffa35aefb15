"""Monthly budgets per category, with optional rollover, and their 80 % / 100 % thresholds.

A budget is plain data: ``category``, ``level`` (``primary`` or ``detailed``: which category
field it matches), ``amount`` (Decimal > 0, per month), ``currency``, ``rollover`` (bool) and
``start_month`` (first day of the month it starts).

Spending in a month is the net outflow of the matching rows of that currency:
``spent = max(0, -sum(amount))`` (a refund in the category reduces it; transfers never count).
With rollover, what was left of a month carries into the next:
``carry(m+1) = max(0, amount + carry(m) - spent(m))`` from ``start_month`` on (overspending is
not carried as debt). ``available = amount + rollover_in``, ``remaining = available - spent``
(negative when over), ``percent = 100 * spent / available`` rounded to 0.01.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

LEVELS = ("primary", "detailed")
THRESHOLDS = (80, 100)
ZERO = Decimal("0")
MAX_ROLLOVER_MONTHS = 240


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(first: dt.date) -> dt.date:
    return add_months(first, 1) - dt.timedelta(days=1)


def validate_budget(budget: Mapping[str, Any]) -> None:
    if budget.get("level") not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {budget.get('level')!r}")
    amount = budget.get("amount")
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise ValueError(f"a budget amount must be a positive Decimal, got {amount!r}")
    if not isinstance(budget.get("category"), str) or not budget["category"]:
        raise ValueError("a budget needs a category")


def _matches(budget: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    field = "category_primary" if budget["level"] == "primary" else "category_detailed"
    return row.get(field) == budget["category"] and row["currency"] == budget["currency"]


def spent_by_month(
    budget: Mapping[str, Any],
    rows: Iterable[Mapping[str, Any]],
    transfers: Collection[str] = frozenset(),
) -> dict[dt.date, Decimal]:
    net: dict[dt.date, Decimal] = {}
    for row in rows:
        if str(row["id"]) in transfers or not _matches(budget, row):
            continue
        key = month_start(row["date"])
        net[key] = net.get(key, ZERO) + row["amount"]
    return {month: max(ZERO, -total) for month, total in net.items()}


def progress(
    budget: Mapping[str, Any],
    rows: Iterable[Mapping[str, Any]],
    month: dt.date,
    transfers: Collection[str] = frozenset(),
) -> dict[str, Any]:
    """Progress of ``budget`` in ``month`` (rows must cover start_month..month for rollover)."""
    validate_budget(budget)
    month = month_start(month)
    spent = spent_by_month(budget, rows, transfers)
    carry = ZERO
    start = month_start(budget.get("start_month") or month)
    if budget.get("rollover") and start < month:
        cursor = max(start, add_months(month, -MAX_ROLLOVER_MONTHS))
        while cursor < month:
            carry = max(ZERO, budget["amount"] + carry - spent.get(cursor, ZERO))
            cursor = add_months(cursor, 1)
    available = budget["amount"] + carry
    used = spent.get(month, ZERO)
    percent = (used * 100 / available).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return {
        "month": month,
        "budgeted": budget["amount"],
        "rollover_in": carry,
        "available": available,
        "spent": used,
        "remaining": available - used,
        "percent": percent,
    }


def crossed_thresholds(progress_: Mapping[str, Any]) -> list[int]:
    """The thresholds (80, 100) this month's progress has reached."""
    return [t for t in THRESHOLDS if progress_["percent"] >= t]
