"""Brokerage and IRA activity: deposits, buys toward a target mix, quarterly dividends that are
reinvested, tax-loss-harvesting sells (brokerage only) and a yearly IRA fee. Holdings and tax
lots at any date are a FIFO replay of the transactions up to that date, so they always agree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from .accounts import AccountSpec
from .ids import opaque_id
from .ledger import CashFlow
from .money import cents, random_amount
from .securities import CASH_TICKER, FUNDS, PriceBook, security_id

SHARE = Decimal("0.001")
TARGETS = {
    "brokerage": {
        "us": Decimal("0.55"),
        "intl": Decimal("0.25"),
        "bond": Decimal("0.15"),
        "reit": Decimal("0.05"),
    },
    "ira": {
        "us": Decimal("0.45"),
        "intl": Decimal("0.25"),
        "bond": Decimal("0.25"),
        "reit": Decimal("0.05"),
    },
}
FIRST_CHOICE = {
    "brokerage": {"us": "VTI", "intl": "VXUS", "bond": "BND", "reit": "VNQ"},
    "ira": {"us": "ITOT", "intl": "IXUS", "bond": "AGG", "reit": "VNQ"},
}
HARVEST_LOSS = Decimal("0.05")


@dataclass
class Lot:
    lot_id: str
    ticker: str
    bought: date
    quantity: Decimal
    price: Decimal

    @property
    def cost(self) -> Decimal:
        return cents(self.quantity * self.price)


class _Account:
    def __init__(self, item_key: str, spec: AccountSpec, prices: PriceBook):
        self.item_key, self.spec, self.prices = item_key, spec, prices
        self.role = spec.role
        self.cash = Decimal(0)
        self.lots: list[Lot] = []
        self.active = dict(FIRST_CHOICE[self.role])
        self.last_harvest: dict[str, date] = {}
        self.transactions: list[dict] = []

    def _record(
        self,
        day: date,
        name: str,
        ticker: str | None,
        quantity: Decimal,
        amount: Decimal,
        price: Decimal,
        kind: str,
        subtype: str,
    ) -> None:
        seq = len(self.transactions)
        self.transactions.append(
            {
                "investment_transaction_id": opaque_id(self.item_key, "inv", self.role, seq),
                "account_id": self.spec.account_id,
                "security_id": security_id(ticker) if ticker else None,
                "ticker": ticker,
                "date": day,
                "name": name,
                "quantity": quantity,
                "amount": amount,
                "price": price,
                "fees": Decimal("0.00"),
                "type": kind,
                "subtype": subtype,
            }
        )
        self.cash -= amount

    def deposit(self, day: date, amount: Decimal, name: str) -> None:
        subtype = "contribution" if self.role == "ira" else "deposit"
        self._record(day, name, None, Decimal(0), -amount, Decimal(1), "cash", subtype)

    def buy(self, day: date, ticker: str, budget: Decimal, subtype: str = "buy") -> None:
        price = self.prices.close(ticker, day)
        quantity = (budget / price).quantize(SHARE, rounding=ROUND_DOWN)
        if quantity <= 0:
            return
        amount = cents(quantity * price)
        verb = "REINVESTMENT" if subtype == "dividend reinvestment" else "BUY"
        self._record(
            day,
            f"{verb} {FUNDS[ticker].name.upper()}",
            ticker,
            quantity,
            amount,
            price,
            "buy",
            subtype,
        )
        lot_id = self.transactions[-1]["investment_transaction_id"]
        self.lots.append(Lot(lot_id, ticker, day, quantity, price))

    def sell_all(self, day: date, ticker: str) -> Decimal:
        held = [lot for lot in self.lots if lot.ticker == ticker]
        quantity = sum((lot.quantity for lot in held), Decimal(0))
        price = self.prices.close(ticker, day)
        proceeds = cents(quantity * price)
        self._record(
            day,
            f"SELL {FUNDS[ticker].name.upper()}",
            ticker,
            -quantity,
            -proceeds,
            price,
            "sell",
            "sell",
        )
        self.lots = [lot for lot in self.lots if lot.ticker != ticker]
        return proceeds

    def value_by_class(self, day: date) -> dict[str, Decimal]:
        values = {name: Decimal(0) for name in TARGETS[self.role]}
        for lot in self.lots:
            values[FUNDS[lot.ticker].factor] += lot.quantity * self.prices.close(lot.ticker, day)
        return values

    def invest_cash(self, day: date) -> None:
        """Put cash to work in the asset classes furthest below target (at most two buys)."""
        for _ in range(2):
            if self.cash < 50:
                return
            values = self.value_by_class(day)
            total = sum(values.values(), Decimal(0)) + self.cash
            gaps = {c: TARGETS[self.role][c] * total - v for c, v in values.items()}
            asset_class = max(gaps, key=lambda c: (gaps[c], c))
            budget = min(self.cash, max(gaps[asset_class], self.cash / 2))
            self.buy(day, self.active[asset_class], budget)

    def pay_dividends(self, day: date) -> None:
        for ticker in sorted({lot.ticker for lot in self.lots}):
            quantity = sum((lot.quantity for lot in self.lots if lot.ticker == ticker), Decimal(0))
            price = self.prices.close(ticker, day)
            dividend = cents(quantity * price * Decimal(FUNDS[ticker].dividend_yield) / 4)
            if dividend <= 0:
                continue
            self._record(
                day,
                f"DIVIDEND RECEIVED {FUNDS[ticker].name.upper()}",
                ticker,
                Decimal(0),
                -dividend,
                Decimal(0),
                "cash",
                "dividend",
            )
            self.buy(day, ticker, dividend, subtype="dividend reinvestment")

    def harvest_losses(self, day: date) -> None:
        for ticker in sorted({lot.ticker for lot in self.lots}):
            partner = FUNDS[ticker].partner
            if partner == ticker:
                continue
            recent = self.last_harvest.get(ticker)
            if recent is not None and day - recent < timedelta(days=61):
                continue
            held = [lot for lot in self.lots if lot.ticker == ticker]
            cost = sum((lot.cost for lot in held), Decimal(0))
            value = sum((lot.quantity for lot in held), Decimal(0)) * self.prices.close(ticker, day)
            if cost > 0 and (cost - value) / cost >= HARVEST_LOSS:
                proceeds = self.sell_all(day, ticker)
                self.active[FUNDS[ticker].factor] = partner
                self.last_harvest[ticker] = self.last_harvest[partner] = day
                self.buy(day, partner, proceeds)


def _is_dividend_day(day: date) -> bool:
    return day.month in (3, 6, 9, 12) and day.day == 24


def simulate_investments(
    item_key: str,
    accounts: list[AccountSpec],
    cash_flows: list[CashFlow],
    prices: PriceBook,
    start: date,
    end: date,
    rng,
) -> list[dict]:
    """Every investment transaction from ``start`` to ``end``, oldest first."""
    books = {a.role: _Account(item_key, a, prices) for a in accounts if a.is_investment}
    if set(books) != {"brokerage", "ira"}:
        raise ValueError("an Item needs exactly one brokerage and one IRA account")
    books["brokerage"].deposit(
        start, cents(random_amount(rng, 25000, 60000)), "WIRE TRANSFER RECEIVED - INITIAL FUNDING"
    )
    books["ira"].deposit(start, cents(random_amount(rng, 40000, 90000)), "ROLLOVER CONTRIBUTION")
    flows_by_day: dict[date, list[CashFlow]] = {}
    for flow in cash_flows:
        flows_by_day.setdefault(flow.day, []).append(flow)
    day = start
    while day <= end:
        for flow in flows_by_day.get(day, []):
            books[flow.role].deposit(day, flow.amount, flow.name)
        for book in books.values():
            if _is_dividend_day(day):
                book.pay_dividends(day)
            if book.role == "brokerage" and day.day in (10, 25):
                book.harvest_losses(day)
            book.invest_cash(day)
        if day.month == 12 and day.day == 15:
            ira = books["ira"]
            ira._record(
                day,
                "ANNUAL ACCOUNT FEE",
                None,
                Decimal(0),
                Decimal("25.00"),
                Decimal(0),
                "fee",
                "account fee",
            )
        day += timedelta(days=1)
    merged = books["brokerage"].transactions + books["ira"].transactions
    return sorted(merged, key=lambda t: (t["date"], t["investment_transaction_id"]))


def holdings_at(transactions: list[dict], clock: date) -> dict[str, dict]:
    """account_id -> {"cash": Decimal, "positions": {ticker: [Lot]}} by FIFO replay."""
    books: dict[str, dict] = {}
    for txn in transactions:
        if txn["date"] > clock:
            continue
        book = books.setdefault(txn["account_id"], {"cash": Decimal(0), "positions": {}})
        book["cash"] -= txn["amount"]
        ticker = txn["ticker"]
        if txn["type"] == "buy":
            book["positions"].setdefault(ticker, []).append(
                Lot(
                    txn["investment_transaction_id"],
                    ticker,
                    txn["date"],
                    txn["quantity"],
                    txn["price"],
                )
            )
        elif txn["type"] == "sell":
            remaining = -txn["quantity"]
            lots = book["positions"].get(ticker, [])
            while remaining > 0 and lots:
                lot = lots[0]
                if lot.quantity <= remaining:
                    remaining -= lot.quantity
                    lots.pop(0)
                else:
                    lot.quantity -= remaining
                    remaining = Decimal(0)
            if remaining > 0:
                raise ValueError(f"sell of {ticker} exceeds the shares held")
    for book in books.values():
        book["positions"] = {t: lots for t, lots in book["positions"].items() if lots}
    return books


__all__ = ["CASH_TICKER", "holdings_at", "simulate_investments"]
