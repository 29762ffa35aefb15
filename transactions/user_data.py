"""A user's ledger data for account export; erasure on ``user_deleted``; ``item_removed``.

Export is everything the service holds about the user, decrypted: transactions (with splits,
notes and tags), budgets, rules and the merchants they corrected. Erasure deletes every row of
the user (:mod:`common.erasure`). When a bank is disconnected, the transactions of its accounts
go too (their ``account_id`` came from that item); manual transactions the user typed into those
accounts go with them, since the accounts no longer exist.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from common.erasure import erase_user
from transactions import rule_store
from transactions.models import (
    Base,
    Budget,
    CategoryCorrection,
    ErasedUser,
    Transaction,
    TransactionSplit,
)
from transactions.store import FieldKeys, budget_to_api, to_api

EXPORT_BATCH = 1_000


def _transactions(keys: FieldKeys, session: Session, user_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Transaction)
        .where(Transaction.user_id == user_id)
        .order_by(Transaction.date, Transaction.id)
        .execution_options(yield_per=EXPORT_BATCH)
    )
    splits: dict[str, list[TransactionSplit]] = {}
    for split in session.scalars(
        select(TransactionSplit)
        .where(TransactionSplit.user_id == user_id)
        .order_by(TransactionSplit.transaction_id, TransactionSplit.position)
    ):
        splits.setdefault(split.transaction_id, []).append(split)
    return [to_api(keys, row, splits.get(row.id, [])) for row in rows]


def export(keys: FieldKeys, session: Session, user_id: str) -> dict[str, Any]:
    corrections = session.scalars(
        select(CategoryCorrection).where(CategoryCorrection.user_id == user_id)
    )
    return {
        "transactions": _transactions(keys, session, user_id),
        "budgets": [
            budget_to_api(b)
            for b in session.scalars(
                select(Budget).where(Budget.user_id == user_id).order_by(Budget.created_at)
            )
        ],
        "rules": rule_store.list_rules(keys, session, user_id),
        "category_corrections": [
            {
                "merchant": keys.open("category_corrections", "merchant_key", c.id, c.merchant_key),
                "category_detailed": c.category_detailed,
            }
            for c in corrections
        ],
    }


def erase(session: Session, user_id: str) -> dict[str, int]:
    return erase_user(session, Base, ErasedUser, user_id)


def remove_accounts(session: Session, user_id: str, account_ids: list[str]) -> int:
    """Delete the user's transactions on the given accounts (splits cascade); returns how many."""
    if not account_ids:
        return 0
    result = session.execute(
        delete(Transaction).where(
            Transaction.user_id == user_id, Transaction.account_id.in_(account_ids)
        )
    )
    return result.rowcount or 0
