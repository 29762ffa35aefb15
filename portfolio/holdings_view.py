"""The ``list_holdings`` report: accounts with positions, prices, gains, reconciliation issues
and tax lots (service layer).

Per position: our quantity and basis (from the lots) next to what the institution reports, a
``mismatch`` flag with the issues, the quote with its ``stale`` flag, market value and
unrealised gain. Cash (``CUR:`` tickers) is valued at its quantity. A lot's ``term`` is long
when held more than one year on ``today`` (``lots.is_long_term``).
"""

from __future__ import annotations

from decimal import Decimal

from portfolio import prices, reference, repository
from portfolio.context import UserContext
from portfolio.lots import is_long_term

CENT = Decimal("0.01")


def _lot_rows(lots, account_id: str, ticker: str, today) -> list[dict]:
    return [
        {
            "lot_id": lot.lot_id,
            "quantity": lot.quantity,
            "cost_basis": lot.cost_basis,
            "acquired": lot.acquired,
            "term": "long" if is_long_term(lot.acquired, today) else "short",
        }
        for lot in lots
        if lot.account_id == account_id and lot.ticker == ticker
    ]


def _position_row(p, quote, quote_row, lots, today) -> dict:
    cash = p.ticker.startswith("CUR:")
    value = p.quantity if cash else (p.quantity * quote.price if quote else None)
    return {
        "ticker": p.ticker,
        "security_id": p.security_id,
        "asset_class": reference.load().class_of(p.ticker),
        "quantity": p.quantity,
        "cost_basis": p.cost_basis,
        "price": quote_row,
        "market_value": value.quantize(CENT) if value is not None else None,
        "unrealized_gain": (value - p.cost_basis).quantize(CENT)
        if value is not None and not cash
        else None,
        "reported_quantity": p.reported_quantity,
        "reported_cost_basis": p.reported_cost_basis,
        "institution_value": p.institution_value,
        "mismatch": p.mismatch,
        "issues": p.issues,
        "lots": _lot_rows(lots, p.account_id, p.ticker, today),
    }


def report(ctx: UserContext) -> dict:
    accounts = repository.accounts(ctx.session, ctx.user_id)
    positions = repository.positions(ctx.session, ctx.user_id)
    lots = repository.tax_lots(ctx.session, ctx.user_id)
    quotes = ctx.quotes([p.ticker for p in positions])
    table = prices.quote_table(quotes, ctx.today)
    out_accounts = []
    for acct in sorted(accounts.values(), key=lambda a: a.account_id):
        if not acct.tax_type:
            continue
        rows = [
            _position_row(p, quotes.get(p.ticker), table.get(p.ticker), lots, ctx.today)
            for p in positions
            if p.account_id == acct.account_id
        ]
        out_accounts.append(
            {
                "account_id": acct.account_id,
                "name": acct.name,
                "mask": acct.mask,
                "tax_type": acct.tax_type,
                "positions": rows,
            }
        )
    return {
        "accounts": out_accounts,
        "stale_prices": sorted(t for t, q in table.items() if q["stale"]),
        "mismatches": sum(1 for p in positions if p.mismatch),
    }
