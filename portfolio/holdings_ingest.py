"""From a ``holdings_synced`` payload (Plaid shapes, money as Decimal) to lots and positions.

Plain functions, no database:

* :func:`tax_type` maps a Plaid investment subtype to the tax treatment the TLH and rebalance
  code needs (taxable, traditional IRA, Roth IRA, 401(k), HSA).
* :func:`account_kind` says whether an account is an asset or a liability (credit and loan
  accounts are liabilities: Plaid reports what is owed as a positive ``current``).
* :func:`lot_transactions` turns Plaid investment transactions into ``portfolio.lots``
  transactions: type ``buy`` (any subtype; a ``dividend reinvestment`` or other
  ``... reinvestment`` subtype is a purchase that opens a lot) and ``sell``. Plaid signs: a buy has
  quantity > 0, a sell quantity < 0; the lot code takes positive quantities.
* :func:`rebuild` replays the whole history into lots, reconciles them with the provider's
  reported holdings, and returns positions with every mismatch flagged. A sale of more shares than
  the history holds (history older than the provider's window) is cut to what is held and
  reported as an issue instead of failing the sync.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal

from portfolio import reference
from portfolio.lots import (
    AccountType,
    InvestmentTransaction,
    Lot,
    LotBook,
    ReportedHolding,
    TxKind,
    build_lots,
    reconcile,
)

ZERO = Decimal(0)

# Plaid AccountSubtype (investment) -> tax treatment. Anything not listed is taxable.
_TRADITIONAL = {
    "ira",
    "sep ira",
    "simple ira",
    "sarsep",
    "keogh",
    "pension",
    "retirement",
    "profit sharing plan",
    "rrsp",
    "rrif",
    "lira",
    "lif",
    "lrif",
    "lrsp",
    "prif",
    "rdsp",
    "resp",
    "sipp",
    "nhs",
}
_ROTH = {"roth", "tfsa", "isa", "education savings account", "529"}
_EMPLOYER = {"401k", "401a", "403b", "457b", "roth 401k", "thrift savings plan", "stock plan"}
_HSA = {"hsa"}
LIABILITY_TYPES = {"credit", "loan"}


def tax_type(provider_type: str | None, subtype: str | None) -> AccountType | None:
    """Tax treatment of an investment account; None for non-investment accounts."""
    if (provider_type or "").lower() not in ("investment", "brokerage"):
        return None
    s = (subtype or "").strip().lower()
    if s in _HSA:
        return AccountType.HSA
    if s in _EMPLOYER and s != "stock plan":
        return AccountType.K401
    if s in _ROTH:
        return AccountType.ROTH_IRA
    if s in _TRADITIONAL:
        return AccountType.TRADITIONAL_IRA
    return AccountType.TAXABLE


def account_kind(provider_type: str | None) -> str:
    return "liability" if (provider_type or "").lower() in LIABILITY_TYPES else "asset"


def ticker_map(securities: Iterable[Mapping]) -> dict[str, str]:
    """security_id -> ticker (upper case); securities without a ticker use their id."""
    out = {}
    for s in securities:
        ticker = s.get("ticker") or s.get("ticker_symbol")
        out[s["security_id"]] = (ticker or s["security_id"]).upper()
    return out


def _kind(txn: Mapping) -> TxKind | None:
    t = (txn.get("type") or "").lower()
    sub = (txn.get("subtype") or "").lower()
    if t == "buy":
        return TxKind.DIVIDEND_REINVEST if "reinvest" in sub else TxKind.BUY
    if t == "sell":
        return TxKind.SELL
    return None


def lot_transactions(
    transactions: Iterable[Mapping], tickers: Mapping[str, str]
) -> list[InvestmentTransaction]:
    """The lot-relevant (buy / sell / reinvestment) transactions, quantities positive."""
    out = []
    for txn in transactions:
        kind = _kind(txn)
        sec = txn.get("security_id")
        if kind is None or not sec:
            continue
        qty = abs(Decimal(txn.get("quantity") or 0))
        if qty == 0:
            continue
        price = Decimal(txn.get("price") or 0)
        fees = Decimal(txn.get("fees") or 0)
        if price <= 0 and txn.get("amount") is not None:
            price = abs(Decimal(txn["amount"]) - fees) / qty
        out.append(
            InvestmentTransaction(
                id=txn["investment_transaction_id"],
                account_id=txn["account_id"],
                ticker=tickers.get(sec, sec).upper(),
                date=_as_date(txn["date"]),
                kind=kind,
                quantity=qty,
                price=abs(price),
                fees=abs(fees),
            )
        )
    return out


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def clip_oversold(txs: list[InvestmentTransaction]) -> tuple[list[InvestmentTransaction], list]:
    """Cut sales that exceed the shares the history holds; return (transactions, issues)."""
    ordered = sorted(txs, key=lambda t: (t.date, 0 if t.is_purchase else 1, t.id))
    held: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    out, issues = [], []
    for tx in ordered:
        key = (tx.account_id, tx.ticker)
        if tx.is_purchase:
            held[key] += tx.quantity
            out.append(tx)
            continue
        if tx.quantity > held[key]:
            issues.append(
                {
                    "account_id": tx.account_id,
                    "ticker": tx.ticker,
                    "field": "history",
                    "detail": f"sale {tx.id} of {tx.quantity} exceeds the {held[key]} shares "
                    "bought in the synced history; the excess has no lot",
                }
            )
            if held[key] <= 0:
                continue
            tx = replace(tx, quantity=held[key])
        held[key] -= tx.quantity
        out.append(tx)
    return out, issues


@dataclass
class PositionRow:
    account_id: str
    ticker: str
    security_id: str | None
    quantity: Decimal
    cost_basis: Decimal
    reported_quantity: Decimal | None = None
    reported_cost_basis: Decimal | None = None
    institution_value: Decimal | None = None
    issues: list[dict] = field(default_factory=list)

    @property
    def mismatch(self) -> bool:
        return bool(self.issues)


@dataclass
class Rebuilt:
    book: LotBook
    positions: list[PositionRow]
    issues: list[dict]  # history problems not tied to a reported position


def rebuild(
    transactions: Iterable[InvestmentTransaction],
    account_types: Mapping[str, AccountType],
    reported: Iterable[ReportedHolding],
    *,
    cash: Iterable[ReportedHolding] = (),
    security_ids: Mapping[str, str] | None = None,
    institution_values: Mapping[tuple[str, str], Decimal] | None = None,
) -> Rebuilt:
    """Lots from the full history, positions next to the provider's holdings, mismatches.

    ``cash`` holdings (Plaid security type ``cash``) have no lots; they are listed as reported.
    """
    ref = reference.load()
    known = [t for t in transactions if t.account_id in account_types]
    txs, history_issues = clip_oversold(known)
    book = build_lots(txs, dict(account_types), identical=ref.identical_to)
    reported = list(reported)
    mismatches = reconcile(book, reported)
    rows: dict[tuple[str, str], PositionRow] = {}
    security_ids = security_ids or {}
    for lot in book.open_lots():
        key = (lot.account_id, lot.ticker)
        row = rows.get(key)
        if row is None:
            row = rows[key] = PositionRow(
                lot.account_id, lot.ticker, security_ids.get(lot.ticker), ZERO, ZERO
            )
        row.quantity += lot.quantity
        row.cost_basis += lot.cost_basis
    for h in reported:
        key = (h.account_id, h.ticker)
        row = rows.get(key)
        if row is None:
            row = rows[key] = PositionRow(
                h.account_id, h.ticker, security_ids.get(h.ticker), ZERO, ZERO
            )
        row.reported_quantity = h.quantity
        row.reported_cost_basis = h.cost_basis
        if institution_values:
            row.institution_value = institution_values.get(key)
    for m in mismatches:
        rows[(m.account_id, m.ticker)].issues.append(
            {
                "field": m.field,
                "ours": str(m.ours),
                "reported": str(m.reported),
                "difference": str(m.difference),
            }
        )
    leftover = []
    for issue in history_issues:
        row = rows.get((issue["account_id"], issue["ticker"]))
        if row is None:
            leftover.append(issue)
        else:
            row.issues.append({"field": "history", "detail": issue["detail"]})
    for h in cash:
        rows[(h.account_id, h.ticker)] = PositionRow(
            h.account_id,
            h.ticker,
            security_ids.get(h.ticker),
            h.quantity,
            h.cost_basis if h.cost_basis is not None else h.quantity,
            h.quantity,
            h.cost_basis,
            (institution_values or {}).get((h.account_id, h.ticker)),
        )
    ordered = sorted(rows.values(), key=lambda r: (r.account_id, r.ticker))
    return Rebuilt(book, ordered, leftover)


def open_lots(book: LotBook) -> list[Lot]:
    return [lot for lot in book.lots if lot.quantity > 0]
