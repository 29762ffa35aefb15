"""A stored budget's progress for one month (``budgets.progress`` over the user's visible
rows, transfers left out; with rollover, from the budget's first month) and its API shape."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from transactions import budgets
from transactions.models import Budget
from transactions.queries import analysis_window
from transactions.store import budget_to_api


def progress(session: Session, budget: Budget, month: dt.date) -> dict[str, Any]:
    start = budget.start_month if budget.rollover else month
    rows, transfer_set = analysis_window(session, budget.user_id, start, budgets.month_end(month))
    return budgets.progress(budget_to_api(budget), rows, month, transfer_set)


def budget_out(session: Session, budget: Budget, month: dt.date) -> dict[str, Any]:
    """The budget with ``progress`` for ``month`` (None before the budget's first month)."""
    out = budget_to_api(budget)
    out["progress"] = progress(session, budget, month) if month >= budget.start_month else None
    return out
