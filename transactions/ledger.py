"""Turn provider (Plaid /transactions/sync) transactions into ledger records, and plan a sync.

Sign convention, the ONE used across the transactions API: **negative = money out, positive =
money in** (bank-statement style). Plaid sends the opposite (``amount`` positive when money
leaves the account), so :func:`from_provider` flips the sign on ingest.

:func:`plan_sync` is the pure heart of the ``transactions_synced`` handler: given which provider
ids the user already has, it returns the operations that make the ledger match the event. It
is idempotent (replaying an event plans only updates), tolerant (``modified`` for an unknown id
inserts it, ``removed`` for an unknown id is skipped) and replaces a pending transaction by its
posted version in place, so the row keeps its id and the user's notes, tags and category.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

AMOUNT_QUANTUM = Decimal("0.0001")  # NUMERIC(18,4)
MAX_ABS_AMOUNT = Decimal("99999999999999")  # 14 integer digits fit NUMERIC(18,4)
_CURRENCY_RE = re.compile(r"[A-Z]{3}")
_ID_RE = re.compile(r"[A-Za-z0-9_:.\-]{1,100}")
DETAIL_KEYS = (
    "name",
    "original_description",
    "merchant_name",
    "website",
    "location",
    "counterparties",
    "payment_meta",
    "check_number",
)


class LedgerError(ValueError):
    """A provider transaction that cannot be stored; the message names the field."""


def parse_amount(value: object, *, what: str = "amount") -> Decimal:
    """A finite Decimal with at most 4 places from a decimal string, int or Decimal.

    A JSON float from a provider is taken through its shortest ``repr`` (``12.3`` stays
    ``12.3``), never through binary arithmetic. Booleans, NaN and infinities are refused.
    """
    if isinstance(value, bool) or value is None:
        raise LedgerError(f"{what} must be a decimal number, got {value!r}")
    try:
        if isinstance(value, float):
            amount = Decimal(repr(value))
        elif isinstance(value, int | Decimal):
            amount = Decimal(value)
        elif isinstance(value, str):
            amount = Decimal(value.strip())
        else:
            raise LedgerError(f"{what} must be a decimal number, got {type(value).__name__}")
    except InvalidOperation:
        raise LedgerError(f"{what} {value!r} is not a decimal number") from None
    if not amount.is_finite():
        raise LedgerError(f"{what} must be finite, got {value!r}")
    if amount != amount.quantize(AMOUNT_QUANTUM):
        raise LedgerError(f"{what} {value!r} has more than 4 decimal places")
    if abs(amount) > MAX_ABS_AMOUNT:
        raise LedgerError(f"{what} {value!r} is too large")
    return amount.quantize(AMOUNT_QUANTUM)


def parse_date(value: object, *, what: str = "date") -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise LedgerError(f"{what} must be an ISO date (YYYY-MM-DD), got {value!r}")


def parse_datetime(value: object, *, what: str = "datetime") -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise LedgerError(f"{what} must be an ISO-8601 datetime, got {value!r}") from None
    if not isinstance(value, dt.datetime):
        raise LedgerError(f"{what} must be an ISO-8601 datetime, got {value!r}")
    if value.tzinfo is None:
        raise LedgerError(f"{what} must carry a time zone offset")
    return value


def parse_currency(value: object) -> str:
    code = "USD" if value is None else value
    if not isinstance(code, str) or not _CURRENCY_RE.fullmatch(code.strip().upper()):
        raise LedgerError(f"iso_currency_code must be a 3-letter ISO 4217 code, got {value!r}")
    return code.strip().upper()


def provider_id(value: object, *, what: str = "transaction_id") -> str:
    if not isinstance(value, str) or not _ID_RE.fullmatch(value):
        raise LedgerError(f"{what} must be 1-100 characters of [A-Za-z0-9_:.-], got {value!r}")
    return value


def _country(location: object) -> str | None:
    if isinstance(location, Mapping):
        country = location.get("country")
        if isinstance(country, str) and country.strip():
            return country.strip().upper()[:2]
    return None


def _provider_category(txn: Mapping[str, Any]) -> str | None:
    pfc = txn.get("personal_finance_category")
    if isinstance(pfc, Mapping) and isinstance(pfc.get("detailed"), str):
        return pfc["detailed"]
    return None


def description_of(details: Mapping[str, Any]) -> str:
    """The text the categoriser and the search index read: original description, else name."""
    return str(details.get("original_description") or details.get("name") or "").strip()


def merchant_text(details: Mapping[str, Any]) -> str:
    """What identifies the merchant: the provider's merchant name, else the description."""
    return str(details.get("merchant_name") or description_of(details)).strip()


