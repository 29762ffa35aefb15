"""Consumed events applied to the portfolio database (service layer; no nameko here).

* ``holdings_synced``: accounts (with tax type), securities and their closes (the price cache
  for changed tickers is invalidated), investment transactions; then lots are rebuilt from the
  whole stored history and reconciled with the provider's holdings (``holdings_ingest``), and
  the drift check runs (``checks.drift``).
* ``balances_updated``: accounts and one balance snapshot per account per day.
* ``risk_profile_updated``: the stored risk score and horizon.
"""

from __future__ import annotations

import datetime as dt
import logging

from portfolio import checks, holdings_ingest, repository
from portfolio.context import UserContext
from portfolio.lots import ReportedHolding

log = logging.getLogger(__name__)


def holdings_synced(ctx: UserContext, data: dict, day: dt.date) -> None:
    session, user_id = ctx.session, ctx.user_id
    repository.upsert_accounts(session, user_id, data["item_id"], data["accounts"])
    changed = repository.upsert_securities(session, data["securities"])
    ctx.feed.invalidate(changed)
    tickers = holdings_ingest.ticker_map(data["securities"])
    ids = {h["security_id"] for h in data["holdings"]}
    ids |= {t["security_id"] for t in data["investment_transactions"] if t["security_id"]}
    tickers = {**repository.stored_ticker_map(session, ids - set(tickers)), **tickers}
    repository.upsert_investment_transactions(
        session, user_id, data["investment_transactions"], tickers
    )
    repository.upsert_snapshots(session, user_id, day, data["accounts"])
    rebuild_positions(ctx, data, tickers)
    checks.drift(ctx)


def rebuild_positions(ctx: UserContext, data: dict, tickers: dict[str, str]) -> None:
    """Lots from the whole history next to the provider's report; accounts not in this sync
    keep their last reported holdings."""
    session, user_id = ctx.session, ctx.user_id
    types = repository.account_types(session, user_id)
    cash_ids = {x["security_id"] for x in data["securities"] if x.get("type") == "cash"}
    synced = {a["account_id"] for a in data["accounts"]}
    synced |= {h["account_id"] for h in data["holdings"]}
    reported, cash, values = [], [], {}
    for h in data["holdings"]:
        ticker = tickers.get(h["security_id"], h["security_id"]).upper()
        row = ReportedHolding(h["account_id"], ticker, h["quantity"], h["cost_basis"])
        (cash if h["security_id"] in cash_ids else reported).append(row)
        values[(h["account_id"], ticker)] = h["institution_value"]
    for p in repository.positions(session, user_id):
        if p.account_id in synced or p.reported_quantity is None:
            continue
        row = ReportedHolding(p.account_id, p.ticker, p.reported_quantity, p.reported_cost_basis)
        is_cash = p.ticker.startswith("CUR:") and p.quantity == p.reported_quantity
        (cash if is_cash else reported).append(row)
        values[(p.account_id, p.ticker)] = p.institution_value
    rebuilt = holdings_ingest.rebuild(
        repository.lot_transactions(session, user_id),
        types,
        reported,
        cash=cash,
        security_ids={t: sid for sid, t in tickers.items()},
        institution_values=values,
    )
    for issue in rebuilt.issues:
        log.warning("holdings history issue: %s", issue["detail"])
    repository.replace_positions(session, user_id, rebuilt)


def balances_updated(ctx: UserContext, data: dict, day: dt.date) -> None:
    repository.upsert_accounts(ctx.session, ctx.user_id, data["item_id"], data["accounts"])
    repository.upsert_snapshots(ctx.session, ctx.user_id, day, data["accounts"])


def risk_profile_updated(ctx: UserContext, data: dict) -> None:
    repository.upsert_risk_profile(
        ctx.session, ctx.user_id, data["risk_score"], data["horizon_years"]
    )
