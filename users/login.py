"""Sign-in: password, second factor, lockout, sign-in challenges, replay-safe TOTP.

- Unknown e-mail and wrong password give the same error, after the same bcrypt work.
- 10 consecutive failures (password or second factor) lock the account for 30 minutes
  (PCI DSS 8.3.4); the counter and the lock are changed with single atomic UPDATEs.
- With MFA enrolled, a right password without a code opens a *sign-in challenge*: an opaque
  single-use token (stored as SHA-256) valid 5 minutes, answered with a TOTP or recovery code.
  Five wrong codes burn it (the caller starts again with the password).
- A TOTP code is accepted at most once: its time step must atomically raise
  ``users.totp_last_step``; a concurrent second submission of the same code matches no row.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from common.db import new_id
from common.errors import Locked, Unauthenticated
from users import accounts, audit, keys, passwords, recovery_codes, totp
from users.errors import CommitThenRaise, MfaCodeRequired
from users.models import LoginChallenge, RecoveryCode, User

MAX_FAILURES = 10
LOCK_DURATION = dt.timedelta(minutes=30)
CHALLENGE_TTL = dt.timedelta(minutes=5)
MAX_CODES_PER_CHALLENGE = 5
INVALID_CREDENTIALS = "Invalid e-mail or password"
CHALLENGE_OVER = "This sign-in attempt is over; sign in again with your password"


# --- lockout ------------------------------------------------------------------------------
def lock_error(user: User, now: dt.datetime) -> Locked | None:
    if user.locked_until is not None and user.locked_until > now:
        retry = math.ceil((user.locked_until - now).total_seconds())
        return Locked(
            "Too many failed sign-in attempts; the account is locked for a while",
            {"retry_after": retry},
        )
    return None


def record_failure(session: Session, user_id: str, now: dt.datetime) -> bool:
    """Count one failure atomically; returns True when this failure locked the account."""
    row = session.execute(
        update(User)
        .where(User.id == user_id)
        .values(
            failed_logins=case(
                (User.failed_logins + 1 >= MAX_FAILURES, 0), else_=User.failed_logins + 1
            ),
            locked_until=case(
                (User.failed_logins + 1 >= MAX_FAILURES, now + LOCK_DURATION),
                else_=User.locked_until,
            ),
        )
        .returning(User.locked_until)
    ).first()
    return (
        row is not None and row.locked_until is not None and row.locked_until == now + LOCK_DURATION
    )


def record_success(session: Session, user_id: str) -> None:
    session.execute(
        update(User).where(User.id == user_id).values(failed_logins=0, locked_until=None)
    )


# --- second factors -------------------------------------------------------------------------
def consume_totp_step(session: Session, user_id: str, step: int) -> bool:
    """The replay guard: True for exactly one caller per (user, step or later)."""
    result = session.execute(
        update(User)
        .where(
            User.id == user_id,
            (User.totp_last_step.is_(None)) | (User.totp_last_step < step),
        )
        .values(totp_last_step=step)
    )
    return result.rowcount == 1


def verify_totp(session: Session, user: User, code: str, now: dt.datetime, *, column="totp_secret"):
    """True when ``code`` is valid now for the user's seed and was never accepted before."""
    secret = keys.decrypt("users", column, user.id, getattr(user, column))
    if secret is None:
        return False
    step = totp.matching_step(secret, code, now.timestamp())
    return step is not None and consume_totp_step(session, user.id, step)


def use_recovery_code(session: Session, user_id: str, code: str, now: dt.datetime) -> bool:
    digest = recovery_codes.digest(code, keys.recovery_key())
    if digest is None:
        return False
    used = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hmac == digest,
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .returning(RecoveryCode.id)
    ).first()
    return used is not None


# --- challenges -----------------------------------------------------------------------------
def open_challenge(session: Session, user_id: str, now: dt.datetime, failed: int = 0) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        LoginChallenge(
            id=new_id(),
            user_id=user_id,
            token_hash=keys.token_hash(token),
            created_at=now,
            expires_at=now + CHALLENGE_TTL,
            failed_codes=failed,
        )
    )
    return token


def _code_required(token: str, failed: int, reason: str, now: dt.datetime) -> MfaCodeRequired:
    detail = (
        "Enter the code from your authenticator app or a recovery code"
        if reason == "missing"
        else "The authentication code is not valid"
    )
    return MfaCodeRequired(
        detail,
        {
            "mfa_challenge": token,
            "expires_in": int(CHALLENGE_TTL.total_seconds()),
            "attempts_left": MAX_CODES_PER_CHALLENGE - failed,
            "reason": reason,
        },
    )


# --- the flow -------------------------------------------------------------------------------
def _success(session, user: User, amr: list[str], now: dt.datetime, ctx: dict, events) -> dict:
    record_success(session, user.id)
    if "recovery" in amr:
        events.append(("security_event", {"user_id": user.id, "event": "recovery_code_used"}))
    audit.record(
        session,
        event="login",
        outcome="success",
        user_id=user.id,
        ip=ctx.get("ip"),
        details={"amr": amr, "user_agent": ctx.get("user_agent")},
    )
    return {
        "user_id": user.id,
        "amr": amr,
        "auth_time": int(now.timestamp()),
        "mfa_enabled": user.mfa_enabled,
        "sessions_valid_after": accounts.epoch(user.sessions_valid_after),
    }


