"""Database reads and writes of the portfolio service (SQLAlchemy 2.0), every one user-scoped.

The service entrypoints call these inside one transaction; domain computation stays in the plain
modules (``holdings_ingest``, ``networth``, ``valuations``, ``goals``, ``scan``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from common.errors import NotFound
from portfolio import holdings_ingest as ingest
from portfolio.lots import AccountType, InvestmentTransaction, LotBook, build_lots
from portfolio.models import (
    Account,
    BalanceSnapshot,
    Goal,
    InvestmentTxn,
    Notice,
    Position,
    RiskProfile,
    Security,
    TargetAllocation,
    TaxLot,
    TaxProfile,
)
from portfolio.networth import AccountInfo, Snapshot
from portfolio.reference import load as load_reference

ZERO = Decimal(0)


# --- accounts, securities, transactions --------------------------------------------------------
def upsert_accounts(session: Session, user_id: str, item_id: str | None, accounts) -> None:
    for a in accounts:
        values = {
            "user_id": user_id,
            "item_id": item_id,
            "account_id": a["account_id"],
            "name": a.get("name"),
            "mask": a.get("mask"),
            "provider_type": a["type"],
            "provider_subtype": a.get("subtype"),
            "tax_type": (t.value if (t := ingest.tax_type(a["type"], a.get("subtype"))) else None),
            "kind": ingest.account_kind(a["type"]),
            "iso_currency_code": a.get("iso_currency_code"),
        }
        stmt = insert(Account).values(id=_new_id(), **values)
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["user_id", "account_id"],
                set_={k: stmt.excluded[k] for k in values if k not in ("user_id", "account_id")},
            )
        )


def _new_id() -> str:
    from common.db import new_id

    return new_id()


def upsert_securities(session: Session, securities) -> list[str]:
    """Store the security master and closes; returns the tickers whose close changed."""
    tickers = []
    for s in securities:
        ticker = (s.get("ticker") or s.get("ticker_symbol") or s["security_id"]).upper()
        values = {
            "ticker": ticker,
            "name": s.get("name"),
            "type": s.get("type"),
            "close_price": s.get("close_price"),
            "close_price_as_of": s.get("close_price_as_of"),
        }
        stmt = insert(Security).values(security_id=s["security_id"], **values)
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["security_id"], set_={k: stmt.excluded[k] for k in values}
            )
        )
        tickers.append(ticker)
    return tickers


def upsert_investment_transactions(
    session: Session, user_id: str, transactions, tickers: Mapping[str, str]
) -> None:
    for t in transactions:
        values = {
            "account_id": t["account_id"],
            "security_id": t.get("security_id"),
            "ticker": tickers.get(t.get("security_id") or "", None),
            "date": t["date"],
            "type": t.get("type") or "other",
            "subtype": t.get("subtype"),
            "quantity": t.get("quantity") or ZERO,
            "price": t.get("price") or ZERO,
            "amount": t.get("amount") or ZERO,
            "fees": t.get("fees") or ZERO,
        }
        stmt = insert(InvestmentTxn).values(
            id=_new_id(), user_id=user_id, transaction_id=t["investment_transaction_id"], **values
        )
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["user_id", "transaction_id"],
                set_={k: stmt.excluded[k] for k in values},
            )
        )


def accounts(session: Session, user_id: str) -> dict[str, Account]:
    rows = session.scalars(select(Account).where(Account.user_id == user_id)).all()
    return {a.account_id: a for a in rows}


def account_types(session: Session, user_id: str) -> dict[str, AccountType]:
    return {
        a.account_id: AccountType(a.tax_type)
        for a in accounts(session, user_id).values()
        if a.tax_type
    }


def stored_transactions(session: Session, user_id: str) -> list[dict]:
    rows = session.scalars(
        select(InvestmentTxn)
        .where(InvestmentTxn.user_id == user_id)
        .order_by(InvestmentTxn.date, InvestmentTxn.transaction_id)
    ).all()
    return [
        {
            "investment_transaction_id": r.transaction_id,
            "account_id": r.account_id,
            "security_id": r.security_id,
            "ticker": r.ticker,
            "date": r.date,
            "type": r.type,
            "subtype": r.subtype,
            "quantity": r.quantity,
            "price": r.price,
            "amount": r.amount,
            "fees": r.fees,
        }
        for r in rows
    ]


def stored_ticker_map(session: Session, security_ids: Iterable[str]) -> dict[str, str]:
    ids = sorted({s for s in security_ids if s})
    if not ids:
        return {}
    rows = session.execute(
        select(Security.security_id, Security.ticker).where(Security.security_id.in_(ids))
    ).all()
    return {sid: (ticker or sid).upper() for sid, ticker in rows}


def lot_transactions(session: Session, user_id: str) -> list[InvestmentTransaction]:
    raw = stored_transactions(session, user_id)
    tickers = stored_ticker_map(session, (t["security_id"] for t in raw))
    return ingest.lot_transactions(raw, tickers)


def book(session: Session, user_id: str) -> tuple[LotBook, list[InvestmentTransaction]]:
    """The user's lot book replayed from the stored history (same code path as ingestion)."""
    types = account_types(session, user_id)
    txs = [t for t in lot_transactions(session, user_id) if t.account_id in types]
    clipped, _ = ingest.clip_oversold(txs)
    return build_lots(clipped, types, identical=load_reference().identical_to), clipped


