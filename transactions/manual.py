"""Transactions entered by hand (``source = "manual"``): create (idempotent by key: the key
is kept as ``manual:<key>`` in the provider-id column, unique per user), update, delete.

A new entry without a category goes through the categoriser (the user's rules first) and is
announced in one ``transactions_categorized`` event; every write re-checks the budget alerts.
Provider transactions are not manual ones: their ids answer ``NotFound`` here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from common.db import new_id
from common.errors import NotFound
from common.schemas import to_plain
from transactions import budget_alerts, rule_store
from transactions.context import UserContext
from transactions.edits import set_category
from transactions.input_checks import invalid
from transactions.listing import transaction_out
from transactions.models import Transaction
from transactions.queries import owned
from transactions.store import read_details, read_notes, to_api, write_details

MAX_AMOUNT = Decimal("99999999999999")
_COLUMNS = (
    ("account_id", "account_id"),
    ("amount", "amount"),
    ("currency", "iso_currency_code"),
    ("date", "date"),
)


def _apply(ctx: UserContext, row: Transaction, payload: dict[str, Any]) -> None:
    keys = ctx.keys
    details = read_details(keys, row) if row.details else {}
    if "description" in payload:
        details["name"] = details["original_description"] = payload["description"]
    if "merchant_name" in payload:
        details["merchant_name"] = payload["merchant_name"]
    for name, column in _COLUMNS:
        if name in payload:
            setattr(row, column, payload[name])
    if "amount" in payload:
        amount = payload["amount"]
        if amount == 0 or abs(amount) > MAX_AMOUNT:
            raise invalid("amount", "must be non-zero and at most 14 integer digits")
    if "occurred_at" in payload:
        row.occurred_at = payload["occurred_at"]
        row.local_hour = None if row.occurred_at is None else row.occurred_at.hour
    if "tags" in payload:
        row.tags = sorted(set(payload["tags"]))
    elif row.tags is None:
        row.tags = []
    notes = (
        payload["notes"] if "notes" in payload else (read_notes(keys, row) if row.notes else None)
    )
    write_details(keys, row, details, notes or None)
    if payload.get("category"):
        set_category(ctx, row, payload["category"])


def _manual(ctx: UserContext, transaction_id: object) -> Transaction:
    row = owned(ctx.session, ctx.user_id, transaction_id, lock=True)
    if row.source != "manual":
        raise NotFound("No such manual transaction")
    return row


def create(
    ctx: UserContext, payload: dict[str, Any], idempotency_key: str | None = None
) -> dict[str, Any]:
    session, user_id = ctx.session, ctx.user_id
    marker = None if idempotency_key is None else f"manual:{idempotency_key}"
    if marker is not None:
        found = session.scalars(
            select(Transaction).where(
                Transaction.user_id == user_id,
                Transaction.provider_transaction_id == marker,
            )
        ).first()
        if found is not None:
            return to_plain(to_api(ctx.keys, found, []))
    row = Transaction(
        id=new_id(),
        user_id=user_id,
        source="manual",
        provider_transaction_id=marker,
        category_source="none",
        hidden=False,
        is_split=False,
        anomaly_status="none",
        pending=False,
        payment_channel="other",
    )
    _apply(ctx, row, payload)
    session.add(row)
    if not payload.get("category"):
        rule_store.categorize_with_rules(ctx.keys, session, ctx.categorizer, user_id, [row])
    session.flush()
    ctx.emit(
        "transactions_categorized",
        {"user_id": user_id, "transaction_ids": [row.id], "count": 1},
    )
    result = to_api(ctx.keys, row, [])
    budget_alerts.check(ctx)
    return result


def update(ctx: UserContext, transaction_id: object, payload: dict[str, Any]) -> dict[str, Any]:
    row = _manual(ctx, transaction_id)
    if row.is_split and "amount" in payload and payload["amount"] != row.amount:
        raise invalid("amount", "remove the split before changing the amount")
    _apply(ctx, row, payload)
    ctx.session.flush()
    result = transaction_out(ctx, row)
    budget_alerts.check(ctx)
    return result


def delete(ctx: UserContext, transaction_id: object) -> dict[str, Any]:
    ctx.session.delete(_manual(ctx, transaction_id))
    return {"deleted": transaction_id}
