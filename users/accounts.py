"""Accounts: registration, profile, e-mail/password changes, password reset, export, deletion.

Functions take a SQLAlchemy session (the caller's transaction), plain validated data and the
current time, and return plain dicts. Personal fields are encrypted per cell; the e-mail is
found through its blind index. Domain failures raise :mod:`common.errors` types.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.db import new_id
from common.errors import BadRequest, Conflict, NotFound, ValidationFailed
from users import audit, keys, passwords
from users.models import LoginChallenge, PasswordReset, RecoveryCode, RiskProfile, User

TABLE = "users"
RESET_TTL = dt.timedelta(minutes=30)
PERSONAL_COLUMNS = ("name", "phone", "date_of_birth", "address", "ssn")


# --- helpers ------------------------------------------------------------------------------
def _enc(user_id: str, column: str, value) -> str | None:
    if value is None:
        return None
    if column == "address":
        value = json.dumps(value, sort_keys=True, separators=(",", ":"))
    elif column == "date_of_birth":
        value = value.isoformat() if isinstance(value, dt.date) else str(value)
    return keys.encrypt(TABLE, column, user_id, value)


def _dec(user: User, column: str):
    value = keys.decrypt(TABLE, column, user.id, getattr(user, column))
    if value is not None and column == "address":
        return json.loads(value)
    return value


def weak_password_error(error: passwords.WeakPassword, field: str) -> ValidationFailed:
    return ValidationFailed.from_messages(
        {field: error.reasons}, detail="The password does not meet the password policy"
    )


def check_password_policy(password: str, *, email: str | None, name: str | None, field: str):
    try:
        passwords.check_new_password(
            password, context=passwords.context_words(email=email, name=name)
        )
    except passwords.WeakPassword as exc:
        raise weak_password_error(exc, field) from None


def live_user(session: Session, user_id: str, *, for_update: bool = False) -> User:
    """The user of a verified principal; NotFound when unknown or deleted."""
    query = select(User).where(User.id == user_id, User.deleted_at.is_(None))
    if for_update:
        query = query.with_for_update()
    user = session.execute(query).scalar_one_or_none()
    if user is None:
        raise NotFound("No such account")
    return user


def find_by_email(session: Session, email: str) -> User | None:
    try:
        index = keys.email_index(email)
    except ValueError:
        return None
    return session.execute(
        select(User).where(User.email_bidx == index, User.deleted_at.is_(None))
    ).scalar_one_or_none()


def profile(user: User) -> dict:
    ssn = _dec(user, "ssn")
    return {
        "id": user.id,
        "email": _dec(user, "email"),
        "name": _dec(user, "name"),
        "phone": _dec(user, "phone"),
        "date_of_birth": _dec(user, "date_of_birth"),
        "address": _dec(user, "address"),
        "ssn_last4": ssn[-4:] if ssn else None,
        "mfa_enabled": user.mfa_enabled,
        "created_at": user.created_at,
    }


def epoch(moment: dt.datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


# --- registration and profile ---------------------------------------------------------------
def register(session: Session, data: dict, *, now: dt.datetime, cost: int) -> User:
    check_password_policy(
        data["password"], email=data["email"], name=data["name"], field="password"
    )
    index = keys.email_index(data["email"])
    if session.execute(select(User.id).where(User.email_bidx == index)).first():
        raise Conflict("An account with this e-mail address already exists")
    user_id = new_id()
    user = User(
        id=user_id,
        email_bidx=index,
        email=_enc(user_id, "email", data["email"].strip()),
        password_hash=passwords.hash_password(data["password"], keys.pepper(), cost),
        password_changed_at=now,
        created_at=now,
        updated_at=now,
        **{c: _enc(user_id, c, data.get(c)) for c in PERSONAL_COLUMNS},
    )
    session.add(user)
    _flush_unique_email(session)
    return user


def _flush_unique_email(session: Session) -> None:
    """Flush now, so a concurrent claim of the same e-mail fails on the unique index here."""
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("An account with this e-mail address already exists") from None


def update_profile(session: Session, user: User, changes: dict, *, now: dt.datetime) -> User:
    for column, value in changes.items():
        if column not in PERSONAL_COLUMNS:
            raise ValueError(f"{column} cannot be changed through update_profile")
        setattr(user, column, _enc(user.id, column, value))
    user.updated_at = now
    return user


def change_email(session: Session, user: User, email: str, *, now: dt.datetime) -> User:
    index = keys.email_index(email)
    owner = session.execute(select(User.id).where(User.email_bidx == index)).scalar()
    if owner is not None and owner != user.id:
        raise Conflict("An account with this e-mail address already exists")
    user.email_bidx = index
    user.email = _enc(user.id, "email", email.strip())
    user.updated_at = now
    _flush_unique_email(session)
    return user


# --- passwords ------------------------------------------------------------------------------
def set_password(user: User, password: str, *, now: dt.datetime, cost: int) -> None:
    user.password_hash = passwords.hash_password(password, keys.pepper(), cost)
    user.password_changed_at = now
    user.updated_at = now


def end_sessions(user: User, *, now: dt.datetime) -> int:
    """Tokens issued before ``now`` (whole seconds, rounded up) are no longer honoured."""
    cutoff = now.replace(microsecond=0) + dt.timedelta(seconds=1 if now.microsecond else 0)
    user.sessions_valid_after = cutoff
    return epoch(cutoff)


def create_reset_token(session: Session, user: User, *, now: dt.datetime) -> str:
    """A fresh single-use reset token (returned once); older open tokens are closed."""
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        PasswordReset(
            id=new_id(),
            user_id=user.id,
            token_hash=keys.token_hash(token),
            created_at=now,
            expires_at=now + RESET_TTL,
        )
    )
    return token


INVALID_RESET = "This password reset link is invalid, used or expired; request a new one"


def claim_reset_token(session: Session, token: str, *, now: dt.datetime) -> User:
    """The user a live token belongs to, with the token marked used (atomic, single use)."""
    user_id = session.execute(
        update(PasswordReset)
        .where(
            PasswordReset.token_hash == keys.token_hash(token),
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > now,
        )
        .values(used_at=now)
        .returning(PasswordReset.user_id)
    ).scalar()
    if user_id is None:
        raise BadRequest(INVALID_RESET)
    try:
        return live_user(session, user_id, for_update=True)
    except NotFound:
        raise BadRequest(INVALID_RESET) from None


# --- export and deletion ----------------------------------------------------------------------
def recovery_codes_remaining(session: Session, user_id: str) -> int:
    return session.execute(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
    ).scalar_one()


def risk_view(row: RiskProfile | None) -> dict | None:
    if row is None:
        return None
    answers = json.loads(keys.decrypt("risk_profiles", "answers", row.user_id, row.answers))
    return {
        "answers": answers,
        "capacity": row.capacity,
        "tolerance": row.tolerance,
        "risk_score": row.risk_score,
        "updated_at": row.updated_at,
    }


def export(session: Session, user: User, *, now: dt.datetime) -> dict:
    return {
        "profile": profile(user),
        "risk_profile": risk_view(session.get(RiskProfile, user.id)),
        "security_events": audit.events_for(session, user.id, limit=10_000, before=None),
        "mfa_enabled": user.mfa_enabled,
        "recovery_codes_remaining": recovery_codes_remaining(session, user.id),
        "exported_at": now,
    }


def tombstone(user_id: str) -> str:
    return f"deleted:{user_id}"


def erase(session: Session, user: User, *, now: dt.datetime) -> None:
    """Crypto-shred: every encrypted cell (and so its wrapped DEK) is set to NULL."""
    for model in (RecoveryCode, PasswordReset, LoginChallenge, RiskProfile):
        session.execute(delete(model).where(model.user_id == user.id))
    for column in ("email", *PERSONAL_COLUMNS, "totp_secret", "totp_pending_secret"):
        setattr(user, column, None)
    user.email_bidx = tombstone(user.id)
    user.password_hash = None
    user.mfa_enabled = False
    user.totp_last_step = None
    user.deleted_at = now
    user.updated_at = now
    end_sessions(user, now=now)
