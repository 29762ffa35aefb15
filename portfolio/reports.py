"""Read-only analyses for one user (service layer): allocation and drift, the tax-loss
harvesting scan, the optimiser, net worth and returns. Each takes a ``UserContext`` and the
validated payload and returns plain data; the numerical work is in the plain modules."""

from __future__ import annotations

from common.errors import NotFound
from portfolio import networth, optimisation, repository, scan, valuations
from portfolio.context import UserContext


def target(ctx: UserContext) -> scan.Target:
    return scan.target_for(
        repository.target_override(ctx.session, ctx.user_id),
        repository.risk_profile(ctx.session, ctx.user_id),
    )


def allocation(ctx: UserContext) -> dict:
    holdings = repository.holdings(ctx.session, ctx.user_id)
    quotes = ctx.quotes(holdings.tickers)
    report = scan.allocation_report(holdings.lots, ctx.price_map(quotes), target(ctx))
    report["stale_prices"] = ctx.stale(quotes)
    return report


def tlh(ctx: UserContext) -> dict:
    holdings = repository.holdings(ctx.session, ctx.user_id)
    quotes = ctx.quotes(holdings.tickers)
    situation = scan.tax_situation(
        repository.tax_profile(ctx.session, ctx.user_id), holdings.book.realized, ctx.today
    )
    plan = scan.tlh_plan(holdings, ctx.price_map(quotes), situation, ctx.today)
    report = scan.tlh_report(plan, situation, ctx.today)
    report["stale_prices"] = ctx.stale(quotes)
    return report


def optimize(ctx: UserContext, payload: dict) -> dict:
    return optimisation.run(payload, lambda tickers: ctx.price_map(ctx.quotes(tickers)))


def net_worth(ctx: UserContext, payload: dict) -> dict:
    points = networth.series(
        repository.snapshots(ctx.session, ctx.user_id, payload["end"]),
        repository.account_infos(ctx.session, ctx.user_id),
        payload["start"],
        payload["end"],
        payload["interval"],
    )
    return {"interval": payload["interval"], "points": points}


def returns(ctx: UserContext, payload: dict) -> dict:
    investment = sorted(repository.account_types(ctx.session, ctx.user_id))
    chosen = payload["account_ids"] or investment
    unknown = sorted(set(chosen) - set(investment))
    if unknown:
        raise NotFound("No such investment account", {"account_ids": unknown})
    flows = valuations.external_flows(repository.stored_transactions(ctx.session, ctx.user_id))
    report = valuations.compute(
        repository.snapshots(ctx.session, ctx.user_id, payload["end"]),
        flows,
        chosen,
        payload["start"],
        payload["end"],
    )
    r = report.returns
    return {
        "account_ids": chosen,
        "start": r.start,
        "end": r.end,
        "simple": r.simple,
        "time_weighted": r.time_weighted,
        "time_weighted_annual": r.time_weighted_annual,
        "money_weighted_annual": r.money_weighted_annual,
        "formulas": valuations.FORMULAS,
        "approximated_days": report.approximated_days,
    }
