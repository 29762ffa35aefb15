"""Net worth over time from per-account daily balance snapshots.

For each point in the requested range every account contributes its latest snapshot on or
before that day (balances are carried forward between syncs; an account with no snapshot yet
contributes nothing). Assets are depository, investment and other accounts; liabilities are
credit and loan accounts, whose Plaid ``current`` is the amount owed (a negative owed amount,
e.g. an overpaid card, counts as an asset). ``net = assets - liabilities``
(``portfolio.returns.net_worth``).
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from portfolio.errors import InvalidInput
from portfolio.returns import net_worth

ZERO = Decimal(0)
INTERVALS = ("day", "week", "month")
MAX_POINTS = 1000


@dataclass(frozen=True)
class Snapshot:
    account_id: str
    day: dt.date
    current: Decimal


@dataclass(frozen=True)
class AccountInfo:
    provider_type: str
    kind: str  # asset | liability


def _add_month(d: dt.date, months: int, anchor_day: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return dt.date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def points(start: dt.date, end: dt.date, interval: str) -> list[dt.date]:
    """start, start + interval, ..., always ending with ``end``."""
    if interval not in INTERVALS:
        raise InvalidInput("interval", f"must be one of {', '.join(INTERVALS)}")
    if end < start:
        raise InvalidInput("end", "must not be before start")
    out = [start]
    step = 0
    while True:
        step += 1
        if interval == "day":
            nxt = start + dt.timedelta(days=step)
        elif interval == "week":
            nxt = start + dt.timedelta(weeks=step)
        else:
            nxt = _add_month(start, step, start.day)
        if nxt >= end:
            break
        out.append(nxt)
        if len(out) > MAX_POINTS:
            raise InvalidInput(
                "interval", f"more than {MAX_POINTS} points; choose a wider interval"
            )
    if end != start:
        out.append(end)
    return out


def series(
    snapshots: Iterable[Snapshot],
    accounts: Mapping[str, AccountInfo],
    start: dt.date,
    end: dt.date,
    interval: str = "day",
) -> list[dict]:
    """[{date, assets, liabilities, net, by_type: {provider_type: balance}}] for each point."""
    history: dict[str, list[tuple[dt.date, Decimal]]] = defaultdict(list)
    for s in snapshots:
        if s.account_id in accounts and s.current is not None:
            history[s.account_id].append((s.day, s.current))
    for rows in history.values():
        rows.sort()
    days = {acct: [d for d, _ in rows] for acct, rows in history.items()}
    out = []
    for day in points(start, end, interval):
        assets: list[Decimal] = []
        liabilities: list[Decimal] = []
        by_type: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for acct, rows in history.items():
            i = bisect.bisect_right(days[acct], day) - 1
            if i < 0:
                continue
            balance = rows[i][1]
            info = accounts[acct]
            by_type[info.provider_type] += balance
            if info.kind == "liability":
                (liabilities if balance >= 0 else assets).append(abs(balance))
            else:
                (assets if balance >= 0 else liabilities).append(abs(balance))
        total_a, total_l = sum(assets, ZERO), sum(liabilities, ZERO)
        out.append(
            {
                "date": day,
                "assets": total_a,
                "liabilities": total_l,
                "net": net_worth(assets, liabilities),
                "by_type": dict(sorted(by_type.items())),
            }
        )
    return out
