"""A ledger entry's life: authorised (pending), posted under a new id, maybe modified or
removed later. ``transactions_at(entries, clock)`` is the set of transactions a bank would show
on a given day; the change log is the difference between two such days."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from decimal import Decimal

from .ids import opaque_id

NULL_LOCATION = {
    "address": None,
    "city": None,
    "region": None,
    "postal_code": None,
    "country": None,
    "lat": None,
    "lon": None,
    "store_number": None,
}
NULL_PAYMENT_META = {
    "reference_number": None,
    "ppd_id": None,
    "payee": None,
    "by_order_of": None,
    "payer": None,
    "payment_method": None,
    "payment_processor": None,
    "reason": None,
}


@dataclass
class Entry:
    seq: int
    account_id: str
    amount: Decimal  # Plaid sign: positive when money leaves the account
    post_date: date | None  # None: an authorisation that expires without posting
    name: str
    payment_channel: str = "other"
    merchant_name: str | None = None
    auth_date: date | None = None  # card purchases show as pending from this day
    auth_time: time | None = None
    pending_amount: Decimal | None = None  # e.g. a restaurant bill before the tip
    expire_on: date | None = None  # for authorisations that never post
    location: dict = field(default_factory=lambda: dict(NULL_LOCATION))
    payment_meta: dict = field(default_factory=lambda: dict(NULL_PAYMENT_META))
    check_number: str | None = None
    website: str | None = None
    modify_on: date | None = None
    modification: dict = field(default_factory=dict)  # fields replaced from modify_on
    remove_on: date | None = None

    def __post_init__(self) -> None:
        if self.post_date is None and (self.auth_date is None or self.expire_on is None):
            raise ValueError("an entry that never posts needs auth_date and expire_on")
        if self.auth_date and self.post_date and self.auth_date > self.post_date:
            raise ValueError("authorisation cannot come after posting")
        unknown = set(self.modification) - {"name", "amount", "merchant_name", "date"}
        if unknown:
            raise ValueError(f"cannot modify fields {sorted(unknown)}")

    @property
    def has_pending_phase(self) -> bool:
        return self.auth_date is not None and (
            self.post_date is None or self.auth_date < self.post_date
        )

    @property
    def first_seen(self) -> date:
        return self.auth_date if self.has_pending_phase else self.post_date  # type: ignore[return-value]


def _authorized_datetime(entry: Entry) -> datetime | None:
    if entry.auth_date is None or entry.auth_time is None:
        return None
    return datetime.combine(entry.auth_date, entry.auth_time, tzinfo=timezone.utc)


def _view(entry: Entry, item_key: str, pending: bool, clock: date) -> dict:
    pending_id = opaque_id(item_key, "txn", entry.seq, "pending")
    amount = entry.amount
    if pending and entry.pending_amount is not None:
        amount = entry.pending_amount
    view = {
        "transaction_id": pending_id
        if pending
        else opaque_id(item_key, "txn", entry.seq, "posted"),
        "account_id": entry.account_id,
        "amount": amount,
        "date": entry.auth_date if pending else entry.post_date,
        "authorized_date": entry.auth_date,
        "authorized_datetime": _authorized_datetime(entry),
        "name": entry.name,
        "merchant_name": entry.merchant_name,
        "payment_channel": entry.payment_channel,
        "pending": pending,
        "pending_transaction_id": None if pending or not entry.has_pending_phase else pending_id,
        "location": entry.location,
        "payment_meta": entry.payment_meta,
        "check_number": entry.check_number,
        "website": entry.website,
    }
    if not pending and entry.modify_on is not None and clock >= entry.modify_on:
        view.update(entry.modification)
    return view


def entry_views(entry: Entry, item_key: str, clock: date) -> list[dict]:
    """What this entry shows on ``clock``: nothing, its pending form or its posted form."""
    if entry.remove_on is not None and clock >= entry.remove_on:
        return []
    if entry.post_date is not None and clock >= entry.post_date:
        return [_view(entry, item_key, pending=False, clock=clock)]
    if entry.has_pending_phase and clock >= entry.auth_date:  # type: ignore[operator]
        if entry.expire_on is not None and clock >= entry.expire_on:
            return []
        return [_view(entry, item_key, pending=True, clock=clock)]
    return []


def transactions_at(entries: list[Entry], item_key: str, clock: date) -> dict[str, dict]:
    """transaction_id -> transaction view, for every transaction visible on ``clock``."""
    visible: dict[str, dict] = {}
    for entry in entries:
        for view in entry_views(entry, item_key, clock):
            visible[view["transaction_id"]] = view
    return visible
