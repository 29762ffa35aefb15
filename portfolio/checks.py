"""The checks that turn a user's holdings into events: ``drift_detected`` and
``tlh_opportunity``. Run after every holdings sync (drift) and by the daily scan (both).

Each event is written at most once per user and day (``repository.claim_notice``): drift under
the fingerprint ``total``, a TLH opportunity under the SHA-256 of its sorted lot ids.
"""

from __future__ import annotations

from portfolio import repository, scan
from portfolio.context import UserContext
from portfolio.reports import target as _target


def drift(ctx: UserContext) -> None:
    holdings = repository.holdings(ctx.session, ctx.user_id)
    if not holdings.lots:
        return
    quotes = ctx.quotes(holdings.tickers)
    report = scan.allocation_report(holdings.lots, ctx.price_map(quotes), _target(ctx))
    event = scan.drift_event(ctx.user_id, report)
    if event and repository.claim_notice(ctx.session, ctx.user_id, "drift", ctx.today, "total"):
        ctx.emit("drift_detected", event)


def tax_loss_harvest(ctx: UserContext) -> None:
    holdings = repository.holdings(ctx.session, ctx.user_id)
    if not holdings.lots:
        return
    quotes = ctx.quotes(holdings.tickers)
    situation = scan.tax_situation(
        repository.tax_profile(ctx.session, ctx.user_id), holdings.book.realized, ctx.today
    )
    plan = scan.tlh_plan(holdings, ctx.price_map(quotes), situation, ctx.today)
    event = scan.tlh_event(ctx.user_id, plan)
    if event is None:
        return
    fp = scan.fingerprint(h.lot_id for h in plan.harvests)
    if repository.claim_notice(ctx.session, ctx.user_id, "tlh_opportunity", ctx.today, fp):
        ctx.emit("tlh_opportunity", event)
