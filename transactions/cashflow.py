"""Income, spending and net over any date range, by month or by category, per currency.

Input rows are dicts with ``id``, ``date``, ``amount`` (Decimal; negative = money out),
``currency`` and ``category_primary``/``category_detailed`` (None when uncategorised); a split
transaction is passed as one row per split part (same ``id`` is fine here). Rows whose id is in
``transfers`` (see :mod:`transactions.transfers`) are counted apart, never as income or spending.

Per group: ``income`` = sum of inflows, ``spending`` = sum of outflows as a positive number,
``net`` = income - spending, ``transfers`` = number of transfer rows left out. Refunds are
inflows and so count as income (by month) or reduce that category's net (by category).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from decimal import Decimal
from typing import Any

GROUPS = ("month", "category")
UNCATEGORISED = "UNCATEGORIZED"
ZERO = Decimal("0")


def check_range(start: dt.date, end: dt.date, *, max_days: int = 3700) -> None:
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    if (end - start).days > max_days:
        raise ValueError(f"the range may span at most {max_days} days")


def month_key(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def cashflow(
    rows: Iterable[Mapping[str, Any]],
    *,
    start: dt.date,
    end: dt.date,
    group_by: str = "month",
    transfers: Collection[str] = frozenset(),
) -> dict[str, Any]:
    """``{"groups": [...], "totals": [...]}``; groups sorted by key then currency."""
    if group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {', '.join(GROUPS)}, got {group_by!r}")
    check_range(start, end)
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    totals: dict[str, dict[str, Any]] = {}

    def bucket(table, key, currency, extra):
        if key not in table:
            table[key] = {
                **extra,
                "currency": currency,
                "income": ZERO,
                "spending": ZERO,
                "transfers": 0,
            }
        return table[key]

    for row in rows:
        if not start <= row["date"] <= end:
            continue
        currency = row["currency"]
        if group_by == "month":
            key, extra = month_key(row["date"]), {"month": month_key(row["date"])}
        else:
            primary = row.get("category_primary") or UNCATEGORISED
            key, extra = primary, {"category": primary}
        group = bucket(groups, (key, currency), currency, extra)
        total = bucket(totals, currency, currency, {})
        if str(row["id"]) in transfers:
            group["transfers"] += 1
            total["transfers"] += 1
            continue
        amount = row["amount"]
        side = "income" if amount > 0 else "spending"
        group[side] += abs(amount)
        total[side] += abs(amount)
    for table in (groups, totals):
        for entry in table.values():
            entry["net"] = entry["income"] - entry["spending"]
    return {
        "group_by": group_by,
        "start": start,
        "end": end,
        "groups": [groups[k] for k in sorted(groups)],
        "totals": [totals[k] for k in sorted(totals)],
    }
