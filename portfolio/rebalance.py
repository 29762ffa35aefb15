"""Drift from the target allocation and a tax-aware rebalance plan.

Drift: with current weights w_i and target weights t_i per asset class,
    drift_i = w_i - t_i,          total drift = 1/2 x sum_i |w_i - t_i|
(the share of the portfolio that would have to move).  A rebalance is due when total drift
exceeds the band (default 3%).

Plan, in order:
1. New cash goes to underweight classes first, in proportion to their shortfall (any cash left
   after all shortfalls are filled is spread by target weight).
2. If drift is still above the band, overweight classes are sold down to target.  Lots are sold
   cheapest-tax-first: cost per dollar sold = (price - basis per share) x rate / price, with
   rate = 0 in tax-advantaged accounts and the short- or long-term rate in taxable ones.  This
   orders short-term losses, long-term losses, tax-free (IRA/401(k)/HSA) sales, long-term gains,
   short-term gains; ties go to the highest basis.  Loss sales that would be wash sales (a
   substantially identical purchase in any account in the last 30 days other than the lot's own,
   or a buy earlier in the same plan) are never chosen, and no purchase is made of a security
   sold at a loss in the last 30 days or in this plan.
3. Proceeds buy underweight classes in the same account.
Every trade carries its estimated tax (gain x rate; negative = tax saved).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from portfolio import reference
from portfolio.errors import InvalidInput
from portfolio.lots import AccountType, InvestmentTransaction, Lot, RealizedGain
from portfolio.tlh import TaxRates

ZERO = Decimal(0)
CENT = Decimal("0.01")
WASH_WINDOW_DAYS = 30


@dataclass(frozen=True)
class Drift:
    per_class: dict[str, Decimal]  # current weight - target weight
    total: Decimal  # half the sum of absolute differences


def drift(values: Mapping[str, Decimal], target: Mapping[str, Decimal]) -> Drift:
    """Drift of class values (money) from target weights."""
    _check_target(target)
    if any(v < 0 for v in values.values()):
        raise InvalidInput("values", "class values must not be negative")
    total = sum(values.values(), ZERO)
    if total <= 0:
        raise InvalidInput("values", "portfolio value must be positive")
    classes = set(values) | set(target)
    per = {c: values.get(c, ZERO) / total - target.get(c, ZERO) for c in sorted(classes)}
    return Drift(per, sum((abs(v) for v in per.values()), ZERO) / 2)


def _check_target(target: Mapping[str, Decimal]) -> None:
    if any(w < 0 for w in target.values()):
        raise InvalidInput("target", "weights must not be negative")
    if abs(sum(target.values(), ZERO) - 1) > Decimal("0.0001"):
        raise InvalidInput("target", "weights must sum to 1")


@dataclass(frozen=True)
class Trade:
    account_id: str
    ticker: str
    side: str  # "buy" | "sell"
    quantity: Decimal | None  # None: a dollar-amount buy (no quote yet), shares set at execution
    amount: Decimal
    asset_class: str
    lot_id: str | None = None
    realized_gain: Decimal = ZERO
    long_term: bool | None = None
    estimated_tax: Decimal = ZERO


@dataclass(frozen=True)
class RebalancePlan:
    trades: list[Trade]
    drift_before: Drift
    drift_after: Drift
    estimated_tax: Decimal
    unclassified: list[str]  # tickers with no asset class: left alone

    @property
    def rebalanced(self) -> bool:
        return any(t.side == "sell" for t in self.trades)


def _quantity(amount: Decimal, price: Decimal, fractional: bool) -> Decimal:
    step = Decimal("0.000001") if fractional else Decimal(1)
    return (amount / price).quantize(step, ROUND_DOWN)


def plan_rebalance(
    lots: Iterable[Lot],
    prices: Mapping[str, Decimal],
    account_types: Mapping[str, AccountType],
    target: Mapping[str, Decimal],
    *,
    today: dt.date,
    rates: TaxRates,
    cash: Mapping[str, Decimal] | None = None,
    band: Decimal = Decimal("0.03"),
    history: Iterable[InvestmentTransaction] = (),
    realized: Iterable[RealizedGain] = (),
    fractional: bool = True,
    ref: reference.ReferenceData | None = None,
) -> RebalancePlan:
    ref = ref or reference.load()
    _check_target(target)
    cash = dict(cash or {})
    if any(v < 0 for v in cash.values()):
        raise InvalidInput("cash", "cash amounts must not be negative")
    if not ZERO <= band < 1:
        raise InvalidInput("band", "must be in [0, 1)")
    for acct in cash:
        if acct not in account_types:
            raise InvalidInput("cash", f"unknown account {acct}")

    lots = [lot for lot in lots if lot.quantity > 0]
    values: dict[str, Decimal] = defaultdict(lambda: ZERO)
    unclassified: set[str] = set()
    lot_class: dict[str, str] = {}
    for lot in lots:
        if lot.account_id not in account_types:
            raise InvalidInput("account_id", f"lot {lot.id}: unknown account {lot.account_id}")
        price = prices.get(lot.ticker)
        if price is None or price <= 0:
            raise InvalidInput("prices", f"need a positive price for {lot.ticker}")
        cls = ref.class_of(lot.ticker)
        if cls is None:
            unclassified.add(lot.ticker)
            continue
        lot_class[lot.id] = cls
        values[cls] += lot.quantity * price
    for c in target:
        values.setdefault(c, ZERO)
    total_cash = sum(cash.values(), ZERO)
    total = sum(values.values(), ZERO) + total_cash
    if total <= 0:
        raise InvalidInput("portfolio", "nothing to rebalance: no classified holdings or cash")
    before = drift({**values, "cash": total_cash} if total_cash else dict(values), target)

    # purchases in the last 30 days (any account, reinvested dividends included): a loss sale of
    # a substantially identical lot would be a wash sale, unless the purchase is that lot itself
    recent_purchases = [
        (ref.identical_to(t.ticker), t.id)
        for t in history
        if t.is_purchase and 0 <= (today - t.date).days <= WASH_WINDOW_DAYS
    ]
    planned_buys: set[str] = set()  # identical groups bought earlier in this plan

    def washes(lot: Lot) -> bool:
        if lot.ticker in planned_buys:
            return True
        return any(lot.ticker in group and pid != lot.opened_by for group, pid in recent_purchases)

    no_buy = set()  # sold at a loss in the last 30 days (any account), or in this plan
    for rg in realized:
        if rg.proceeds < rg.cost_basis and 0 <= (today - rg.sold).days <= WASH_WINDOW_DAYS:
            no_buy |= ref.identical_to(rg.ticker)

    trades: list[Trade] = []
    shortfall = {c: max(target.get(c, ZERO) * total - values[c], ZERO) for c in values}

    def buy(account: str, amount: Decimal) -> Decimal:
        """Spend ``amount`` in ``account`` on underweight classes; returns what was spent."""
        spent = ZERO
        need = sum(shortfall.values(), ZERO)
        if need > 0:
            shares = {c: amount * s / need for c, s in shortfall.items() if s > 0}
            if amount > need:
                shares = {c: s for c, s in shortfall.items() if s > 0}
        else:
            shares = {}
        left = amount - sum(shares.values(), ZERO)
        if left > CENT:
            for c, w in target.items():
                shares[c] = shares.get(c, ZERO) + left * w
        for c, amt in sorted(shares.items()):
            ticker = next((t for t in ref.asset_class(c).etfs if t not in no_buy), None)
            if ticker is None or amt < CENT:
                continue
            price = prices.get(ticker)
            if price is None or price <= 0:
                # no quote for a fund the user does not hold yet: a dollar-amount order, whose
                # share count is fixed at execution (never a made-up price)
                cost = amt.quantize(CENT, ROUND_DOWN)
                if cost <= 0:
                    continue
                trades.append(Trade(account, ticker, "buy", None, cost, c))
                planned_buys.update(ref.identical_to(ticker))
                values[c] += cost
                shortfall[c] = max(shortfall[c] - cost, ZERO)
                spent += cost
                continue
            qty = _quantity(amt, price, fractional)
            if qty <= 0:
                continue
            cost = (qty * price).quantize(CENT)
            trades.append(Trade(account, ticker, "buy", qty, cost, c))
            planned_buys.update(ref.identical_to(ticker))
            values[c] += qty * price
            shortfall[c] = max(shortfall[c] - qty * price, ZERO)
            spent += cost
        return spent

    for account in sorted(cash):
        if cash[account] > 0:
            buy(account, cash[account])

    mid = drift(dict(values), target)
    if mid.total > band:
        proceeds: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for c in sorted(values):
            excess = values[c] - target.get(c, ZERO) * total
            if excess <= CENT:
                continue
            candidates = []
            for lot in lots:
                if lot_class.get(lot.id) != c:
                    continue
                price = prices[lot.ticker]
                taxable = not account_types[lot.account_id].tax_advantaged
                long_term = lot.is_long_term(today)
                gain_ps = price - lot.basis_per_share
                if taxable and gain_ps < 0 and washes(lot):
                    continue  # would be a wash sale
                rate = (rates.long_term if long_term else rates.short_term) if taxable else ZERO
                candidates.append((gain_ps * rate / price, -lot.basis_per_share, lot.id, lot, rate))
            candidates.sort(key=lambda x: x[:3])
            for _, _, _, lot, rate in candidates:
                if excess <= CENT:
                    break
                price = prices[lot.ticker]
                qty = min(lot.quantity, _quantity(excess, price, fractional))
                if qty <= 0:
                    break  # less than one unit left to sell
                amount = (qty * price).quantize(CENT)
                gain = (qty * (price - lot.basis_per_share)).quantize(CENT)
                trades.append(
                    Trade(
                        lot.account_id,
                        lot.ticker,
                        "sell",
                        qty,
                        amount,
                        c,
                        lot_id=lot.id,
                        realized_gain=gain,
                        long_term=lot.is_long_term(today),
                        estimated_tax=(gain * rate).quantize(CENT),
                    )
                )
                if gain < 0 and rate > 0:
                    no_buy |= ref.identical_to(lot.ticker)
                values[c] -= qty * price
                excess -= qty * price
                proceeds[lot.account_id] += amount
        shortfall.update({k: max(target.get(k, ZERO) * total - values[k], ZERO) for k in values})
        for account in sorted(proceeds):
            buy(account, proceeds[account])
    after = drift(dict(values), target) if sum(values.values(), ZERO) > 0 else before
    tax = sum((t.estimated_tax for t in trades), ZERO)
    return RebalancePlan(trades, before, after, tax, sorted(unclassified))
