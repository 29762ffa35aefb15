"""One Item's banking history, generated deterministically from its key.

The ledger covers ``history_days`` before the anchor date (the sandbox's "today" at link time)
and ``horizon_days`` after it; the days after the anchor are revealed by the admin ``advance``
hook, which is how new, posted, modified and removed transactions "arrive over time".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from . import recurring
from .accounts import AccountSpec
from .ids import seeded_rng
from .institutions import Institution
from .ledger import CashFlow, LedgerBuilder
from .merchants import FIRST_NAMES, LAST_NAMES
from .money import cents, random_amount
from .spending import Spender
from .timeline import Entry

NATURAL_PURCHASES_PER_DAY = 2.4
CHECKING_FLOOR = Decimal("1500")


@dataclass
class HouseholdLedger:
    entries: list[Entry]
    cash_flows: list[CashFlow]
    opening: dict[str, Decimal]  # account role -> balance on the day before history starts
    holder: str
    history_start: date


def _schedule_changes(entries: list[Entry], rng, anchor: date) -> None:
    """Some card purchases are later corrected (modified) or reversed (removed) by the bank;
    at least one of each happens within days of the anchor, so ``advance`` always shows both."""
    candidates = []
    for entry in entries:
        if entry.post_date is None or entry.auth_date is None or entry.remove_on is not None:
            continue
        if anchor - timedelta(days=1) <= entry.post_date <= anchor + timedelta(days=3):
            candidates.append(entry)
        roll = rng.random()
        if roll < 0.06:
            _modify(entry, rng, entry.post_date + timedelta(days=rng.randint(1, 3)))
        elif roll < 0.08:
            entry.remove_on = entry.post_date + timedelta(days=rng.randint(1, 4))
    if len(candidates) >= 2:
        modified, removed = rng.sample(candidates, 2)
        _modify(modified, rng, modified.post_date + timedelta(days=2))
        removed.modify_on, removed.modification = None, {}
        removed.remove_on = removed.post_date + timedelta(days=2)


def _modify(entry: Entry, rng, when: date) -> None:
    entry.modify_on = when
    if entry.merchant_name is None:
        entry.modification = {"name": entry.name.split("  ")[0].strip() + " *ADJ"}
    else:
        delta = cents(random_amount(rng, "0.50", "6.00"))
        entry.modification = {"amount": entry.amount + delta}


def _opening_checking(entries: list[Entry], account: AccountSpec) -> Decimal:
    """The smallest round opening balance that keeps checking above the floor throughout."""
    flows = sorted(
        (e.post_date, e.amount)
        for e in entries
        if e.account_id == account.account_id and e.post_date is not None
    )
    running, lowest = Decimal(0), Decimal(0)
    for _, amount in flows:
        running -= amount
        lowest = min(lowest, running)
    return (CHECKING_FLOOR - lowest).quantize(Decimal("1000")) + 1000


def build_household(
    item_key: str,
    institution: Institution,
    accounts: list[AccountSpec],
    anchor: date,
    history_days: int,
    horizon_days: int,
    target_transactions: int | None,
) -> HouseholdLedger:
    if not 1 <= history_days <= 730:
        raise ValueError("history_days must be within 1..730")
    if horizon_days < 0:
        raise ValueError("horizon_days must not be negative")
    rng = seeded_rng(item_key, "household")
    by_role = {a.role: a for a in accounts}
    holder = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    b = LedgerBuilder(item_key, institution, by_role, holder, rng)
    start = anchor - timedelta(days=history_days - 1)
    end = anchor + timedelta(days=horizon_days)
    opening = {
        "savings": cents(random_amount(rng, 6000, 25000)),
        "credit": cents(random_amount(rng, 200, 900)),
    }
    opening["loan"] = recurring.add_housing_and_loan(b, start, end)
    recurring.add_utilities(b, start, end)
    recurring.add_subscriptions(b, start, end)
    recurring.add_savings(b, start, end, opening["savings"])
    recurring.add_investing_transfers(b, start, end)

    spender = Spender(b)
    spender.cash_and_cheques(start, end)
    spender.fees(start, anchor)
    for trip in range(max(1, history_days // 300)):
        first = start + timedelta(days=rng.randint(20, max(21, history_days - 20)))
        spender.trip_abroad(first + timedelta(days=trip), rng.randint(3, 6))
    spender.anomalies(start, anchor, end)
    per_day = NATURAL_PURCHASES_PER_DAY
    if target_transactions is not None:
        in_window = sum(1 for e in b.entries if e.post_date and e.post_date <= anchor)
        # each purchase brings ~0.1 extra lines (pump pre-authorisations, returns, tips)
        per_day = max(0.5, (target_transactions - in_window) / history_days / 1.02)
    spender.everyday(start, end, per_day)
    recurring.add_card_payments(b, start, end, opening["credit"])
    checking_id = by_role["checking"].account_id
    net_outflow = sum(
        (e.amount for e in b.entries if e.account_id == checking_id and e.post_date), Decimal(0)
    )
    savings_rate = Decimal(rng.randint(103, 110)) / 100
    recurring.add_payroll(b, start, end, max(Decimal(10000), cents(net_outflow * savings_rate)))
    _schedule_changes(b.entries, rng, anchor)
    opening["checking"] = _opening_checking(b.entries, by_role["checking"])
    return HouseholdLedger(b.entries, b.cash_flows, opening, holder, start)
