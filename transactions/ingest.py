"""``aggregation.transactions_synced`` applied to the user's ledger (service layer).

``ledger.plan_sync`` plans inserts, in-place updates (a posted row replaces its pending one)
and deletes against the user's stored provider ids; new rows are categorised (the user's rules
first) and announced in one ``transactions_categorized`` event, recent new rows are scored for
anomalies (``flags``), and any change re-checks the budget alerts (``budget_alerts``).
A malformed transaction is logged by id and field, never by its text, and skipped.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import delete, select

from common.db import new_id
from transactions import budget_alerts, flags, rule_store
from transactions.context import UserContext
from transactions.ledger import plan_sync
from transactions.models import Transaction
from transactions.store import apply_record

log = logging.getLogger(__name__)


def _known_ids(ctx: UserContext, data: dict[str, Any]) -> dict[str, str]:
    """Provider id -> ledger id of the user's rows this event mentions."""
    changed = data["added"] + data["modified"]
    wanted = {t.get("transaction_id") for t in changed}
    wanted |= {t.get("pending_transaction_id") for t in changed}
    wanted |= {t.get("transaction_id") for t in data["removed"]}
    wanted = {w for w in wanted if isinstance(w, str)}
    return dict(
        ctx.session.execute(
            select(Transaction.provider_transaction_id, Transaction.id).where(
                Transaction.user_id == ctx.user_id,
                Transaction.provider_transaction_id.in_(wanted),
            )
        ).all()
    )


def _new_row(ctx: UserContext, data: dict[str, Any], record: dict[str, Any]) -> Transaction:
    row = Transaction(
        id=record["id"],
        user_id=ctx.user_id,
        source="provider",
        item_id=data.get("item_id"),
        category_source="none",
        tags=[],
        hidden=False,
        is_split=False,
        anomaly_status="none",
    )
    apply_record(ctx.keys, row, record)
    return row


def transactions_synced(ctx: UserContext, data: dict[str, Any]) -> None:
    session, user_id, keys = ctx.session, ctx.user_id, ctx.keys
    existing = _known_ids(ctx, data)
    plan = plan_sync(existing, data["added"], data["modified"], data["removed"], new_id=new_id)
    for where, message in plan.invalid:
        log.warning("transactions_synced: refused %s: %s", where, message)
    inserted = []
    for record in plan.inserts:
        row = _new_row(ctx, data, record)
        session.add(row)
        inserted.append(row)
    for ledger_id, record in plan.updates:
        row = session.get(Transaction, ledger_id, with_for_update=True)
        if row is not None and row.user_id == user_id:
            apply_record(keys, row, record)
    if plan.deletes:
        session.execute(
            delete(Transaction).where(
                Transaction.user_id == user_id, Transaction.id.in_(plan.deletes)
            )
        )
    rule_store.categorize_with_rules(keys, session, ctx.categorizer, user_id, inserted)
    session.flush()
    if inserted:
        ids = [r.id for r in inserted]
        ctx.emit(
            "transactions_categorized",
            {"user_id": user_id, "transaction_ids": ids, "count": len(ids)},
        )
        flags.score_new(ctx, inserted)
    if plan.inserts or plan.updates or plan.deletes:
        budget_alerts.check(ctx)
    log.info(
        "transactions_synced applied: %d added, %d updated, %d removed, %d skipped",
        len(plan.inserts),
        len(plan.updates),
        len(plan.deletes),
        len(plan.skipped),
    )
