"""Inputs for ``portfolio.returns``: end-of-day values and external flows of investment accounts.

* Values: the accounts' daily balance snapshots (Plaid ``current`` of an investment account is
  its market value, cash included).
* External flows: investment transactions of type ``cash`` with subtype deposit, withdrawal,
  contribution or distribution (Plaid sign: amount < 0 = money into the account, so flow =
  -amount). Dividends, interest and fees are not flows: they are part of the return.
* ``returns.period_returns`` needs a value on the start, the end and every flow date. Where no
  snapshot exists on such a day the value is the latest earlier snapshot plus the flows since it,
  i.e. "no market movement since the last valuation"; every such day is listed in
  ``approximated_days`` so the response can say so. The start moves forward to the first day
  with a snapshot when the history begins later than the requested start.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from portfolio.errors import InvalidInput
from portfolio.networth import Snapshot
from portfolio.returns import PeriodReturns, period_returns

ZERO = Decimal(0)
FLOW_SUBTYPES = {"deposit", "withdrawal", "contribution", "distribution"}


@dataclass(frozen=True)
class Flow:
    account_id: str
    day: dt.date
    amount: Decimal  # + into the account, - out


def external_flows(transactions: Iterable[Mapping]) -> list[Flow]:
    out = []
    for t in transactions:
        if (t.get("type") or "").lower() != "cash":
            continue
        if (t.get("subtype") or "").lower() not in FLOW_SUBTYPES:
            continue
        out.append(Flow(t["account_id"], t["date"], -Decimal(t["amount"])))
    return out


@dataclass(frozen=True)
class ReturnsReport:
    returns: PeriodReturns
    approximated_days: list[dt.date]


def compute(
    snapshots: Iterable[Snapshot],
    flows: Iterable[Flow],
    account_ids: Iterable[str],
    start: dt.date,
    end: dt.date,
) -> ReturnsReport:
    accounts = set(account_ids)
    if not accounts:
        raise InvalidInput("account_ids", "no investment accounts to measure")
    if start >= end:
        raise InvalidInput("end", "end date must be after start date")
    hist: dict[str, list[tuple[dt.date, Decimal]]] = defaultdict(list)
    for s in snapshots:
        if s.account_id in accounts and s.current is not None and s.day <= end:
            hist[s.account_id].append((s.day, s.current))
    if not hist:
        raise InvalidInput("start", "no balance history for these accounts in the range")
    for rows in hist.values():
        rows.sort()
    first = min(rows[0][0] for rows in hist.values())
    start = max(start, first)
    if start >= end:
        raise InvalidInput("start", "need balance history on at least two days in the range")
    flow_list = [f for f in flows if f.account_id in accounts and start < f.day <= end]
    days = {a: [d for d, _ in rows] for a, rows in hist.items()}
    approximated: set[dt.date] = set()

    def value_on(day: dt.date) -> Decimal:
        total = ZERO
        for acct, rows in hist.items():
            i = bisect.bisect_right(days[acct], day) - 1
            if i < 0:
                continue
            snap_day, value = rows[i]
            if snap_day != day:
                approximated.add(day)
                value += sum(
                    (
                        f.amount
                        for f in flow_list
                        if f.account_id == acct and snap_day < f.day <= day
                    ),
                    ZERO,
                )
            total += value
        return total

    wanted = {start, end} | {f.day for f in flow_list}
    for rows in hist.values():
        wanted |= {d for d, _ in rows if start <= d <= end}
    valuations = {d: value_on(d) for d in sorted(wanted)}
    result = period_returns(valuations, [(f.day, f.amount) for f in flow_list], start, end)
    return ReturnsReport(result, sorted(approximated))


FORMULAS = {
    "simple": "(V_end - V_start - sum F) / (V_start + sum of inflows)",
    "time_weighted": "prod_i (V_i - F_i) / V_(i-1) - 1 over consecutive valuation days",
    "money_weighted": "annual IRR r: -V_start - sum F_k (1+r)^-t_k + V_end (1+r)^-T = 0 "
    "(t in years, actual/365)",
}
