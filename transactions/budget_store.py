"""The caller's budgets: create, list and read (with progress for a month), update, delete.

Every lookup is scoped to the caller (another user's budget id is ``NotFound``). A budget is
one per category and currency, its amount positive; its first month defaults to the current
one. Writes re-check the threshold alerts (``budget_alerts``) in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.db import new_id
from common.errors import NotFound
from transactions import budget_alerts, budgets, categorization
from transactions.budget_progress import budget_out
from transactions.context import UserContext
from transactions.input_checks import invalid
from transactions.models import Budget


def owned(session: Session, user_id: str, budget_id: object) -> Budget:
    if not isinstance(budget_id, str) or len(budget_id) > 36:
        raise NotFound("No such budget")
    budget = session.scalars(
        select(Budget).where(Budget.id == budget_id, Budget.user_id == user_id)
    ).first()
    if budget is None:
        raise NotFound("No such budget")
    return budget


def _month(ctx: UserContext, month: dt.date | None) -> dt.date:
    return budgets.month_start(month or ctx.today)


def create(ctx: UserContext, payload: dict[str, Any]) -> dict[str, Any]:
    try:
        primary, detailed = categorization.resolve_category(payload["category"])
    except ValueError as exc:
        raise invalid("category", str(exc)) from None
    if payload["amount"] <= 0:
        raise invalid("amount", "a budget amount must be positive")
    duplicate = ctx.session.scalars(
        select(Budget).where(
            Budget.user_id == ctx.user_id,
            Budget.category == payload["category"],
            Budget.currency == payload["currency"],
        )
    ).first()
    if duplicate is not None:
        raise invalid("category", "a budget for this category and currency exists")
    budget = Budget(
        id=new_id(),
        user_id=ctx.user_id,
        category=payload["category"],
        level="primary" if detailed is None else "detailed",
        amount=payload["amount"],
        currency=payload["currency"],
        rollover=payload["rollover"],
        start_month=_month(ctx, payload.get("start_month")),
    )
    ctx.session.add(budget)
    ctx.session.flush()
    result = budget_out(ctx.session, budget, _month(ctx, None))
    budget_alerts.check(ctx)
    return result


def list_all(ctx: UserContext, month: dt.date | None = None) -> dict[str, Any]:
    """``{month, budgets}``: every budget by category, with progress for ``month``."""
    month = _month(ctx, month)
    rows = ctx.session.scalars(
        select(Budget).where(Budget.user_id == ctx.user_id).order_by(Budget.category)
    ).all()
    return {"month": month, "budgets": [budget_out(ctx.session, b, month) for b in rows]}


def get(ctx: UserContext, budget_id: object, month: dt.date | None = None) -> dict[str, Any]:
    budget = owned(ctx.session, ctx.user_id, budget_id)
    return budget_out(ctx.session, budget, _month(ctx, month))


def update(ctx: UserContext, budget_id: object, patch: dict[str, Any]) -> dict[str, Any]:
    if "amount" in patch and patch["amount"] <= 0:
        raise invalid("amount", "a budget amount must be positive")
    budget = owned(ctx.session, ctx.user_id, budget_id)
    for name, value in patch.items():
        setattr(budget, name, value)
    ctx.session.flush()
    result = budget_out(ctx.session, budget, _month(ctx, None))
    budget_alerts.check(ctx)
    return result


def delete(ctx: UserContext, budget_id: object) -> dict[str, Any]:
    ctx.session.delete(owned(ctx.session, ctx.user_id, budget_id))
    return {"deleted": budget_id}
