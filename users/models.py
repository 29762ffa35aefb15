"""users service tables (its own database; no other service can read them).

Personal data and the TOTP seeds are field-encrypted (``common.crypto.FieldCipher``, one DEK
per cell, AAD ``users|<column>|<id>``); e-mail lookups go through a blind index. The
``audit_log`` table is append-only: a trigger refuses UPDATE/DELETE/TRUNCATE and, after
``users.provision_hooks.harden``, the service role may only SELECT and INSERT.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from common.crypto import register_model_columns
from common.db import Timestamps, make_base
from common.messaging import JsonType, messaging_tables

Base = make_base()
OutboxEvent, ProcessedEvent = messaging_tables(Base)

DATABASE_URL_ENV = "NESTEGG_USERS_DATABASE_URL"
USER_ENCRYPTED_COLUMNS = (
    "email",
    "name",
    "phone",
    "date_of_birth",
    "address",
    "ssn",
    "totp_secret",
    "totp_pending_secret",
)


def _ts(**kwargs):
    return mapped_column(DateTime(timezone=True), **kwargs)


class User(Timestamps, Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email_bidx: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    email: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    date_of_birth: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    ssn: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(20), nullable=False, server_default="user")
    password_hash: Mapped[str | None] = mapped_column(String(80))
    password_changed_at: Mapped[dt.datetime | None] = _ts()
    mfa_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    mfa_enabled_at: Mapped[dt.datetime | None] = _ts()
    totp_secret: Mapped[str | None] = mapped_column(Text)
    totp_pending_secret: Mapped[str | None] = mapped_column(Text)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    locked_until: Mapped[dt.datetime | None] = _ts()
    sessions_valid_after: Mapped[dt.datetime | None] = _ts()
    deleted_at: Mapped[dt.datetime | None] = _ts()


class RecoveryCode(Base):
    __tablename__ = "recovery_codes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    code_hmac: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[dt.datetime] = _ts(server_default=func.now(), nullable=False)
    used_at: Mapped[dt.datetime | None] = _ts()


class PasswordReset(Base):
    __tablename__ = "password_resets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[dt.datetime] = _ts(nullable=False)
    expires_at: Mapped[dt.datetime] = _ts(nullable=False)
    used_at: Mapped[dt.datetime | None] = _ts()


class LoginChallenge(Base):
    """One sign-in attempt waiting for its second factor (five wrong codes burn it)."""

    __tablename__ = "login_challenges"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[dt.datetime] = _ts(nullable=False)
    expires_at: Mapped[dt.datetime] = _ts(nullable=False)
    failed_codes: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="0")
    closed_at: Mapped[dt.datetime | None] = _ts()


class RiskProfile(Base):
    __tablename__ = "risk_profiles"

    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    answers: Mapped[str] = mapped_column(Text, nullable=False)  # encrypted JSON
    capacity: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    tolerance: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    risk_score: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    updated_at: Mapped[dt.datetime] = _ts(nullable=False)


class OAuthClient(Base):
    __tablename__ = "oauth_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    secret_hash: Mapped[str | None] = mapped_column(String(80))
    redirect_uris: Mapped[list] = mapped_column(JsonType, nullable=False)
    scopes: Mapped[list] = mapped_column(JsonType, nullable=False)
    public: Mapped[bool] = mapped_column(Boolean, nullable=False)
    first_party: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_at: Mapped[dt.datetime] = _ts(server_default=func.now(), nullable=False)


class AuditLog(Base):
    """Append-only security log (PCI DSS 10.2, ASVS 16.3): who, what, when, where, outcome."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_user_id_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = _ts(server_default=func.now(), nullable=False)
    user_id: Mapped[str | None] = mapped_column(String(36))
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    event: Mapped[str] = mapped_column(String(64), nullable=False)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    ip: Mapped[str | None] = mapped_column(String(64))
    client_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(
        JsonType, nullable=False, server_default=text("'{}'::jsonb")
    )


register_model_columns(User, USER_ENCRYPTED_COLUMNS, database_url_env=DATABASE_URL_ENV)
register_model_columns(RiskProfile, ["answers"], database_url_env=DATABASE_URL_ENV)
