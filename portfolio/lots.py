"""Tax lots from investment transactions, realised gains, wash-sale adjustments, reconciliation.

Plain data in, plain data out; money and quantities are Decimal.

* A buy or a reinvested dividend opens a lot (basis = quantity x price + fees).
* A sell relieves lots: the named lots (specific identification) or first-in-first-out.
* A lot is long-term when sold more than one year after acquisition (IRS Pub. 550: the holding
  period starts the day after acquisition, so a lot bought 2023-03-10 is long-term from 2024-03-11).
* Wash sales already in the synced history (IRS Pub. 550; Rev. Rul. 2008-5): a loss sale in a
  taxable account with a purchase of a substantially identical security within 30 days before or
  after it, in any account, has the matched part of the loss disallowed.  The disallowed loss is
  added to the basis of the matched replacement shares (and their holding period includes the
  sold shares'; a replacement lot only partly matched is split in two), except when the
  replacement is in an IRA/401(k)/HSA: then the loss is lost for good.
* ``reconcile`` compares our lots with the provider's reported quantity and basis, and returns
  every mismatch instead of hiding it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from portfolio.errors import InvalidInput

ZERO = Decimal(0)
WASH_WINDOW_DAYS = 30


class AccountType(StrEnum):
    TAXABLE = "taxable"
    TRADITIONAL_IRA = "traditional_ira"
    ROTH_IRA = "roth_ira"
    K401 = "401k"
    HSA = "hsa"

    @property
    def tax_advantaged(self) -> bool:
        return self is not AccountType.TAXABLE


class TxKind(StrEnum):
    BUY = "buy"
    SELL = "sell"
    DIVIDEND_REINVEST = "dividend_reinvest"


@dataclass(frozen=True)
class InvestmentTransaction:
    id: str
    account_id: str
    ticker: str
    date: dt.date
    kind: TxKind
    quantity: Decimal
    price: Decimal
    fees: Decimal = ZERO
    relief: tuple[tuple[str, Decimal], ...] | None = None  # specific lots: (lot_id, quantity)

    @property
    def is_purchase(self) -> bool:
        return self.kind in (TxKind.BUY, TxKind.DIVIDEND_REINVEST)


@dataclass(frozen=True)
class Lot:
    id: str
    account_id: str
    ticker: str
    quantity: Decimal
    cost_basis: Decimal  # total, including wash-sale adjustments
    acquired: dt.date  # start of the holding period (moved back by a wash sale)
    opened_by: str  # transaction id that created the lot
    purchased: dt.date | None = None  # trade date of the purchase (defaults to acquired)

    @property
    def basis_per_share(self) -> Decimal:
        return self.cost_basis / self.quantity if self.quantity else ZERO

    @property
    def trade_date(self) -> dt.date:
        return self.purchased or self.acquired

    def is_long_term(self, on: dt.date) -> bool:
        return is_long_term(self.acquired, on)


@dataclass(frozen=True)
class RealizedGain:
    lot_id: str
    account_id: str
    ticker: str
    quantity: Decimal
    proceeds: Decimal
    cost_basis: Decimal
    acquired: dt.date
    sold: dt.date
    long_term: bool
    sale_id: str
    wash_sale_disallowed: Decimal = ZERO

    @property
    def gain(self) -> Decimal:
        """Reportable gain: proceeds - basis, plus any disallowed (wash-sale) loss."""
        return self.proceeds - self.cost_basis + self.wash_sale_disallowed


@dataclass
class LotBook:
    lots: list[Lot] = field(default_factory=list)
    realized: list[RealizedGain] = field(default_factory=list)
    permanently_disallowed: Decimal = ZERO  # losses washed by purchases in IRAs etc.

    def open_lots(self, account_id: str | None = None, ticker: str | None = None) -> list[Lot]:
        return [
            lot
            for lot in self.lots
            if lot.quantity > 0
            and (account_id is None or lot.account_id == account_id)
            and (ticker is None or lot.ticker == ticker)
        ]


def one_year_after(d: dt.date) -> dt.date:
    try:
        return d.replace(year=d.year + 1)
    except ValueError:  # 29 February
        return dt.date(d.year + 1, 2, 28)


def is_long_term(acquired: dt.date, sold: dt.date) -> bool:
    """Held more than one year: sold after the first anniversary of the acquisition."""
    return sold > one_year_after(acquired)


def _check_tx(tx: InvestmentTransaction) -> None:
    if tx.quantity <= 0:
        raise InvalidInput("quantity", f"transaction {tx.id}: quantity must be positive")
    if tx.price < 0:
        raise InvalidInput("price", f"transaction {tx.id}: price must not be negative")
    if tx.fees < 0:
        raise InvalidInput("fees", f"transaction {tx.id}: fees must not be negative")


def build_lots(
    transactions: Iterable[InvestmentTransaction],
    account_types: dict[str, AccountType],
    *,
    identical: Callable[[str], frozenset[str]] | None = None,
) -> LotBook:
    """Replay transactions in date order into lots and realised gains, with wash sales applied
    as they happen (so a later sale of a replacement lot uses its adjusted basis)."""
    txs = sorted(transactions, key=lambda t: (t.date, 0 if t.is_purchase else 1, t.id))
    for tx in txs:
        _check_tx(tx)
        if tx.account_id not in account_types:
            raise InvalidInput(
                "account_id", f"transaction {tx.id}: unknown account {tx.account_id}"
            )
    wash = _WashSales(txs, account_types, identical or (lambda t: frozenset({t})))
    book = LotBook()
    by_id: dict[str, int] = {}
    for tx in txs:
        if tx.is_purchase:
            lot = Lot(
                id=tx.id,
                account_id=tx.account_id,
                ticker=tx.ticker,
                quantity=tx.quantity,
                cost_basis=tx.quantity * tx.price + tx.fees,
                acquired=tx.date,
                opened_by=tx.id,
                purchased=tx.date,
            )
            by_id[lot.id] = len(book.lots)
            book.lots.append(lot)
            wash.on_purchase(book, by_id, by_id[lot.id])
        else:
            first = len(book.realized)
            _sell(book, by_id, tx)
            wash.on_sale(book, by_id, first)
    return book


def _sell(book: LotBook, by_id: dict[str, int], tx: InvestmentTransaction) -> None:
    open_idx = [
        i
        for i, lot in enumerate(book.lots)
        if lot.account_id == tx.account_id and lot.ticker == tx.ticker and lot.quantity > 0
    ]
    held = sum((book.lots[i].quantity for i in open_idx), ZERO)
    if tx.quantity > held:
        raise InvalidInput(
            "quantity",
            f"transaction {tx.id}: sells {tx.quantity} {tx.ticker} but only {held} are held "
            f"in account {tx.account_id}",
        )
    if tx.relief is not None:
        plan = []
        total = ZERO
        for lot_id, qty in tx.relief:
            i = by_id.get(lot_id)
            if i is None or i not in open_idx:
                raise InvalidInput("relief", f"transaction {tx.id}: lot {lot_id} is not open here")
            if qty <= 0 or qty > book.lots[i].quantity:
                raise InvalidInput("relief", f"transaction {tx.id}: bad quantity for lot {lot_id}")
            plan.append((i, qty))
            total += qty
        if total != tx.quantity:
            raise InvalidInput("relief", f"transaction {tx.id}: lot quantities must add up")
    else:
        plan, left = [], tx.quantity
        for i in sorted(open_idx, key=lambda j: (book.lots[j].trade_date, book.lots[j].id)):
            if left <= 0:
                break
            take = min(left, book.lots[i].quantity)
            plan.append((i, take))
            left -= take
    net_proceeds = tx.quantity * tx.price - tx.fees
    for i, qty in plan:
        lot = book.lots[i]
        basis = lot.basis_per_share * qty if qty != lot.quantity else lot.cost_basis
        book.realized.append(
            RealizedGain(
                lot_id=lot.id,
                account_id=lot.account_id,
                ticker=lot.ticker,
                quantity=qty,
                proceeds=net_proceeds * qty / tx.quantity,
                cost_basis=basis,
                acquired=lot.acquired,
                sold=tx.date,
                long_term=is_long_term(lot.acquired, tx.date),
                sale_id=tx.id,
            )
        )
        book.lots[i] = replace(lot, quantity=lot.quantity - qty, cost_basis=lot.cost_basis - basis)


class _WashSales:
    """Matches loss sales in taxable accounts with replacement purchases within +-30 days.

    Each replacement share absorbs at most one sold share (in date order).  The matched part of
    the loss is disallowed; it goes into the basis of the matched replacement shares and the
    sold lot's holding period is added to theirs (a partly matched replacement lot is split),
    immediately if the replacement was bought before the sale, or when it is bought (pending)
    if after.  Replacements in tax-advantaged accounts take
    no basis: the loss is lost permanently.
    """

    def __init__(self, txs, account_types, identical) -> None:
        self.purchases = [t for t in txs if t.is_purchase]
        self.types = account_types
        self.identical = identical
        self.used: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.pending: dict[str, list[tuple[Decimal, int, Decimal]]] = defaultdict(list)

    def on_purchase(self, book: LotBook, by_id: dict[str, int], i: int) -> None:
        for amount, held_days, shares in self.pending.pop(book.lots[i].id, []):
            self._adjust(book, by_id, i, amount, held_days, shares)

    @staticmethod
    def _adjust(
        book: LotBook,
        by_id: dict[str, int],
        i: int,
        amount: Decimal,
        held_days: int,
        shares: Decimal,
    ) -> None:
        """Add ``amount`` to the basis of ``shares`` replacement shares of lot ``i`` and tack on
        the sold shares' holding period. When only part of the lot replaced sold shares, that
        part is split off as its own lot (id ``<lot>+w<n>``, same ``opened_by``) so the rest
        keeps its own basis and holding period."""
        lot = book.lots[i]
        if lot.quantity <= 0:
            return
        acquired = min(lot.acquired, lot.trade_date - dt.timedelta(days=held_days))
        if shares >= lot.quantity:
            book.lots[i] = replace(lot, cost_basis=lot.cost_basis + amount, acquired=acquired)
            return
        part_basis = lot.basis_per_share * shares
        book.lots[i] = replace(
            lot, quantity=lot.quantity - shares, cost_basis=lot.cost_basis - part_basis
        )
        n = 1
        while f"{lot.id}+w{n}" in by_id:
            n += 1
        split = replace(
            lot,
            id=f"{lot.id}+w{n}",
            quantity=shares,
            cost_basis=part_basis + amount,
            acquired=acquired,
        )
        by_id[split.id] = len(book.lots)
        book.lots.append(split)

    def on_sale(self, book: LotBook, by_id: dict[str, int], first: int) -> None:
        sold_lots = {rg.lot_id for rg in book.realized[first:]}
        for k in range(first, len(book.realized)):
            rg = book.realized[k]
            loss = rg.cost_basis - rg.proceeds
            if loss <= 0 or self.types[rg.account_id].tax_advantaged:
                continue
            group = self.identical(rg.ticker)
            to_match, disallowed = rg.quantity, ZERO
            held_days = (rg.sold - rg.acquired).days
            for p in self.purchases:
                if to_match <= 0:
                    break
                if p.ticker not in group or p.id in sold_lots:
                    continue
                if abs((p.date - rg.sold).days) > WASH_WINDOW_DAYS:
                    continue
                avail = p.quantity - self.used[p.id]
                if avail <= 0:
                    continue
                matched = min(avail, to_match)
                self.used[p.id] += matched
                to_match -= matched
                part = loss * matched / rg.quantity
                disallowed += part
                if self.types[p.account_id].tax_advantaged:
                    book.permanently_disallowed += part
                elif p.id in by_id:
                    self._adjust(book, by_id, by_id[p.id], part, held_days, matched)
                else:
                    self.pending[p.id].append((part, held_days, matched))
            if disallowed:
                book.realized[k] = replace(rg, wash_sale_disallowed=disallowed)


@dataclass(frozen=True)
class ReportedHolding:
    account_id: str
    ticker: str
    quantity: Decimal
    cost_basis: Decimal | None = None


@dataclass(frozen=True)
class Mismatch:
    account_id: str
    ticker: str
    field: str  # "quantity" | "cost_basis"
    ours: Decimal
    reported: Decimal

    @property
    def difference(self) -> Decimal:
        return self.ours - self.reported


def reconcile(
    book: LotBook,
    reported: Iterable[ReportedHolding],
    *,
    quantity_tolerance: Decimal = Decimal("0.0001"),
    basis_tolerance: Decimal = Decimal("0.01"),
) -> list[Mismatch]:
    """Every position where our lots disagree with the provider (in both directions)."""
    ours_q: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    ours_b: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for lot in book.open_lots():
        ours_q[(lot.account_id, lot.ticker)] += lot.quantity
        ours_b[(lot.account_id, lot.ticker)] += lot.cost_basis
    out: list[Mismatch] = []
    seen = set()
    for h in reported:
        key = (h.account_id, h.ticker)
        seen.add(key)
        if abs(ours_q[key] - h.quantity) > quantity_tolerance:
            out.append(Mismatch(h.account_id, h.ticker, "quantity", ours_q[key], h.quantity))
        if h.cost_basis is not None and abs(ours_b[key] - h.cost_basis) > basis_tolerance:
            out.append(Mismatch(h.account_id, h.ticker, "cost_basis", ours_b[key], h.cost_basis))
    for key, qty in ours_q.items():
        if key not in seen and qty > quantity_tolerance:
            out.append(Mismatch(key[0], key[1], "quantity", qty, ZERO))
    return out
