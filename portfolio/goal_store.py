"""Goals (service layer): create (idempotent by key), read, update, delete, and project.

Every read and write is scoped to the caller (``repository.goal`` answers ``NotFound`` for
another user's id); linked accounts must be the caller's. A projection starts from
``initial_amount`` plus the latest balance of each linked account and runs
``goals.project_goal`` (rules, engines and the required contribution live there).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from common.errors import NotFound
from portfolio import goals, repository
from portfolio import schemas as s
from portfolio.context import UserContext
from portfolio.models import Goal

_GOAL = s.GoalOut()


def goal_out(goal: Goal) -> dict:
    data = _GOAL.dump(goal)
    data["glide_path"] = goal.allocation is None
    return data


def _check_accounts(ctx: UserContext, account_ids) -> None:
    known = repository.accounts(ctx.session, ctx.user_id)
    unknown = sorted(set(account_ids) - set(known))
    if unknown:
        raise NotFound("No such account", {"account_ids": unknown})


def _stored_allocation(value):
    return None if value is None else {k: str(v) for k, v in value.items()}


def create(ctx: UserContext, payload: dict) -> dict:
    data = dict(payload)
    key = data.pop("idempotency_key", None)
    if key:
        existing = repository.goal_by_key(ctx.session, ctx.user_id, key)
        if existing is not None:
            return goal_out(existing)
    _check_accounts(ctx, data["linked_account_ids"])
    data["allocation"] = _stored_allocation(data["allocation"])
    goal = Goal(id=repository._new_id(), user_id=ctx.user_id, idempotency_key=key, **data)
    ctx.session.add(goal)
    ctx.session.flush()
    ctx.session.refresh(goal)
    return goal_out(goal)


def list_all(ctx: UserContext) -> list[dict]:
    return [goal_out(g) for g in repository.goals(ctx.session, ctx.user_id)]


def get(ctx: UserContext, goal_id: str) -> dict:
    return goal_out(repository.goal(ctx.session, ctx.user_id, goal_id))


def update(ctx: UserContext, payload: dict) -> dict:
    changes = dict(payload)
    goal = repository.goal(ctx.session, ctx.user_id, changes.pop("goal_id"), for_update=True)
    if "linked_account_ids" in changes:
        _check_accounts(ctx, changes["linked_account_ids"])
    for key, value in changes.items():
        setattr(goal, key, _stored_allocation(value) if key == "allocation" else value)
    goals.check_retirement(goal.kind, goal.monthly_withdrawal, goal.retirement_years)
    ctx.session.flush()
    ctx.session.refresh(goal)
    return goal_out(goal)


def delete(ctx: UserContext, goal_id: str) -> dict:
    ctx.session.delete(repository.goal(ctx.session, ctx.user_id, goal_id, for_update=True))
    return {"goal_id": goal_id, "deleted": True}


def starting_balance(ctx: UserContext, goal: Goal) -> Decimal:
    """``initial_amount`` + the latest snapshot of each linked account (negatives count 0)."""
    linked = set(goal.linked_account_ids or [])
    latest: dict[str, tuple[dt.date, Decimal]] = {}
    for snap in repository.snapshots(ctx.session, ctx.user_id, ctx.today):
        prev = latest.get(snap.account_id)
        if snap.account_id in linked and (prev is None or snap.day > prev[0]):
            latest[snap.account_id] = (snap.day, snap.current)
    linked_total = sum((max(v, Decimal(0)) for _, v in latest.values()), Decimal(0))
    return goal.initial_amount + linked_total


def projection(ctx: UserContext, payload: dict) -> dict:
    goal = repository.goal(ctx.session, ctx.user_id, payload["goal_id"])
    risk = repository.risk_profile(ctx.session, ctx.user_id)
    report = goals.project_goal(
        {
            "target_date": goal.target_date,
            "target_amount": goal.target_amount,
            "monthly_contribution": goal.monthly_contribution,
            "contribution_growth": goal.contribution_growth,
            "allocation": goal.allocation,
            "kind": goal.kind,
            "monthly_withdrawal": goal.monthly_withdrawal,
            "retirement_years": goal.retirement_years,
        },
        starting_balance=starting_balance(ctx, goal),
        risk_score=risk.risk_score if risk else None,
        today=ctx.today,
        mode=payload["mode"],
        paths=payload["paths"],
        seed=payload["seed"],
        success_probability=payload["success_probability"],
    )
    return {"goal_id": goal.id, "target_amount": goal.target_amount, **report}
