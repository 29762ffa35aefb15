"""aggregation service tables (its own database; no other service can read them).

- ``items``: one linked connection (a Plaid Item, or the per-user file-import item), its
  encrypted access token, the /transactions/sync cursor and connection health.
- ``accounts``: the accounts of an item (provider ids, names, masks, types; never full numbers).
- ``balance_snapshots``: one row per account per sync (balance history).
- ``imported_transactions``: ids of file-imported transactions, so a re-import adds nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from common.crypto import register_model_columns
from common.db import Timestamps, make_base, new_id
from common.erasure import erased_users_table
from common.messaging import messaging_tables

Base = make_base()
OutboxEvent, ProcessedEvent = messaging_tables(Base)
ErasedUser = erased_users_table(Base)
MONEY = Numeric(20, 4)


class Item(Timestamps, Base):
    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("provider", "provider_item_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    provider: Mapped[str] = mapped_column(String(16), nullable=False)
    provider_item_id: Mapped[str] = mapped_column(String(255), nullable=False)
    institution_id: Mapped[str | None] = mapped_column(String(64))
    institution_name: Mapped[str | None] = mapped_column(String(200))
    access_token: Mapped[str | None] = mapped_column(Text)  # FieldCipher token, never plain
    cursor: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="healthy")
    error_code: Mapped[str | None] = mapped_column(String(80))
    error_message: Mapped[str | None] = mapped_column(String(500))
    error_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    sync_requested_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_synced_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_sync_ms: Mapped[int | None] = mapped_column(Integer)
    sync_sequence: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    transactions_last_sync: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    transactions_total: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    investments_through: Mapped[dt.date | None] = mapped_column(Date)


class Account(Timestamps, Base):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("item_id", "provider_account_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    item_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("items.id", ondelete="CASCADE"), nullable=False, index=True
    )
    user_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    provider_account_id: Mapped[str] = mapped_column(String(255), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    official_name: Mapped[str | None] = mapped_column(String(200))
    mask: Mapped[str | None] = mapped_column(String(8))
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    subtype: Mapped[str | None] = mapped_column(String(64))
    iso_currency_code: Mapped[str | None] = mapped_column(String(16))


class BalanceSnapshot(Base):
    __tablename__ = "balance_snapshots"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    captured_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    current: Mapped[Decimal | None] = mapped_column(MONEY)
    available: Mapped[Decimal | None] = mapped_column(MONEY)
    limit: Mapped[Decimal | None] = mapped_column(MONEY)
    iso_currency_code: Mapped[str | None] = mapped_column(String(16))


class ImportedTransaction(Base):
    __tablename__ = "imported_transactions"

    account_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    transaction_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    imported_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


register_model_columns(Item, ["access_token"], database_url_env="NESTEGG_AGGREGATION_DATABASE_URL")
