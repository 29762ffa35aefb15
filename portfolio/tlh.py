"""Tax-loss harvesting: which taxable lots to sell, what to buy instead, and what it is worth.

Rules (IRS Pub. 550 "Wash Sales"; Rev. Rul. 2008-5 for IRAs):

* Only lots in taxable accounts are harvested.  A lot qualifies when its loss, net of estimated
  trading costs, is at least ``max(min_loss, min_loss_fraction x lot value)``.
* Wash sale: a purchase of a substantially identical security within 30 days before or after the
  sale, in ANY of the user's accounts (IRAs, 401(k), HSA included; reinvested dividends count),
  blocks the harvest.  A purchase inside an IRA would make the loss disappear permanently, so the
  reason says so.  Scheduled purchases (automatic investments, dividend reinvestment) within the
  next 30 days are passed in as ``upcoming_purchases`` and block too.  Shares sold in the same
  harvest are not replacements for each other (a lot bought last week does not block an older
  lot of the same fund when both are harvested).
* After a harvest, the sold security and everything substantially identical to it are on a
  do-not-buy list for 31 days across all accounts; the replacement is the asset class's secondary
  ETF (tertiary if the secondary is itself blocked), which tracks a different index.
* The value of the harvest is estimated with the user's marginal short- and long-term rates,
  netting short and long losses against this year's realised gains, the $3,000 ($1,500 married
  filing separately) ordinary-income offset, and carryforward of the rest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from portfolio import reference
from portfolio.errors import InvalidInput
from portfolio.lots import AccountType, InvestmentTransaction, Lot, RealizedGain

ZERO = Decimal(0)
CENT = Decimal("0.01")
WASH_WINDOW_DAYS = 30
DO_NOT_BUY_DAYS = 31


@dataclass(frozen=True)
class TaxRates:
    short_term: Decimal  # marginal ordinary rate
    long_term: Decimal
    ordinary_offset_limit: Decimal = Decimal(3000)

    def __post_init__(self) -> None:
        for name in ("short_term", "long_term"):
            v = getattr(self, name)
            if not ZERO <= v < 1:
                raise InvalidInput(name, "tax rate must be in [0, 1)")
        if self.ordinary_offset_limit < 0:
            raise InvalidInput("ordinary_offset_limit", "must not be negative")


@dataclass(frozen=True)
class TLHSettings:
    min_loss: Decimal = Decimal(100)
    min_loss_fraction: Decimal = Decimal("0.03")
    cost_per_trade: Decimal = ZERO  # flat commission per trade (sale and purchase each)
    cost_fraction: Decimal = Decimal("0.0005")  # spread/slippage per side, fraction of value

    def __post_init__(self) -> None:
        if self.min_loss < 0 or self.min_loss_fraction < 0:
            raise InvalidInput("min_loss", "thresholds must not be negative")
        if self.cost_per_trade < 0 or self.cost_fraction < 0:
            raise InvalidInput("cost", "costs must not be negative")


@dataclass(frozen=True)
class Harvest:
    lot_id: str
    account_id: str
    ticker: str
    quantity: Decimal
    proceeds: Decimal
    cost_basis: Decimal
    loss: Decimal  # positive number
    long_term: bool
    estimated_costs: Decimal
    replacement: str | None


@dataclass(frozen=True)
class Skipped:
    lot_id: str
    ticker: str
    reason: str


@dataclass(frozen=True)
class TaxEstimate:
    tax: Decimal  # tax on this year's capital gains (incl. the ordinary offset, negative = saving)
    carryforward: Decimal  # net capital loss left for next year


@dataclass(frozen=True)
class TLHPlan:
    harvests: list[Harvest]
    skipped: list[Skipped]
    do_not_buy: dict[str, dt.date]  # ticker -> first day it may be bought again
    current_year_saving: Decimal
    carryforward_added: Decimal
    estimated_benefit: Decimal  # saving this year + carryforward valued at the long-term rate

    @property
    def total_loss(self) -> Decimal:
        return sum((h.loss for h in self.harvests), ZERO)


def capital_gains_tax(
    short_net: Decimal, long_net: Decimal, rates: TaxRates, carryforward: Decimal = ZERO
) -> TaxEstimate:
    """Tax on net short- and long-term results after netting (Schedule D logic, simplified).

    Carryforward from earlier years (a positive number) is applied first against short-term,
    then long-term.  Losses net within each character, then across; a net loss offsets up to
    ``ordinary_offset_limit`` of ordinary income at the short-term (ordinary) rate.
    """
    if carryforward < 0:
        raise InvalidInput("carryforward", "must be a non-negative loss amount")
    st = short_net - carryforward
    lt = long_net
    if st < 0 < lt:
        lt, st = lt + st, ZERO
        if lt < 0:
            st, lt = lt, ZERO
    elif lt < 0 < st:
        st, lt = st + lt, ZERO
        if st < 0:
            lt, st = st, ZERO
    total = st + lt
    if total >= 0:
        tax = max(st, ZERO) * rates.short_term + max(lt, ZERO) * rates.long_term
        return TaxEstimate(tax.quantize(CENT, ROUND_HALF_EVEN), ZERO)
    loss = -total
    offset = min(loss, rates.ordinary_offset_limit)
    tax = -offset * rates.short_term
    return TaxEstimate(tax.quantize(CENT, ROUND_HALF_EVEN), loss - offset)


def _wash_block(
    lot: Lot,
    today: dt.date,
    purchases: Iterable[InvestmentTransaction],
    account_types: Mapping[str, AccountType],
    identical: frozenset[str],
) -> str | None:
    for p in purchases:
        if p.ticker.upper() not in identical or p.id == lot.opened_by:
            continue
        days = (p.date - today).days
        if -WASH_WINDOW_DAYS <= days <= WASH_WINDOW_DAYS:
            where = account_types.get(p.account_id, AccountType.TAXABLE)
            what = "dividend reinvestment" if p.kind == "dividend_reinvest" else "purchase"
            when = f"{abs(days)} days {'before' if days <= 0 else 'after'} the sale"
            msg = f"wash sale: {what} of {p.ticker} in account {p.account_id} {when}"
            if where.tax_advantaged:
                msg += f" ({where.value}: the loss would be disallowed permanently)"
            return msg
    return None


def choose_replacement(
    ticker: str,
    blocked: Callable[[str], bool],
    ref: reference.ReferenceData | None = None,
) -> str | None:
    """The asset class's next ETF (secondary, then tertiary, then primary) that is not
    substantially identical to ``ticker`` and not blocked (recently bought or sold at a loss)."""
    ref = ref or reference.load()
    cls = ref.class_of(ticker)
    if cls is None:
        return None
    etfs = ref.asset_class(cls).etfs
    same = ref.identical_to(ticker)
    start = etfs.index(ticker.upper()) + 1 if ticker.upper() in etfs else 0
    for cand in etfs[start:] + etfs[:start]:
        if cand in same or blocked(cand):
            continue
        return cand
    return None


def plan_harvest(
    lots: Iterable[Lot],
    prices: Mapping[str, Decimal],
    account_types: Mapping[str, AccountType],
    *,
    today: dt.date,
    rates: TaxRates,
    history: Iterable[InvestmentTransaction] = (),
    upcoming_purchases: Iterable[InvestmentTransaction] = (),
    realized: Iterable[RealizedGain] = (),
    realized_short: Decimal = ZERO,
    realized_long: Decimal = ZERO,
    carryforward: Decimal = ZERO,
    settings: TLHSettings | None = None,
    ref: reference.ReferenceData | None = None,
) -> TLHPlan:
    """Harvest plan for ``today``: lots to sell, replacements, do-not-buy list, tax value."""
    settings = settings or TLHSettings()
    ref = ref or reference.load()
    lots = list(lots)
    history = list(history)
    purchases = [t for t in history if t.is_purchase] + list(upcoming_purchases)
    # Tickers sold at a loss in the last 30 days cannot be bought back as replacements.
    recent_loss_sales: set[str] = set()
    for rg in realized:
        if rg.proceeds < rg.cost_basis and 0 <= (today - rg.sold).days <= WASH_WINDOW_DAYS:
            recent_loss_sales |= ref.identical_to(rg.ticker)
    harvests: list[Harvest] = []
    skipped: list[Skipped] = []
    do_not_buy: dict[str, dt.date] = {}
    harvested_groups: set[str] = set()

    def blocked(t: str) -> bool:
        return t in recent_loss_sales or t in harvested_groups or t in do_not_buy

    candidates: list[tuple[Lot, Decimal, Decimal, Decimal]] = []  # lot, value, loss, costs
    for lot in sorted(lots, key=lambda x: (x.ticker, x.acquired, x.id)):
        if lot.quantity <= 0:
            continue
        acct = account_types.get(lot.account_id)
        if acct is None:
            raise InvalidInput("account_id", f"lot {lot.id}: unknown account {lot.account_id}")
        if acct.tax_advantaged:
            continue
        price = prices.get(lot.ticker)
        if price is None:
            raise InvalidInput("prices", f"no price for {lot.ticker}")
        if price <= 0:
            raise InvalidInput(f"prices[{lot.ticker}]", "must be positive")
        value = lot.quantity * price
        loss = lot.cost_basis - value
        if loss <= 0:
            continue
        costs = 2 * (settings.cost_per_trade + settings.cost_fraction * value)
        threshold = max(settings.min_loss, settings.min_loss_fraction * value)
        if loss - costs < threshold:
            skipped.append(Skipped(lot.id, lot.ticker, f"loss {loss:.2f} below threshold"))
            continue
        candidates.append((lot, value, loss, costs))

    # Shares sold in the same harvest are not replacements for each other (as in
    # lots.build_lots): a purchase whose lot is itself harvested does not block. Dropping a
    # blocked lot can make its purchase block another one, so repeat until nothing changes.
    kept = {c[0].id for c in candidates}
    held_by_purchase: dict[str, set[str]] = {}  # every held lot a purchase opened (split parts too)
    for lot in lots:
        if lot.quantity > 0:
            held_by_purchase.setdefault(lot.opened_by, set()).add(lot.id)
    reasons: dict[str, str] = {}
    changed = True
    while changed:
        changed = False
        # a purchase stops blocking only when every share of it still held is sold with it
        sold_together = {
            purchase for purchase, ids in held_by_purchase.items() if ids and ids <= kept
        }
        for lot, *_ in candidates:
            if lot.id not in kept:
                continue
            others = [p for p in purchases if p.id not in sold_together]
            reason = _wash_block(lot, today, others, account_types, ref.identical_to(lot.ticker))
            if reason:
                kept.discard(lot.id)
                reasons[lot.id] = reason
                changed = True

    for lot, value, loss, costs in candidates:
        group = ref.identical_to(lot.ticker)
        if lot.id not in kept:
            skipped.append(Skipped(lot.id, lot.ticker, reasons[lot.id]))
            continue
        replacement = choose_replacement(lot.ticker, blocked, ref)
        harvests.append(
            Harvest(
                lot_id=lot.id,
                account_id=lot.account_id,
                ticker=lot.ticker,
                quantity=lot.quantity,
                proceeds=value.quantize(CENT),
                cost_basis=lot.cost_basis.quantize(CENT),
                loss=loss.quantize(CENT),
                long_term=lot.is_long_term(today),
                estimated_costs=costs.quantize(CENT),
                replacement=replacement,
            )
        )
        harvested_groups |= group
        for t in group:
            do_not_buy[t] = today + dt.timedelta(days=DO_NOT_BUY_DAYS)
    st_loss = sum((h.loss for h in harvests if not h.long_term), ZERO)
    lt_loss = sum((h.loss for h in harvests if h.long_term), ZERO)
    before = capital_gains_tax(realized_short, realized_long, rates, carryforward)
    after = capital_gains_tax(
        realized_short - st_loss, realized_long - lt_loss, rates, carryforward
    )
    saving = before.tax - after.tax
    cf_added = after.carryforward - before.carryforward
    costs = sum((h.estimated_costs for h in harvests), ZERO)
    benefit = (saving + cf_added * rates.long_term - costs).quantize(CENT)
    return TLHPlan(harvests, skipped, do_not_buy, saving, cf_added, benefit)
