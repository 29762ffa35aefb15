"""Anomaly flags on stored transactions: new rows from the last ``ANOMALY_RECENT_DAYS`` days
are scored (``anomalies.score_new``) against the user's history of ``ANOMALY_HISTORY_DAYS``
days before them; each row with a reason is flagged and emits one ``transaction_flagged``
event. A user's "this is fine" dismisses the flag, and the scorer learns from dismissed rows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from transactions import anomalies
from transactions.context import UserContext
from transactions.listing import one_out
from transactions.models import Transaction
from transactions.queries import owned
from transactions.store import anomaly_row

ANOMALY_RECENT_DAYS = 45
ANOMALY_HISTORY_DAYS = 400


def score_new(ctx: UserContext, new_rows: list[Transaction]) -> None:
    recent = [r for r in new_rows if r.date >= ctx.today - dt.timedelta(days=ANOMALY_RECENT_DAYS)]
    if not recent:
        return
    new_ids = {r.id for r in new_rows}
    since = min(r.date for r in recent) - dt.timedelta(days=ANOMALY_HISTORY_DAYS)
    history = [
        anomaly_row(r)
        for r in ctx.session.scalars(
            select(Transaction).where(Transaction.user_id == ctx.user_id, Transaction.date >= since)
        )
        if r.id not in new_ids
    ]
    history += [anomaly_row(r) for r in new_rows if r not in recent]
    results = anomalies.score_new(history, [anomaly_row(r) for r in recent])
    for row in recent:
        result = results[row.id]
        if not result["reasons"]:
            continue
        row.anomaly_status = "flagged"
        row.anomaly_score = Decimal(str(result["score"]))
        row.anomaly_reasons = result["reasons"]
        ctx.emit(
            "transaction_flagged",
            {
                "user_id": ctx.user_id,
                "transaction_id": row.id,
                "reasons": result["reasons"],
                "score": str(row.anomaly_score),
            },
        )


def mark_fine(ctx: UserContext, transaction_id: object) -> dict[str, Any]:
    """The user says a (flagged) transaction is fine: its flag becomes ``dismissed``."""
    row = owned(ctx.session, ctx.user_id, transaction_id, lock=True)
    row.anomaly_status = "dismissed"
    ctx.session.flush()
    return one_out(ctx, row)