def from_provider(txn: Mapping[str, Any]) -> dict[str, Any]:
    """A ledger record (plain data) from one Plaid transaction dict; LedgerError on bad input.

    ``details`` holds everything that is encrypted at rest; the other keys stay queryable.
    ``local_hour`` is set only when the provider gave a time (``authorized_datetime`` or
    ``datetime``), in the offset the provider sent.
    """
    if not isinstance(txn, Mapping):
        raise LedgerError(f"a transaction must be an object, got {type(txn).__name__}")
    tid = provider_id(txn.get("transaction_id"))
    try:
        pending_of = txn.get("pending_transaction_id")
        at = parse_datetime(txn.get("authorized_datetime"), what="authorized_datetime")
        at = at or parse_datetime(txn.get("datetime"), what="datetime")
        details = {key: txn.get(key) for key in DETAIL_KEYS}
        if not description_of(details):
            raise LedgerError("name or original_description is required")
        return {
            "provider_transaction_id": tid,
            "pending_transaction_id": (
                None if pending_of is None else provider_id(pending_of, what="pending_id")
            ),
            "account_id": provider_id(txn.get("account_id"), what="account_id"),
            # Plaid: positive = money out. Ledger: negative = money out.
            "amount": -parse_amount(txn.get("amount")),
            "iso_currency_code": parse_currency(
                txn.get("iso_currency_code") or txn.get("unofficial_currency_code")
            ),
            "date": parse_date(txn.get("date")),
            "authorized_date": (
                None
                if txn.get("authorized_date") is None
                else parse_date(txn.get("authorized_date"), what="authorized_date")
            ),
            "occurred_at": at,
            "local_hour": None if at is None else at.hour,
            "pending": bool(txn.get("pending", False)),
            "payment_channel": str(txn.get("payment_channel") or "other")[:16],
            "provider_category": _provider_category(txn),
            "country": _country(txn.get("location")),
            "details": details,
        }
    except LedgerError as exc:
        raise LedgerError(f"transaction {tid}: {exc}") from None


@dataclass
class SyncPlan:
    """What one ``transactions_synced`` event does to one user's ledger.

    ``inserts``: records to add; ``updates``: (ledger id, record) pairs, including a pending
    row replaced by its posted version; ``deletes``: ledger ids to remove; ``skipped``:
    provider ids in ``removed`` that the ledger does not hold; ``invalid``: (index, message)
    of transactions refused with a LedgerError (the rest of the event still applies).
    """

    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)


def plan_sync(
    existing: Mapping[str, str],
    added: Iterable[Mapping[str, Any]],
    modified: Iterable[Mapping[str, Any]],
    removed: Iterable[Mapping[str, Any]],
    *,
    new_id,
) -> SyncPlan:
    """Plan a sync against ``existing`` (provider transaction id -> ledger id).

    ``new_id()`` makes ledger ids for inserts (they are client-side so the encrypted columns can
    bind to the row id before the INSERT). Added and modified are applied in that order, then
    removed, as Plaid documents for /transactions/sync.
    """
    index = dict(existing)
    plan = SyncPlan()
    pending_inserts: dict[str, dict[str, Any]] = {}
    for kind, items in (("added", added), ("modified", modified)):
        for position, raw in enumerate(items):
            try:
                record = from_provider(raw)
            except LedgerError as exc:
                plan.invalid.append((f"{kind}[{position}]", str(exc)))
                continue
            tid = record["provider_transaction_id"]
            if tid in pending_inserts:  # the same id twice in one event: last wins
                pending_inserts[tid].update(record)
                continue
            ledger_id = index.get(tid)
            replaced = record["pending_transaction_id"]
            if ledger_id is None and replaced and replaced in index:
                ledger_id = index.pop(replaced)  # pending -> posted, same ledger row
            if ledger_id is None:
                record["id"] = new_id()
                pending_inserts[tid] = record
                plan.inserts.append(record)
            else:
                plan.updates.append((ledger_id, record))
            index[tid] = record.get("id", ledger_id)
    for raw in removed:
        tid = raw.get("transaction_id") if isinstance(raw, Mapping) else None
        if not isinstance(tid, str):
            plan.invalid.append(("removed", f"removed entry without a transaction_id: {raw!r}"))
            continue
        ledger_id = index.pop(tid, None)
        if ledger_id is None:
            plan.skipped.append(tid)
        elif tid in pending_inserts:
            plan.inserts.remove(pending_inserts.pop(tid))
        else:
            plan.deletes.append(ledger_id)
    return plan