def replace_positions(session: Session, user_id: str, rebuilt: ingest.Rebuilt) -> None:
    session.execute(delete(Position).where(Position.user_id == user_id))
    session.execute(delete(TaxLot).where(TaxLot.user_id == user_id))
    for p in rebuilt.positions:
        session.add(
            Position(
                id=_new_id(),
                user_id=user_id,
                account_id=p.account_id,
                security_id=p.security_id,
                ticker=p.ticker,
                quantity=p.quantity,
                cost_basis=p.cost_basis,
                reported_quantity=p.reported_quantity,
                reported_cost_basis=p.reported_cost_basis,
                institution_value=p.institution_value,
                mismatch=p.mismatch,
                issues=p.issues,
            )
        )
    for lot in ingest.open_lots(rebuilt.book):
        session.add(
            TaxLot(
                id=_new_id(),
                user_id=user_id,
                lot_id=lot.id,
                account_id=lot.account_id,
                ticker=lot.ticker,
                quantity=lot.quantity,
                cost_basis=lot.cost_basis,
                acquired=lot.acquired,
                purchased=lot.trade_date,
                opened_by=lot.opened_by,
            )
        )


def positions(session: Session, user_id: str) -> list[Position]:
    return list(
        session.scalars(
            select(Position)
            .where(Position.user_id == user_id)
            .order_by(Position.account_id, Position.ticker)
        )
    )


def tax_lots(session: Session, user_id: str) -> list[TaxLot]:
    return list(
        session.scalars(
            select(TaxLot)
            .where(TaxLot.user_id == user_id)
            .order_by(TaxLot.account_id, TaxLot.ticker, TaxLot.acquired, TaxLot.lot_id)
        )
    )


def close_prices(session: Session, tickers: list[str]) -> dict[str, tuple[Decimal, dt.date | None]]:
    """ticker -> (close, as_of), the most recent close among securities with that ticker."""
    if not tickers:
        return {}
    rows = session.execute(
        select(Security.ticker, Security.close_price, Security.close_price_as_of).where(
            Security.ticker.in_(tickers), Security.close_price.is_not(None)
        )
    ).all()
    out: dict[str, tuple[Decimal, dt.date | None]] = {}
    for ticker, price, as_of in rows:
        prev = out.get(ticker)
        if prev is None or (as_of or dt.date.min) > (prev[1] or dt.date.min):
            out[ticker] = (price, as_of)
    return out


# --- balances ---------------------------------------------------------------------------------
def upsert_snapshots(session: Session, user_id: str, day: dt.date, accounts_payload) -> None:
    for a in accounts_payload:
        if a.get("current") is None:
            continue
        values = {
            "current": a.get("current"),
            "available": a.get("available"),
            "credit_limit": a.get("limit"),
            "iso_currency_code": a.get("iso_currency_code"),
        }
        stmt = insert(BalanceSnapshot).values(
            id=_new_id(), user_id=user_id, account_id=a["account_id"], day=day, **values
        )
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["user_id", "account_id", "day"],
                set_={k: stmt.excluded[k] for k in values},
            )
        )


