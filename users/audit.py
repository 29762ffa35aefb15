"""The append-only security log: who, what, when, where, with what outcome (PCI DSS 10.2.2).

Rows go into ``audit_log`` in the caller's transaction, so a change and its record commit
together. Details are sanitised first: at most 20 keys of short scalar values, and any value
under a secret-looking key (password, token, secret, code, ...) or shaped like a JWT is
replaced by ``"[redacted]"`` — the log must never hold a credential (ASVS 16.2.5).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from users.models import AuditLog

OUTCOMES = ("success", "failure", "denied", "challenge")
EVENT_RE = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+){0,3}")
MAX_DETAIL_KEYS = 20
MAX_DETAIL_VALUE = 200
REDACTED = "[redacted]"
_SECRET_KEY_RE = re.compile(
    r"pass|secret|token|otp|totp|code|pepper|key|ssn|authorization|cookie", re.IGNORECASE
)
_JWT_RE = re.compile(r"eyJ[\w-]+\.")
_SAFE_KEYS = frozenset({"reason", "status_code", "error_code", "scope", "scopes", "grant_type"})


def _clean_value(key: str, value):
    if key not in _SAFE_KEYS and _SECRET_KEY_RE.search(key):
        return REDACTED
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return str(value)
    text = str(value) if not isinstance(value, list | tuple) else " ".join(map(str, value))
    if _JWT_RE.search(text):
        return REDACTED
    text = text.replace("\r", " ").replace("\n", " ")
    return text[:MAX_DETAIL_VALUE]


def sanitise_details(details: Mapping | None) -> dict:
    """A JSON-safe, credential-free copy of ``details`` (ValueError on too many keys)."""
    if details is None:
        return {}
    if not isinstance(details, Mapping):
        raise ValueError("audit details must be an object")
    if len(details) > MAX_DETAIL_KEYS:
        raise ValueError(f"audit details hold at most {MAX_DETAIL_KEYS} keys")
    return {str(k)[:64]: _clean_value(str(k), v) for k, v in details.items()}


def check_event(event: str, outcome: str) -> None:
    if not isinstance(event, str) or len(event) > 64 or not EVENT_RE.fullmatch(event):
        raise ValueError(f"audit event must look like 'login' or 'token.issue': {event!r}")
    if outcome not in OUTCOMES:
        raise ValueError(f"audit outcome must be one of {OUTCOMES}: {outcome!r}")


def record(
    session: Session,
    *,
    event: str,
    outcome: str,
    user_id: str | None = None,
    actor: str = "users",
    ip: str | None = None,
    client_id: str | None = None,
    details: Mapping | None = None,
    at=None,
) -> None:
    check_event(event, outcome)
    row = AuditLog(
        user_id=user_id,
        actor=actor[:64],
        event=event,
        outcome=outcome,
        ip=ip,
        client_id=client_id,
        details=sanitise_details(details),
    )
    if at is not None:
        row.at = at
    session.add(row)


def events_for(session: Session, user_id: str, *, limit: int, before: int | None) -> list[dict]:
    """The user's own events, newest first (keyset pagination on the id)."""
    query = select(AuditLog).where(AuditLog.user_id == user_id)
    if before is not None:
        query = query.where(AuditLog.id < before)
    rows = session.execute(query.order_by(AuditLog.id.desc()).limit(limit)).scalars()
    return [
        {
            "id": str(row.id),
            "at": row.at,
            "event": row.event,
            "outcome": row.outcome,
            "ip": row.ip,
            "client_id": row.client_id,
            "details": row.details or {},
        }
        for row in rows
    ]
