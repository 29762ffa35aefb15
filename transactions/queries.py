"""Selects over the ledger, each scoped to one user: ownership lookups, the split parts of
rows, the list/export filters and the window of plain rows the money views analyse.

Another user's transaction id is ``NotFound`` (never ``Forbidden``), as is an id that could
not be one (not a string, or longer than 36 characters).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from common.errors import NotFound
from transactions import categorization, transfers
from transactions.input_checks import invalid
from transactions.models import Transaction, TransactionSplit
from transactions.store import FieldKeys, analysis_rows

ORDER = {
    "date_desc": (Transaction.date, True),
    "date_asc": (Transaction.date, False),
    "amount_desc": (Transaction.amount, True),
    "amount_asc": (Transaction.amount, False),
}


def owned_row(session: Session, model, user_id: str, row_id: object, *, what: str, lock=False):
    """The user's row of ``model`` by id (``SELECT ... FOR UPDATE`` with ``lock``), else a
    NotFound that says nothing about whether another user has it."""
    if not isinstance(row_id, str) or not 1 <= len(row_id) <= 36:
        raise NotFound(f"No such {what}")
    query = select(model).where(model.id == row_id, model.user_id == user_id)
    row = session.scalars(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFound(f"No such {what}")
    return row


def owned(session: Session, user_id: str, transaction_id: object, *, lock: bool = False):
    """The user's transaction, else NotFound."""
    return owned_row(session, Transaction, user_id, transaction_id, what="transaction", lock=lock)


def splits_of(session: Session, ids: Iterable[str]) -> dict[str, list[TransactionSplit]]:
    """Split parts by transaction id, in their stored order."""
    ids = list(ids)
    found: dict[str, list[TransactionSplit]] = {}
    if not ids:
        return found
    for part in session.scalars(
        select(TransactionSplit)
        .where(TransactionSplit.transaction_id.in_(ids))
        .order_by(TransactionSplit.position)
    ):
        found.setdefault(part.transaction_id, []).append(part)
    return found


def category_clause(name: str):
    """Rows of a primary or detailed category, by their own category or one of their parts."""
    try:
        primary, detailed = categorization.resolve_category(name)
    except ValueError as exc:
        raise invalid("category", str(exc)) from None
    if detailed is None:
        own, part = Transaction.category_primary == primary, TransactionSplit.category_primary
        wanted = primary
    else:
        own, part = Transaction.category_detailed == detailed, TransactionSplit.category_detailed
        wanted = detailed
    in_split = exists().where(TransactionSplit.transaction_id == Transaction.id, part == wanted)
    return or_(own, in_split)


def filtered(keys: FieldKeys, user_id: str, f: Mapping[str, Any]):
    """The user's transactions matching the list/export filters (hidden ones left out unless
    ``include_hidden``; ``q`` through the keyed search-token index)."""
    query = select(Transaction).where(Transaction.user_id == user_id)
    if f.get("start"):
        query = query.where(Transaction.date >= f["start"])
    if f.get("end"):
        query = query.where(Transaction.date <= f["end"])
    if f.get("account_id"):
        query = query.where(Transaction.account_id == f["account_id"])
    if f.get("category"):
        query = query.where(category_clause(f["category"]))
    if f.get("min_amount") is not None:
        query = query.where(Transaction.amount >= f["min_amount"])
    if f.get("max_amount") is not None:
        query = query.where(Transaction.amount <= f["max_amount"])
    if f.get("pending") is not None:
        query = query.where(Transaction.pending.is_(f["pending"]))
    if f.get("flagged") is not None:
        flagged = Transaction.anomaly_status == "flagged"
        query = query.where(flagged if f["flagged"] else ~flagged)
    if not f.get("include_hidden"):
        query = query.where(Transaction.hidden.is_(False))
    if f.get("q"):
        try:
            tokens = keys.query_tokens(user_id, f["q"])
        except ValueError as exc:
            raise invalid("q", str(exc)) from None
        query = query.where(Transaction.search_tokens.contains(tokens))
    return query


def analysis_window(
    session: Session, user_id: str, start: dt.date, end: dt.date
) -> tuple[list[dict[str, Any]], set[str]]:
    """Plain rows (one per split part) of the user's visible transactions from ``start`` to
    ``end`` widened by the transfer-matching window, and the ids that are transfers."""
    margin = dt.timedelta(days=transfers.DEFAULT_WINDOW_DAYS)
    rows = session.scalars(
        select(Transaction).where(
            Transaction.user_id == user_id,
            Transaction.date >= start - margin,
            Transaction.date <= end + margin,
            Transaction.hidden.is_(False),
        )
    ).all()
    plain_rows = analysis_rows(rows, splits_of(session, [r.id for r in rows if r.is_split]))
    return plain_rows, transfers.transfer_ids(plain_rows)