def snapshots(session: Session, user_id: str, until: dt.date) -> list[Snapshot]:
    rows = session.execute(
        select(BalanceSnapshot.account_id, BalanceSnapshot.day, BalanceSnapshot.current).where(
            BalanceSnapshot.user_id == user_id, BalanceSnapshot.day <= until
        )
    ).all()
    return [Snapshot(a, d, c) for a, d, c in rows]


def account_infos(session: Session, user_id: str) -> dict[str, AccountInfo]:
    return {
        a.account_id: AccountInfo(a.provider_type, a.kind)
        for a in accounts(session, user_id).values()
    }


# --- profiles ---------------------------------------------------------------------------------
def upsert_risk_profile(session: Session, user_id: str, risk_score: int, horizon: int) -> None:
    stmt = insert(RiskProfile).values(user_id=user_id, risk_score=risk_score, horizon_years=horizon)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["user_id"],
            set_={"risk_score": risk_score, "horizon_years": horizon, "updated_at": dt_now()},
        )
    )


def dt_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def risk_profile(session: Session, user_id: str) -> RiskProfile | None:
    return session.get(RiskProfile, user_id)


def target_override(session: Session, user_id: str) -> TargetAllocation | None:
    return session.get(TargetAllocation, user_id)


def set_target_override(session, user_id: str, weights: dict, band: Decimal | None) -> None:
    row = session.get(TargetAllocation, user_id)
    data = {k: str(v) for k, v in weights.items()}
    if row is None:
        session.add(TargetAllocation(user_id=user_id, weights=data, band=band))
    else:
        row.weights, row.band = data, band


def tax_profile(session: Session, user_id: str) -> TaxProfile | None:
    return session.get(TaxProfile, user_id)


def set_tax_profile(session: Session, user_id: str, data: dict) -> TaxProfile:
    row = session.get(TaxProfile, user_id)
    if row is None:
        row = TaxProfile(user_id=user_id, **data)
        session.add(row)
    else:
        for k, v in data.items():
            setattr(row, k, v)
    return row


# --- goals ------------------------------------------------------------------------------------
def goal(session: Session, user_id: str, goal_id: str, *, for_update: bool = False) -> Goal:
    stmt = select(Goal).where(Goal.id == goal_id, Goal.user_id == user_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).first()
    if row is None:
        raise NotFound("No such goal", {"goal_id": goal_id})
    return row


def goals(session: Session, user_id: str) -> list[Goal]:
    return list(
        session.scalars(
            select(Goal).where(Goal.user_id == user_id).order_by(Goal.target_date, Goal.id)
        )
    )


def goal_by_key(session: Session, user_id: str, key: str) -> Goal | None:
    return session.scalars(
        select(Goal).where(Goal.user_id == user_id, Goal.idempotency_key == key)
    ).first()


# --- alert dedupe -----------------------------------------------------------------------------
def claim_notice(session: Session, user_id: str, kind: str, day: dt.date, fingerprint: str) -> bool:
    """True the first time (user, kind, day, fingerprint) is seen; False for repeats."""
    result = session.execute(
        insert(Notice)
        .values(id=_new_id(), user_id=user_id, kind=kind, day=day, fingerprint=fingerprint)
        .on_conflict_do_nothing()
        .returning(Notice.id)
    )
    return result.first() is not None


def users_with_holdings(session: Session) -> list[str]:
    return list(session.scalars(select(TaxLot.user_id).distinct().order_by(TaxLot.user_id)))


@dataclass
class Holdings:
    """What the analysis code needs about a user's investments."""

    account_types: dict[str, AccountType]
    book: LotBook
    history: list[InvestmentTransaction]

    @property
    def lots(self):
        return ingest.open_lots(self.book)

    @property
    def tickers(self) -> list[str]:
        return sorted({lot.ticker for lot in self.lots})


def holdings(session: Session, user_id: str) -> Holdings:
    types = account_types(session, user_id)
    lot_book, history = book(session, user_id)
    return Holdings(types, lot_book, history)
