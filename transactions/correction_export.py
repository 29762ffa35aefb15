"""Users' hand-set categories as training rows (`nestegg categorizer train --from-deployment`).

A transaction whose category the user set by hand (``category_source = "user"``) is a labelled
example the shipped corpus does not have. Retraining folds these in: each becomes one row of
(description, amount, payment channel, detailed category), the same shape as a corpus row, with
the amount in the ledger's sign convention (negative = money out, as in the corpus).

What leaves the ledger is the minimum a model needs: no user id, account, date or notes. A
trained model keeps its vocabulary in clear, and a model outlives a user's erasure, so a
(merchant, category) pair is used only when at least ``min_users`` different users taught it
(default 3): what one person typed ("RENT TO J SMITH") never enters a model. Rows are
de-duplicated on (description, amount sign, category), so one user correcting a thousand coffee
purchases does not outweigh the corpus; at most ``per_label_cap`` rows per category. Split
transactions are skipped (their category lives on the parts).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from transactions.categorizer.normalize import merchant_key
from transactions.ledger import description_of
from transactions.models import Transaction
from transactions.store import USER_CATEGORY_SOURCE, FieldKeys, read_details

DEFAULT_PER_LABEL_CAP = 2_000
DEFAULT_MIN_USERS = 3


def _user_categorised(session: Session, batch: int) -> Iterator[Transaction]:
    query = (
        select(Transaction)
        .where(
            Transaction.category_source == USER_CATEGORY_SOURCE,
            Transaction.category_detailed.is_not(None),
            Transaction.is_split.is_(False),
        )
        .order_by(Transaction.id)
        .execution_options(yield_per=batch)
    )
    yield from session.scalars(query)


def corrected_training_rows(
    session: Session,
    keys: FieldKeys,
    *,
    min_users: int = DEFAULT_MIN_USERS,
    per_label_cap: int = DEFAULT_PER_LABEL_CAP,
    batch: int = 500,
) -> list[dict[str, Any]]:
    """Training rows from users' hand-set categories (decrypted here, never logged)."""
    if min_users < 1:
        raise ValueError("min_users must be at least 1")
    teachers: dict[tuple[str, str], set[str]] = defaultdict(set)
    candidates: list[tuple[tuple[str, str], dict[str, Any]]] = []
    for txn in _user_categorised(session, batch):
        description = description_of(read_details(keys, txn))
        if not description:
            continue
        group = (merchant_key(description) or description.upper(), txn.category_detailed)
        teachers[group].add(txn.user_id)
        candidates.append(
            (
                group,
                {
                    "description": description,
                    "amount": str(txn.amount),
                    "payment_channel": txn.payment_channel or "other",
                    "category_detailed": txn.category_detailed,
                },
            )
        )
    seen: set[tuple[str, bool, str]] = set()
    per_label: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    for group, row in candidates:
        label = row["category_detailed"]
        key = (row["description"].upper(), row["amount"].startswith("-"), label)
        if len(teachers[group]) < min_users or key in seen or per_label[label] >= per_label_cap:
            continue
        seen.add(key)
        per_label[label] += 1
        rows.append(row)
    return rows


def rows_from_deployment(
    settings=None,
    *,
    min_users: int = DEFAULT_MIN_USERS,
    per_label_cap: int = DEFAULT_PER_LABEL_CAP,
) -> list:
    """Connect as the transactions service to its database and export the corrected rows."""
    from common import config
    from common.db import make_engine, make_session_factory

    settings = settings or config.load()
    engine = make_engine(
        settings.database_url("transactions"), pool_size=1, application_name="nestegg-train"
    )
    try:
        with make_session_factory(engine)() as session:
            return corrected_training_rows(
                session, FieldKeys(), min_users=min_users, per_label_cap=per_label_cap
            )
    finally:
        engine.dispose()
