"""transactions service tables (its own database; no other service can read them).

Amounts are NUMERIC(18,4), negative = money out (see transactions/ledger.py). Full transaction
details (description, merchant name, website, location, counterparties, payment metadata, check
number) are one AES-256-GCM field token in ``details`` (JSON inside); ``notes`` is another.
Both are bound to their row id (AAD ``ne1|transactions|<column>|<id>``) and registered for key
rotation, as is the free text of a user's rule (``categorization_rules.text_conditions``).
Merchant and country are kept only as per-user keyed tags, text search goes through
``search_tokens`` (per-user HMAC tokens, see transactions/search_index.py).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from common.crypto import register_model_columns
from common.db import Timestamps, make_base
from common.erasure import erased_users_table, removed_items_table
from common.messaging import JsonType, messaging_tables

Base = make_base()
OutboxEvent, ProcessedEvent = messaging_tables(Base)
ErasedUser = erased_users_table(Base)
RemovedItem = removed_items_table(Base)

DATABASE_URL_ENV = "NESTEGG_TRANSACTIONS_DATABASE_URL"
MONEY = Numeric(18, 4)


class Transaction(Timestamps, Base):
    __tablename__ = "transactions"
    __table_args__ = (
        UniqueConstraint("user_id", "provider_transaction_id"),
        Index("ix_transactions_user_date", "user_id", "date", "id"),
        Index("ix_transactions_user_amount", "user_id", "amount", "id"),
        Index("ix_transactions_user_account", "user_id", "account_id"),
        Index("ix_transactions_user_merchant", "user_id", "merchant_tag"),
        Index("ix_transactions_search", "search_tokens", postgresql_using="gin"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), nullable=False)
    source: Mapped[str] = mapped_column(String(10), nullable=False)  # provider | manual
    item_id: Mapped[str | None] = mapped_column(String(100))
    account_id: Mapped[str] = mapped_column(String(100), nullable=False)
    provider_transaction_id: Mapped[str | None] = mapped_column(String(100))
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    iso_currency_code: Mapped[str] = mapped_column(String(3), nullable=False)
    date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    authorized_date: Mapped[dt.date | None] = mapped_column(Date)
    occurred_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    local_hour: Mapped[int | None] = mapped_column(SmallInteger)
    pending: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    payment_channel: Mapped[str] = mapped_column(String(16), nullable=False, default="other")
    category_primary: Mapped[str | None] = mapped_column(String(64))
    category_detailed: Mapped[str | None] = mapped_column(String(96))
    category_source: Mapped[str] = mapped_column(String(12), nullable=False, default="none")
    category_confidence: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    category_rule_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("categorization_rules.id", ondelete="SET NULL")
    )
    provider_category: Mapped[str | None] = mapped_column(String(96))
    merchant_tag: Mapped[str | None] = mapped_column(String(32))
    country_tag: Mapped[str | None] = mapped_column(String(32))
    details: Mapped[str] = mapped_column(Text, nullable=False)  # encrypted JSON
    notes: Mapped[str | None] = mapped_column(Text)  # encrypted
    search_tokens: Mapped[list[str]] = mapped_column(ARRAY(String(16)), nullable=False)
    tags: Mapped[list] = mapped_column(JsonType, nullable=False, default=list)
    hidden: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    is_split: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    anomaly_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    anomaly_reasons: Mapped[list | None] = mapped_column(JsonType)
    anomaly_status: Mapped[str] = mapped_column(String(10), nullable=False, default="none")


class TransactionSplit(Base):
    __tablename__ = "transaction_splits"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    transaction_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("transactions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    user_id: Mapped[str] = mapped_column(String(64), nullable=False)
    position: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    category_primary: Mapped[str | None] = mapped_column(String(64))
    category_detailed: Mapped[str | None] = mapped_column(String(96))


class CategoryCorrection(Timestamps, Base):
    """The user re-categorised a merchant; the categoriser's corrections layer reads these."""

    __tablename__ = "category_corrections"
    __table_args__ = (UniqueConstraint("user_id", "merchant_tag"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), nullable=False)
    merchant_tag: Mapped[str] = mapped_column(String(32), nullable=False)
    merchant_key: Mapped[str] = mapped_column(Text, nullable=False)  # encrypted
    category_detailed: Mapped[str] = mapped_column(String(96), nullable=False)


class CategorizationRule(Timestamps, Base):
    """One of the user's rules, tried in ``position`` order (first match wins). The free-text
    conditions (description and merchant text) are one encrypted JSON field token in
    ``text_conditions``; amounts (absolute, inclusive), accounts and direction stay queryable
    so preview/apply can narrow the candidate transactions in SQL."""

    __tablename__ = "categorization_rules"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key"),
        Index("ix_categorization_rules_user_position", "user_id", "position"),
        CheckConstraint("direction IS NULL OR direction IN ('in', 'out')", name="direction"),
        CheckConstraint(
            "(amount_min IS NULL OR amount_min >= 0) AND (amount_max IS NULL OR amount_max >= 0)"
            " AND (amount_min IS NULL OR amount_max IS NULL OR amount_min <= amount_max)",
            name="amounts",
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    category_detailed: Mapped[str] = mapped_column(String(96), nullable=False)
    text_conditions: Mapped[str | None] = mapped_column(Text)  # encrypted JSON
    amount_min: Mapped[Decimal | None] = mapped_column(MONEY)
    amount_max: Mapped[Decimal | None] = mapped_column(MONEY)
    account_ids: Mapped[list] = mapped_column(JsonType, nullable=False, default=list)
    direction: Mapped[str | None] = mapped_column(String(3))  # in | out
    idempotency_key: Mapped[str | None] = mapped_column(String(64))


class Budget(Timestamps, Base):
    __tablename__ = "budgets"
    __table_args__ = (UniqueConstraint("user_id", "category", "currency"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    category: Mapped[str] = mapped_column(String(96), nullable=False)
    level: Mapped[str] = mapped_column(String(10), nullable=False)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    rollover: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    start_month: Mapped[dt.date] = mapped_column(Date, nullable=False)


class BudgetAlert(Base):
    """One row per (budget, month, threshold) sent: the unique key makes the event once only."""

    __tablename__ = "budget_alerts"

    budget_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("budgets.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    threshold: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    sent_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


register_model_columns(Transaction, ["details", "notes"], database_url_env=DATABASE_URL_ENV)
register_model_columns(CategoryCorrection, ["merchant_key"], database_url_env=DATABASE_URL_ENV)
register_model_columns(CategorizationRule, ["text_conditions"], database_url_env=DATABASE_URL_ENV)
