"""Users' hand-set categories as training rows (`nestegg categorizer train --from-deployment`).

A transaction whose category the user set by hand (``category_source = "user"``) is a labelled
example the shipped corpus does not have. Retraining folds these in: each becomes one row of
(description, amount, payment channel, detailed category), the same shape as a corpus row, with
the amount in the ledger's sign convention (negative = money out, as in the corpus).

What leaves the ledger is the minimum a model needs: no user id, account, date or notes. Rows
are de-duplicated on (description, amount sign, category), so one user correcting a thousand
coffee purchases does not outweigh the corpus; at most ``per_label_cap`` rows per category.
Split transactions are skipped (their category lives on the parts).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from transactions.ledger import description_of
from transactions.models import Transaction
from transactions.store import USER_CATEGORY_SOURCE, FieldKeys, read_details

DEFAULT_PER_LABEL_CAP = 2_000


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
    per_label_cap: int = DEFAULT_PER_LABEL_CAP,
    batch: int = 500,
) -> list[dict[str, Any]]:
    """Training rows from every user's hand-set categories (decrypted here, never logged)."""
    seen: set[tuple[str, bool, str]] = set()
    per_label: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    for txn in _user_categorised(session, batch):
        description = description_of(read_details(keys, txn))
        label = txn.category_detailed
        key = (description.upper(), txn.amount < 0, label)
        if not description or key in seen or per_label[label] >= per_label_cap:
            continue
        seen.add(key)
        per_label[label] += 1
        rows.append(
            {
                "description": description,
                "amount": str(txn.amount),
                "payment_channel": txn.payment_channel or "other",
                "category_detailed": label,
            }
        )
    return rows


def rows_from_deployment(settings=None, *, per_label_cap: int = DEFAULT_PER_LABEL_CAP) -> list:
    """Connect as the transactions service to its database and export the corrected rows."""
    from common import config
    from common.db import make_engine, make_session_factory

    settings = settings or config.load()
    engine = make_engine(
        settings.database_url("transactions"), pool_size=1, application_name="nestegg-train"
    )
    try:
        with make_session_factory(engine)() as session:
            return corrected_training_rows(session, FieldKeys(), per_label_cap=per_label_cap)
    finally:
        engine.dispose()