def _fail(session, user_id, reason: str, now, ctx: dict, error, events) -> CommitThenRaise:
    audit.record(
        session,
        event="login",
        outcome="failure",
        user_id=user_id,
        ip=ctx.get("ip"),
        details={"reason": reason, "user_agent": ctx.get("user_agent")},
    )
    if user_id is not None and record_failure(session, user_id, now):
        audit.record(
            session,
            event="account.locked",
            outcome="success",
            user_id=user_id,
            ip=ctx.get("ip"),
            details={"minutes": int(LOCK_DURATION.total_seconds() // 60)},
        )
        events.append(("security_event", {"user_id": user_id, "event": "account_locked"}))
    return CommitThenRaise(error)


def _second_factor(session, user: User, data: dict, now: dt.datetime) -> str | None:
    """``"otp"`` / ``"recovery"`` when the code given in ``data`` is good, else None."""
    if data.get("totp") is not None:
        return "otp" if verify_totp(session, user, data["totp"], now) else None
    if data.get("recovery_code") is not None:
        return (
            "recovery" if use_recovery_code(session, user.id, data["recovery_code"], now) else None
        )
    return None


def authenticate(
    session: Session, data: dict, ctx: dict, *, now: dt.datetime, cost: int, events: list
) -> dict:
    """The sign-in result, or CommitThenRaise(error) (failures are counted and audited).

    ``events`` receives ``(event_type, data)`` pairs for the caller's outbox.
    """
    if "mfa_challenge" in data:
        return _answer_challenge(session, data, ctx, now=now, events=events)
    user = accounts.find_by_email(session, data["email"])
    if user is None or user.password_hash is None:
        passwords.dummy_verify(data["password"], keys.pepper(), cost)
        raise _fail(
            session, None, "unknown_email", now, ctx, Unauthenticated(INVALID_CREDENTIALS), events
        )
    locked = lock_error(user, now)
    if locked is not None:
        raise _fail_locked(session, user, ctx, locked)
    if not passwords.verify_password(data["password"], user.password_hash, keys.pepper()):
        raise _fail(
            session, user.id, "bad_password", now, ctx, Unauthenticated(INVALID_CREDENTIALS), events
        )
    if passwords.needs_rehash(user.password_hash, cost):
        user.password_hash = passwords.hash_password(data["password"], keys.pepper(), cost)
    if not user.mfa_enabled:
        return _success(session, user, ["pwd"], now, ctx, events)
    if data.get("totp") is None and data.get("recovery_code") is None:
        token = open_challenge(session, user.id, now)
        audit.record(session, event="login", outcome="challenge", user_id=user.id, ip=ctx.get("ip"))
        raise CommitThenRaise(_code_required(token, 0, "missing", now))
    factor = _second_factor(session, user, data, now)
    if factor is None:
        token = open_challenge(session, user.id, now, failed=1)
        raise _fail(
            session, user.id, "bad_code", now, ctx, _code_required(token, 1, "invalid", now), events
        )
    return _success(session, user, ["pwd", factor], now, ctx, events)


def _fail_locked(session, user: User, ctx: dict, locked: Locked) -> CommitThenRaise:
    audit.record(
        session,
        event="login",
        outcome="denied",
        user_id=user.id,
        ip=ctx.get("ip"),
        details={"reason": "locked"},
    )
    return CommitThenRaise(locked)


def _answer_challenge(
    session: Session, data: dict, ctx: dict, *, now: dt.datetime, events: list
) -> dict:
    challenge = session.execute(
        select(LoginChallenge)
        .where(LoginChallenge.token_hash == keys.token_hash(data["mfa_challenge"]))
        .with_for_update()
    ).scalar_one_or_none()
    if challenge is None or challenge.closed_at is not None or challenge.expires_at <= now:
        raise _fail(
            session, None, "challenge_over", now, ctx, Unauthenticated(CHALLENGE_OVER), events
        )
    user = session.get(User, challenge.user_id)
    if user is None or user.deleted_at is not None or not user.mfa_enabled:
        challenge.closed_at = now
        raise CommitThenRaise(Unauthenticated(CHALLENGE_OVER))
    locked = lock_error(user, now)
    if locked is not None:
        challenge.closed_at = now
        raise _fail_locked(session, user, ctx, locked)
    factor = _second_factor(session, user, data, now)
    if factor is not None:
        challenge.closed_at = now
        return _success(session, user, ["pwd", factor], now, ctx, events)
    challenge.failed_codes += 1
    if challenge.failed_codes >= MAX_CODES_PER_CHALLENGE:
        challenge.closed_at = now
        error = Unauthenticated(CHALLENGE_OVER, {"reason": "mfa_attempts_exhausted"})
    else:
        error = _code_required(data["mfa_challenge"], challenge.failed_codes, "invalid", now)
    raise _fail(session, user.id, "bad_code", now, ctx, error, events)
