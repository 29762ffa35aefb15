"""Reading the caller's transactions as the API shows them: one transaction, a keyset page of
a filtered list (signed cursor bound to the sort and the filters), and the CSV export rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import tuple_

from common.schemas import to_plain
from transactions.context import UserContext
from transactions.input_checks import invalid
from transactions.models import Transaction
from transactions.pagination import InvalidCursor, decode_cursor, encode_cursor, filters_digest
from transactions.queries import ORDER, filtered, owned, splits_of
from transactions.store import to_api

EXPORT_MAX_ROWS = 50_000


def transaction_out(ctx: UserContext, row: Transaction) -> dict[str, Any]:
    """One transaction as the API shows it (details decrypted, splits attached)."""
    return to_api(ctx.keys, row, splits_of(ctx.session, [row.id]).get(row.id, []))


def one_out(ctx: UserContext, row: Transaction) -> dict[str, Any]:
    """``transaction_out`` as plain JSON values."""
    return to_plain(transaction_out(ctx, row))


def get(ctx: UserContext, transaction_id) -> dict[str, Any]:
    return one_out(ctx, owned(ctx.session, ctx.user_id, transaction_id))


def page(ctx: UserContext, payload: dict[str, Any]) -> dict[str, Any]:
    """``{items, next_cursor}``: up to ``limit`` rows after the cursor, in the asked order."""
    keys = ctx.keys
    sort, limit = payload["sort"], payload["limit"]
    digest = filters_digest({k: v for k, v in payload.items() if k != "sort"})
    column, descending = ORDER[sort]
    query = filtered(keys, ctx.user_id, payload)
    if payload.get("cursor"):
        try:
            value, last_id = decode_cursor(
                keys.cursor_key, payload["cursor"], sort=sort, digest=digest
            )
        except InvalidCursor as exc:
            raise invalid("cursor", str(exc)) from None
        key = tuple_(column, Transaction.id)
        query = query.where(key < (value, last_id) if descending else key > (value, last_id))
    order = (column.desc(), Transaction.id.desc()) if descending else (column, Transaction.id)
    rows = ctx.session.scalars(query.order_by(*order).limit(limit + 1)).all()
    shown = rows[:limit]
    splits = splits_of(ctx.session, [r.id for r in shown if r.is_split])
    items = [to_api(keys, r, splits.get(r.id, [])) for r in shown]
    next_cursor = None
    if len(rows) > limit:
        last = shown[-1]
        value = last.date if sort.startswith("date") else last.amount
        next_cursor = encode_cursor(
            keys.cursor_key, sort=sort, digest=digest, value=value, row_id=last.id
        )
    return {"items": items, "next_cursor": next_cursor}


def export_rows(ctx: UserContext, filters: dict[str, Any]) -> list[dict[str, Any]]:
    """The filtered rows by date (at most ``EXPORT_MAX_ROWS``), each with its ``source``."""
    query = filtered(ctx.keys, ctx.user_id, filters)
    rows = ctx.session.scalars(
        query.order_by(Transaction.date, Transaction.id).limit(EXPORT_MAX_ROWS)
    ).all()
    items = []
    for row in rows:
        item = to_api(ctx.keys, row, [])
        item["source"] = row.source
        items.append(item)
    return items
