"""The caller's money views loaded from the ledger: cash flow over a date range (visible rows,
split parts separately, transfers between own accounts left out) and recurring series over
the last ``RECURRING_HISTORY_DAYS`` days of posted rows, each named by its latest merchant.
The arithmetic is in ``cashflow`` and ``recurring``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from transactions import cashflow as cashflow_calc
from transactions import recurring as recurring_calc
from transactions import transfers
from transactions.context import UserContext
from transactions.input_checks import invalid
from transactions.models import Transaction
from transactions.queries import analysis_window
from transactions.store import analysis_rows, read_details

RECURRING_HISTORY_DAYS = 730


def cashflow(ctx: UserContext, payload: dict[str, Any]) -> dict[str, Any]:
    start, end = payload["start"], payload["end"]
    try:
        cashflow_calc.check_range(start, end)
    except ValueError as exc:
        raise invalid("start", str(exc)) from None
    rows, transfer_set = analysis_window(ctx.session, ctx.user_id, start, end)
    return cashflow_calc.cashflow(
        rows, start=start, end=end, group_by=payload["group_by"], transfers=transfer_set
    )


def recurring(ctx: UserContext, as_of: dt.date | None = None) -> dict[str, Any]:
    """``{as_of, series}`` (``as_of`` defaults to today)."""
    as_of = as_of or ctx.today
    since = as_of - dt.timedelta(days=RECURRING_HISTORY_DAYS)
    rows = ctx.session.scalars(
        select(Transaction).where(
            Transaction.user_id == ctx.user_id,
            Transaction.date >= since,
            Transaction.date <= as_of,
            Transaction.pending.is_(False),
        )
    ).all()
    by_id = {r.id: r for r in rows}
    plain_rows = analysis_rows(rows, {})
    ids = transfers.transfer_ids(plain_rows)
    series = recurring_calc.detect_recurring(
        [r for r in plain_rows if r["id"] not in ids], as_of=as_of
    )
    for item in series:
        latest = by_id[item["transaction_ids"][-1]]
        details = read_details(ctx.keys, latest)
        item["merchant"] = details.get("merchant_name") or details.get("name")
        item["category_primary"] = latest.category_primary
    return {"as_of": as_of, "series": series}
