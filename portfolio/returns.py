"""Portfolio returns over a date range: simple, time-weighted and money-weighted (IRR).

Inputs are end-of-day market values (including that day's external flow) and external flows
(positive = money added by the user, negative = withdrawn), as Decimal.  With V_0 the value at
the start date, V_n at the end date and F the flows in (start, end]:

* simple return        R_s = (V_n - V_0 - sum F) / (V_0 + sum of positive F)
                       gain over the capital put to work; ignores timing.
* time-weighted (TWR)  R_tw = prod_i (V_i - F_i) / V_{i-1} - 1 over consecutive valuation dates;
                       neutral to the size and timing of flows (GIPS style), so it measures the
                       investments, not the investor.  Needs a valuation on every flow date.
* money-weighted (MWR) the rate r solving  -V_0 - sum F_k (1 + r)^(-t_k) + V_n (1 + r)^(-t_n) = 0
                       with t in years (actual/365) from the start date: the investor's IRR
                       (XIRR), annualised.  Solved with Brent's method in floats.

Also ``net_worth``: assets minus liabilities.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from scipy.optimize import brentq

from portfolio.errors import InvalidInput

ZERO = Decimal(0)
Q = Decimal("0.000001")


@dataclass(frozen=True)
class PeriodReturns:
    start: dt.date
    end: dt.date
    simple: Decimal
    time_weighted: Decimal
    money_weighted_annual: Decimal | None  # None when the IRR is undefined
    time_weighted_annual: Decimal | None  # None for periods under a year


def _prepare(valuations, flows, start, end):
    if start >= end:
        raise InvalidInput("end", "end date must be after start date")
    vals = dict(valuations)
    for d, v in vals.items():
        if not isinstance(d, dt.date):
            raise InvalidInput("valuations", f"not a date: {d!r}")
        if v < 0:
            raise InvalidInput("valuations", f"negative market value on {d}")
    if start not in vals or end not in vals:
        raise InvalidInput("valuations", "need market values on the start and end dates")
    fl: dict[dt.date, Decimal] = {}
    for d, f in flows:
        if start < d <= end:
            fl[d] = fl.get(d, ZERO) + f
    missing = [d for d in fl if d not in vals]
    if missing:
        raise InvalidInput(
            "valuations", f"need a market value on each flow date, missing {missing[0]}"
        )
    return vals, fl


def simple_return(v0: Decimal, vn: Decimal, flows: Iterable[Decimal]) -> Decimal:
    flows = list(flows)
    invested = v0 + sum((f for f in flows if f > 0), ZERO)
    if invested <= 0:
        raise InvalidInput("valuations", "nothing invested: simple return undefined")
    return ((vn - v0 - sum(flows, ZERO)) / invested).quantize(Q)


def time_weighted_return(
    valuations: Mapping[dt.date, Decimal],
    flows: Mapping[dt.date, Decimal],
    start: dt.date,
    end: dt.date,
) -> Decimal:
    dates = sorted(d for d in valuations if start <= d <= end)
    growth = Decimal(1)
    for prev, cur in zip(dates, dates[1:], strict=False):
        base = valuations[prev]
        if base == 0:
            if valuations[cur] - flows.get(cur, ZERO) != 0:
                raise InvalidInput("valuations", f"value grew from zero on {cur} without a flow")
            continue
        growth *= (valuations[cur] - flows.get(cur, ZERO)) / base
    return (growth - 1).quantize(Q)


def money_weighted_return(
    v0: Decimal, vn: Decimal, flows: Mapping[dt.date, Decimal], start: dt.date, end: dt.date
) -> Decimal | None:
    cfs = [(0.0, -float(v0))]
    cfs += [((d - start).days / 365.0, -float(f)) for d, f in sorted(flows.items())]
    cfs.append(((end - start).days / 365.0, float(vn)))

    def npv(r: float) -> float:
        return sum(c * (1.0 + r) ** (-t) for t, c in cfs)

    lo, hi = -0.9999, 10.0
    try:
        f_lo, f_hi = npv(lo), npv(hi)
    except OverflowError:
        return None
    if f_lo * f_hi > 0:
        return None
    return Decimal(repr(brentq(npv, lo, hi, xtol=1e-12, maxiter=200))).quantize(Q)


def period_returns(
    valuations: Mapping[dt.date, Decimal] | Sequence[tuple[dt.date, Decimal]],
    flows: Iterable[tuple[dt.date, Decimal]],
    start: dt.date,
    end: dt.date,
) -> PeriodReturns:
    """Simple, time-weighted and money-weighted return between two valuation dates."""
    vals, fl = _prepare(
        valuations.items() if isinstance(valuations, Mapping) else valuations, flows, start, end
    )
    v0, vn = vals[start], vals[end]
    twr = time_weighted_return(vals, fl, start, end)
    years = (end - start).days / 365.0
    twr_annual = None
    if years >= 1:
        twr_annual = Decimal(repr((1 + float(twr)) ** (1 / years) - 1)).quantize(Q)
    return PeriodReturns(
        start=start,
        end=end,
        simple=simple_return(v0, vn, fl.values()),
        time_weighted=twr,
        money_weighted_annual=money_weighted_return(v0, vn, fl, start, end),
        time_weighted_annual=twr_annual,
    )


def net_worth(assets: Iterable[Decimal], liabilities: Iterable[Decimal]) -> Decimal:
    """Assets minus liabilities; both given as non-negative balances."""
    a, li = list(assets), list(liabilities)
    if any(x < 0 for x in a) or any(x < 0 for x in li):
        raise InvalidInput("balances", "give assets and liabilities as non-negative amounts")
    return sum(a, ZERO) - sum(li, ZERO)
