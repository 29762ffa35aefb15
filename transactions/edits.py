"""The user's edits of a stored transaction (theirs only: another user's id is ``NotFound``):
category (a hand-set category records a merchant correction for the categoriser), notes,
tags, hidden, and splitting into categorised parts. Each edit re-checks the budget alerts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import delete

from common.db import new_id
from transactions import budget_alerts, categorization
from transactions.context import UserContext
from transactions.input_checks import invalid
from transactions.listing import transaction_out
from transactions.models import Transaction, TransactionSplit
from transactions.queries import owned
from transactions.splits import SplitError, check_split
from transactions.store import (
    USER_CATEGORY_SOURCE,
    merchant_key_of,
    read_details,
    record_correction,
    write_details,
)


def set_category(ctx: UserContext, row: Transaction, name: str | None) -> None:
    """A category set by hand (None clears it); a detailed one teaches the merchant."""
    row.category_rule_id = None
    if name is None:
        row.category_primary = row.category_detailed = None
        row.category_source, row.category_confidence = USER_CATEGORY_SOURCE, None
        return
    try:
        primary, detailed = categorization.resolve_category(name)
    except ValueError as exc:
        raise invalid("category", str(exc)) from None
    row.category_primary, row.category_detailed = primary, detailed
    row.category_source, row.category_confidence = USER_CATEGORY_SOURCE, Decimal("1")
    key = merchant_key_of(read_details(ctx.keys, row))
    if detailed is not None and key:
        record_correction(ctx.keys, ctx.session, row.user_id, key, detailed, new_id)


def update(ctx: UserContext, transaction_id: object, patch: dict[str, Any]) -> dict[str, Any]:
    row = owned(ctx.session, ctx.user_id, transaction_id, lock=True)
    if "category" in patch:
        set_category(ctx, row, patch["category"])
    if "notes" in patch:
        write_details(ctx.keys, row, read_details(ctx.keys, row), patch["notes"] or None)
    if "tags" in patch:
        row.tags = sorted(set(patch["tags"]))
    if "hidden" in patch:
        row.hidden = patch["hidden"]
    ctx.session.flush()
    result = transaction_out(ctx, row)
    budget_alerts.check(ctx)
    return result


def _resolved_parts(parts: list[dict[str, Any]]) -> list[tuple[Decimal, str, str | None]]:
    resolved = []
    for index, part in enumerate(parts):
        try:
            primary, detailed = categorization.resolve_category(part["category"])
        except ValueError as exc:
            raise invalid(f"parts.{index}.category", str(exc)) from None
        resolved.append((part["amount"], primary, detailed))
    return resolved


def split(ctx: UserContext, transaction_id: object, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Replace the row's split by ``parts`` (same sign, summing exactly to the amount);
    no parts removes the split."""
    session = ctx.session
    row = owned(session, ctx.user_id, transaction_id, lock=True)
    session.execute(delete(TransactionSplit).where(TransactionSplit.transaction_id == row.id))
    if parts:
        resolved = _resolved_parts(parts)
        try:
            check_split(row.amount, parts)
        except SplitError as exc:
            raise invalid("parts", str(exc)) from None
        for position, (amount, primary, detailed) in enumerate(resolved):
            session.add(
                TransactionSplit(
                    id=new_id(),
                    transaction_id=row.id,
                    user_id=row.user_id,
                    position=position,
                    amount=amount,
                    category_primary=primary,
                    category_detailed=detailed,
                )
            )
    row.is_split = bool(parts)
    session.flush()
    result = transaction_out(ctx, row)
    budget_alerts.check(ctx)
    return result
