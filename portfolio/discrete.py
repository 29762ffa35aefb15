"""Discrete allocation: turn target weights and a cash amount into whole or fractional shares.

Money is Decimal: cash and prices in, share counts and leftover cash out.  The greedy scheme is the
one PyPortfolioOpt's ``DiscreteAllocation.greedy_portfolio`` uses: first buy as many units of
each asset as its weight allows (largest weight first), then keep buying one more unit of the
affordable asset furthest below its target weight (weights measured against the amount invested
so far) until no asset is both affordable and below target.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from portfolio.errors import InvalidInput


@dataclass(frozen=True)
class Allocation:
    shares: dict[str, Decimal]
    leftover: Decimal


def _dec(value, field: str) -> Decimal:
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value))
    except Exception as exc:  # decimal.InvalidOperation and friends
        raise InvalidInput(field, f"not a number: {value!r}") from exc
    if not d.is_finite():
        raise InvalidInput(field, "must be finite")
    return d


def allocate(
    weights: Mapping[str, float],
    prices: Mapping[str, Decimal],
    cash: Decimal,
    *,
    fraction_digits: int = 0,
) -> Allocation:
    """Shares to buy with ``cash`` for long-only target ``weights``.

    ``fraction_digits`` = 0 buys whole shares; e.g. 3 allows fractional shares in steps of 0.001.
    """
    cash = _dec(cash, "cash")
    if cash < 0:
        raise InvalidInput("cash", "must not be negative")
    if fraction_digits < 0 or fraction_digits > 8:
        raise InvalidInput("fraction_digits", "must be between 0 and 8")
    step = Decimal(1).scaleb(-fraction_digits)
    w = {k: _dec(v, f"weights[{k}]") for k, v in weights.items()}
    if any(v < 0 for v in w.values()):
        raise InvalidInput("weights", "long-only allocation: weights must be >= 0")
    total_w = sum(w.values(), Decimal(0))
    if total_w <= 0:
        raise InvalidInput("weights", "must have a positive sum")
    w = {k: v / total_w for k, v in w.items() if v > 0}
    px = {}
    for k in w:
        if k not in prices:
            raise InvalidInput("prices", f"no price for {k}")
        px[k] = _dec(prices[k], f"prices[{k}]")
        if px[k] <= 0:
            raise InvalidInput(f"prices[{k}]", "must be positive")
    shares = {k: Decimal(0) for k in w}
    left = cash
    for k in sorted(w, key=lambda t: (-w[t], t)):
        n = (w[k] * cash / px[k]).quantize(step, rounding=ROUND_DOWN)
        cost = n * px[k]
        if cost <= left:
            shares[k] = n
            left -= cost
    while True:
        invested = sum((shares[k] * px[k] for k in w), Decimal(0))
        best, best_gap = None, None
        for k in sorted(w, key=lambda t: (-w[t], t)):
            if step * px[k] > left:
                continue
            current = shares[k] * px[k] / invested if invested else Decimal(0)
            gap = w[k] - current
            if best_gap is None or gap > best_gap:
                best, best_gap = k, gap
        if best is None or best_gap <= 0:
            break
        shares[best] += step
        left -= step * px[best]
    return Allocation({k: v for k, v in shares.items() if v > 0}, left)
