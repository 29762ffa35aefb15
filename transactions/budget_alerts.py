"""Budget threshold alerts: after any change to the ledger or the budgets, each of the user's
budgets that has started is measured for the current month, and every threshold
(``budgets.THRESHOLDS``) crossed for the first time that month emits one ``budget_threshold``
event. ``budget_alerts`` (budget, month, threshold) is the once-only record, written with
``ON CONFLICT DO NOTHING`` in the same transaction as the event."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from common.schemas import to_plain
from transactions import budgets
from transactions.budget_progress import progress
from transactions.context import UserContext
from transactions.models import Budget, BudgetAlert


def check(ctx: UserContext) -> None:
    session, user_id = ctx.session, ctx.user_id
    month = budgets.month_start(ctx.today)
    for budget in session.scalars(select(Budget).where(Budget.user_id == user_id)):
        if budget.start_month > month:
            continue
        measured = progress(session, budget, month)
        for threshold in budgets.crossed_thresholds(measured):
            fresh = session.execute(
                insert(BudgetAlert)
                .values(budget_id=budget.id, month=month, threshold=threshold)
                .on_conflict_do_nothing()
                .returning(BudgetAlert.threshold)
            ).first()
            if fresh is None:
                continue
            ctx.emit(
                "budget_threshold",
                to_plain(
                    {
                        "user_id": user_id,
                        "budget_id": budget.id,
                        "category": budget.category,
                        "month": month,
                        "threshold": threshold,
                        "spent": measured["spent"],
                        "available": measured["available"],
                        "percent": measured["percent"],
                        "currency": budget.currency,
                    }
                ),
            )
