"""One linked Item: its accounts, generated history, clock, change log and error state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from .accounts import AccountSpec, build_accounts
from .changelog import diff_events, initial_events
from .errors import PlaidApiError
from .household import HouseholdLedger, build_household
from .ids import opaque_id, seeded_rng, token
from .institutions import Institution
from .investing import holdings_at, simulate_investments
from .securities import PriceBook
from .timeline import transactions_at

HORIZON_DAYS = 365


@dataclass
class ItemState:
    item_id: str
    item_key: str
    access_token: str
    institution: Institution
    accounts: list[AccountSpec]
    ledger: HouseholdLedger
    investment_transactions: list[dict]
    prices: PriceBook
    anchor: date
    clock: date
    created_at: datetime
    webhook: str | None
    products: list[str]
    billed_products: list[str]
    snapshot: dict[str, dict] = field(default_factory=dict)
    log: list[tuple[str, dict]] = field(default_factory=list)
    error: PlaidApiError | None = None
    fail_next_sync_page: bool = False
    investments_ready: bool = True
    last_webhook: tuple[datetime, str] | None = None
    last_transactions_update: datetime | None = None
    last_investments_update: datetime | None = None

    @property
    def horizon_end(self) -> date:
        return self.anchor + timedelta(days=HORIZON_DAYS)

    def account(self, account_id: str) -> AccountSpec | None:
        return next((a for a in self.accounts if a.account_id == account_id), None)

    def advance(self, days: int) -> list[tuple[str, dict]]:
        """Move the Item's clock forward and append the resulting changes to the log."""
        if days < 1:
            raise ValueError("days must be at least 1")
        if self.clock + timedelta(days=days) > self.horizon_end:
            left = (self.horizon_end - self.clock).days
            raise ValueError(f"the sandbox can advance this Item by at most {left} more days")
        self.clock += timedelta(days=days)
        after = transactions_at(self.ledger.entries, self.item_key, self.clock)
        events = diff_events(self.snapshot, after)
        self.snapshot = after
        self.log.extend(events)
        return events

    def balances(self) -> dict[str, dict[str, Decimal | None]]:
        """account_id -> {current, available, limit}, consistent with the visible transactions."""
        posted: dict[str, Decimal] = {a.account_id: Decimal(0) for a in self.accounts}
        pending: dict[str, Decimal] = {a.account_id: Decimal(0) for a in self.accounts}
        for view in self.snapshot.values():
            bucket = pending if view["pending"] else posted
            bucket[view["account_id"]] += view["amount"]
        holdings = holdings_at(self.investment_transactions, self.clock)
        result: dict[str, dict[str, Decimal | None]] = {}
        for spec in self.accounts:
            if spec.is_investment:
                book = holdings.get(spec.account_id, {"cash": Decimal(0), "positions": {}})
                value = sum(
                    (
                        lot.quantity * self.prices.close(t, self.clock)
                        for t, lots in book["positions"].items()
                        for lot in lots
                    ),
                    Decimal(0),
                )
                cash = book["cash"].quantize(Decimal("0.01"))
                result[spec.account_id] = {
                    "current": (value + cash).quantize(Decimal("0.01")),
                    "available": cash,
                    "limit": None,
                }
                continue
            opening = self.ledger.opening[spec.role]
            if spec.owes:
                current = opening + posted[spec.account_id]
                available = (
                    spec.limit - current - pending[spec.account_id]
                    if spec.limit is not None
                    else None
                )
            else:
                current = opening - posted[spec.account_id]
                available = current - pending[spec.account_id]
            result[spec.account_id] = {
                "current": current,
                "available": available,
                "limit": spec.limit,
            }
        return result


def build_item(
    seed: str,
    ordinal: int,
    institution: Institution,
    prices: PriceBook,
    anchor: date,
    history_days: int,
    target_transactions: int | None,
    webhook: str | None,
    products: list[str],
    created_at: datetime,
) -> ItemState:
    item_key = f"{seed}/item/{ordinal}"
    rng = seeded_rng(item_key, "masks")
    masks = [f"{rng.randint(0, 9999):04d}" for _ in range(6)]
    accounts = build_accounts(item_key, institution, masks)
    ledger = build_household(
        item_key, institution, accounts, anchor, history_days, HORIZON_DAYS, target_transactions
    )
    investments = simulate_investments(
        item_key,
        accounts,
        ledger.cash_flows,
        prices,
        ledger.history_start,
        anchor + timedelta(days=HORIZON_DAYS),
        seeded_rng(item_key, "investing"),
    )

    state = ItemState(
        item_id=opaque_id(item_key, "item"),
        item_key=item_key,
        access_token=token("access", item_key),
        institution=institution,
        accounts=accounts,
        ledger=ledger,
        investment_transactions=investments,
        prices=prices,
        anchor=anchor,
        clock=anchor,
        created_at=created_at,
        webhook=webhook,
        products=list(products),
        billed_products=list(products),
    )
    state.snapshot = transactions_at(ledger.entries, item_key, anchor)
    state.log = initial_events(state.snapshot, anchor)
    state.investments_ready = "investments" in products
    return state
