"""portfolio service tables (its own database; no other service can read them).

Every user-owned row carries ``user_id`` and every query filters on it (the caller's principal).
Money and quantities are ``NUMERIC`` (Decimal in Python), never float.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Timestamps, make_base, new_id
from common.erasure import erased_users_table, removed_items_table
from common.messaging import JsonType, messaging_tables

Base = make_base()
OutboxEvent, ProcessedEvent = messaging_tables(Base)
ErasedUser = erased_users_table(Base)
RemovedItem = removed_items_table(Base)

Amount = Numeric(24, 8)  # money, quantities and prices: exact decimals


class Account(Timestamps, Base):
    """A provider account as last reported (holdings_synced / balances_updated)."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("user_id", "account_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    item_id: Mapped[str | None] = mapped_column(String(120))
    account_id: Mapped[str] = mapped_column(String(120), nullable=False)
    name: Mapped[str | None] = mapped_column(String(200))
    mask: Mapped[str | None] = mapped_column(String(8))
    provider_type: Mapped[str] = mapped_column(String(40), nullable=False)
    provider_subtype: Mapped[str | None] = mapped_column(String(60))
    tax_type: Mapped[str | None] = mapped_column(String(20))  # investment accounts only
    kind: Mapped[str] = mapped_column(String(10), nullable=False)  # asset | liability
    iso_currency_code: Mapped[str | None] = mapped_column(String(3))


