"""Outbox and inbox tables, created per service on that service's own declarative base.

Call :func:`messaging_tables` once in each service's ``models.py``::

    OutboxEvent, ProcessedEvent = messaging_tables(Base)
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

JsonType = JSON().with_variant(JSONB(), "postgresql")


def messaging_tables(Base):
    class OutboxEvent(Base):
        """An event written in the same transaction as the change that caused it."""

        __tablename__ = "outbox"
        __table_args__ = (
            Index("ix_outbox_pending", "created_at", postgresql_where=text("published_at IS NULL")),
        )

        id: Mapped[str] = mapped_column(String(36), primary_key=True)
        source: Mapped[str] = mapped_column(String(40), nullable=False)
        event_type: Mapped[str] = mapped_column(String(80), nullable=False)
        payload: Mapped[dict] = mapped_column(JsonType, nullable=False)
        created_at: Mapped[dt.datetime] = mapped_column(
            DateTime(timezone=True), server_default=func.now(), nullable=False
        )
        published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
        attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
        last_error: Mapped[str | None] = mapped_column(Text)

    class ProcessedEvent(Base):
        """Inbox: one row per (handler, event id) already applied; repeats are skipped."""

        __tablename__ = "inbox"

        handler: Mapped[str] = mapped_column(String(120), primary_key=True)
        event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
        processed_at: Mapped[dt.datetime] = mapped_column(
            DateTime(timezone=True), server_default=func.now(), nullable=False
        )

    return OutboxEvent, ProcessedEvent
