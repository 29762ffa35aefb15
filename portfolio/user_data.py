"""A user's portfolio data for account export; erasure on ``user_deleted``; ``item_removed``.

Portfolio tables hold no ciphertext, so the export is every user-owned row, table by table
(:func:`common.erasure.user_rows`). When a bank is disconnected, its accounts' holdings, lots,
investment transactions and balance history go, and goals stop linking those accounts; saved
rebalance plans stay as the record of what was proposed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from common.erasure import erase_user, user_rows
from portfolio.models import (
    Account,
    BalanceSnapshot,
    Base,
    ErasedUser,
    Goal,
    InvestmentTxn,
    Position,
    TaxLot,
)

PER_ACCOUNT = (TaxLot, Position, InvestmentTxn, BalanceSnapshot, Account)


def export(session: Session, user_id: str) -> dict[str, Any]:
    return user_rows(session, Base, user_id)


def erase(session: Session, user_id: str) -> dict[str, int]:
    return erase_user(session, Base, ErasedUser, user_id)


def remove_accounts(session: Session, user_id: str, account_ids: list[str]) -> dict[str, int]:
    """Delete the user's rows on the given accounts; unlink them from goals."""
    if not account_ids:
        return {}
    counts = {}
    for model in PER_ACCOUNT:
        result = session.execute(
            delete(model).where(model.user_id == user_id, model.account_id.in_(account_ids))
        )
        counts[model.__tablename__] = result.rowcount or 0
    gone = set(account_ids)
    for goal in session.scalars(select(Goal).where(Goal.user_id == user_id)):
        kept = [a for a in goal.linked_account_ids or [] if a not in gone]
        if kept != list(goal.linked_account_ids or []):
            goal.linked_account_ids = kept
    return counts