class Security(Timestamps, Base):
    """Security master with the provider's latest close (not user data)."""

    __tablename__ = "securities"

    security_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    ticker: Mapped[str | None] = mapped_column(String(32), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    type: Mapped[str | None] = mapped_column(String(40))
    close_price: Mapped[Decimal | None] = mapped_column(Amount)
    close_price_as_of: Mapped[dt.date | None] = mapped_column(Date)


class InvestmentTxn(Base):
    """Every synced investment transaction (Plaid signs: amount > 0 = cash leaves)."""

    __tablename__ = "investment_transactions"
    __table_args__ = (
        UniqueConstraint("user_id", "transaction_id"),
        Index("ix_investment_transactions_user_date", "user_id", "date"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(64), nullable=False)
    transaction_id: Mapped[str] = mapped_column(String(120), nullable=False)
    account_id: Mapped[str] = mapped_column(String(120), nullable=False)
    security_id: Mapped[str | None] = mapped_column(String(120))
    ticker: Mapped[str | None] = mapped_column(String(32))
    date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    type: Mapped[str] = mapped_column(String(20), nullable=False)
    subtype: Mapped[str | None] = mapped_column(String(60))
    quantity: Mapped[Decimal] = mapped_column(Amount, nullable=False)
    price: Mapped[Decimal] = mapped_column(Amount, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Amount, nullable=False)
    fees: Mapped[Decimal] = mapped_column(Amount, nullable=False, default=Decimal(0))


class Position(Base):
    """One security in one account: our lots' totals next to the provider's report."""

    __tablename__ = "positions"
    __table_args__ = (UniqueConstraint("user_id", "account_id", "ticker"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    account_id: Mapped[str] = mapped_column(String(120), nullable=False)
    security_id: Mapped[str | None] = mapped_column(String(120))
    ticker: Mapped[str] = mapped_column(String(32), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Amount, nullable=False)  # from our lots
    cost_basis: Mapped[Decimal] = mapped_column(Amount, nullable=False)  # from our lots
    reported_quantity: Mapped[Decimal | None] = mapped_column(Amount)
    reported_cost_basis: Mapped[Decimal | None] = mapped_column(Amount)
    institution_value: Mapped[Decimal | None] = mapped_column(Amount)
    mismatch: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    issues: Mapped[list] = mapped_column(JsonType, nullable=False, default=list)
    synced_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class TaxLot(Base):
    """Open tax lots rebuilt from the transaction history (portfolio.lots.build_lots)."""

    __tablename__ = "tax_lots"
    __table_args__ = (UniqueConstraint("user_id", "lot_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    lot_id: Mapped[str] = mapped_column(String(120), nullable=False)
    account_id: Mapped[str] = mapped_column(String(120), nullable=False)
    ticker: Mapped[str] = mapped_column(String(32), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Amount, nullable=False)
    cost_basis: Mapped[Decimal] = mapped_column(Amount, nullable=False)
    acquired: Mapped[dt.date] = mapped_column(Date, nullable=False)
    purchased: Mapped[dt.date] = mapped_column(Date, nullable=False)
    opened_by: Mapped[str] = mapped_column(String(120), nullable=False)


class BalanceSnapshot(Base):
    """One balance per account per day (the last report of that day wins)."""

    __tablename__ = "balance_snapshots"
    __table_args__ = (UniqueConstraint("user_id", "account_id", "day"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    account_id: Mapped[str] = mapped_column(String(120), nullable=False)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    current: Mapped[Decimal | None] = mapped_column(Amount)
    available: Mapped[Decimal | None] = mapped_column(Amount)
    credit_limit: Mapped[Decimal | None] = mapped_column(Amount)
    iso_currency_code: Mapped[str | None] = mapped_column(String(3))


class RiskProfile(Timestamps, Base):
    __tablename__ = "risk_profiles"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    risk_score: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    horizon_years: Mapped[int] = mapped_column(Integer, nullable=False)


class TargetAllocation(Timestamps, Base):
    """A manual target that overrides the one derived from the risk profile."""

    __tablename__ = "target_allocations"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    weights: Mapped[dict] = mapped_column(JsonType, nullable=False)  # class -> decimal string
    band: Mapped[Decimal | None] = mapped_column(Numeric(6, 4))


class TaxProfile(Timestamps, Base):
    __tablename__ = "tax_profiles"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    short_term_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4), nullable=False)
    long_term_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4), nullable=False)
    carryforward: Mapped[Decimal] = mapped_column(Amount, nullable=False, default=Decimal(0))
    realized_short_term_ytd: Mapped[Decimal] = mapped_column(
        Amount, nullable=False, default=Decimal(0)
    )
    realized_long_term_ytd: Mapped[Decimal] = mapped_column(
        Amount, nullable=False, default=Decimal(0)
    )
    married_filing_separately: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class Goal(Timestamps, Base):
    __tablename__ = "goals"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    target_amount: Mapped[Decimal] = mapped_column(Amount, nullable=False)
    target_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    initial_amount: Mapped[Decimal] = mapped_column(Amount, nullable=False, default=Decimal(0))
    monthly_contribution: Mapped[Decimal] = mapped_column(
        Amount, nullable=False, default=Decimal(0)
    )
    contribution_growth: Mapped[Decimal] = mapped_column(
        Numeric(8, 6), nullable=False, default=Decimal(0)
    )
    linked_account_ids: Mapped[list] = mapped_column(JsonType, nullable=False, default=list)
    allocation: Mapped[dict | None] = mapped_column(JsonType)  # class -> str; None = glide path
    # retirement: inflation-indexed monthly withdrawal (today's dollars) for retirement_years
    monthly_withdrawal: Mapped[Decimal] = mapped_column(
        Amount, nullable=False, default=Decimal(0), server_default="0"
    )
    retirement_years: Mapped[int] = mapped_column(
        SmallInteger, nullable=False, default=0, server_default="0"
    )
    idempotency_key: Mapped[str | None] = mapped_column(String(80))

    __table_args__ = (UniqueConstraint("user_id", "idempotency_key"),)


class RebalancePlanRecord(Base):
    __tablename__ = "rebalance_plans"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    plan: Mapped[dict] = mapped_column(JsonType, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    executed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Notice(Base):
    """Dedupe for emitted alerts: one row per (user, kind, day, fingerprint)."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("user_id", "kind", "day", "fingerprint"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)  # tlh_opportunity | drift
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
