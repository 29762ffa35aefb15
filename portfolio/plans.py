"""Rebalance plans (service layer): build and store a tax-aware plan, mark one executed.

Nestegg has no brokerage: a plan is a stored proposal. Marking it executed is a write that
the entrypoint guards with step-up authentication; it answers ``Conflict`` the second time.
New cash goes to ``cash_account_id`` (or the only investment account when there is one).
"""

from __future__ import annotations

import datetime as dt

from common.errors import Conflict, NotFound
from portfolio import reference, repository, scan
from portfolio import schemas as s
from portfolio.context import UserContext
from portfolio.errors import InvalidInput
from portfolio.models import RebalancePlanRecord
from portfolio.rebalance import plan_rebalance
from portfolio.reports import target as target_of


def _cash(payload: dict, account_types) -> dict:
    if not payload["new_cash"]:
        return {}
    acct = payload["cash_account_id"]
    investment = sorted(account_types)
    if acct is None and len(investment) == 1:
        acct = investment[0]
    if acct is None:
        raise InvalidInput("cash_account_id", "say which account the cash goes to")
    if acct not in account_types:
        raise NotFound("No such investment account", {"account_id": acct})
    return {acct: payload["new_cash"]}


def create(ctx: UserContext, payload: dict) -> dict:
    holdings = repository.holdings(ctx.session, ctx.user_id)
    cash = _cash(payload, holdings.account_types)
    target = target_of(ctx)
    ref = reference.load()
    wanted = set(holdings.tickers)
    for cls in target.weights:
        wanted |= set(ref.asset_class(cls).etfs)
    px = ctx.price_map(ctx.quotes(wanted))
    situation = scan.tax_situation(
        repository.tax_profile(ctx.session, ctx.user_id), holdings.book.realized, ctx.today
    )
    band = payload["band"] if payload["band"] is not None else target.band
    plan = plan_rebalance(
        holdings.lots,
        px,
        holdings.account_types,
        target.weights,
        today=ctx.today,
        rates=situation.rates,
        cash=cash,
        band=band,
        history=holdings.history,
        realized=holdings.book.realized,
    )
    body = s.plain(
        {
            "as_of": ctx.today,
            "band": band,
            "target_source": target.source,
            "trades": [t.__dict__ for t in plan.trades],
            "drift_before": {"total": plan.drift_before.total, **plan.drift_before.per_class},
            "drift_after": {"total": plan.drift_after.total, **plan.drift_after.per_class},
            "estimated_tax": plan.estimated_tax,
            "unclassified": plan.unclassified,
            "rebalance_needed": plan.rebalanced,
        }
    )
    record = RebalancePlanRecord(id=repository._new_id(), user_id=ctx.user_id, plan=body)
    ctx.session.add(record)
    return {"plan_id": record.id, **body}


def mark_executed(ctx: UserContext, plan_id: str) -> dict:
    row = ctx.session.get(RebalancePlanRecord, plan_id, with_for_update=True)
    if row is None or row.user_id != ctx.user_id:
        raise NotFound("No such rebalance plan", {"plan_id": plan_id})
    if row.executed_at is not None:
        raise Conflict("This plan was already marked executed")
    row.executed_at = dt.datetime.now(dt.UTC)
    return {"plan_id": row.id, "executed_at": row.executed_at}
