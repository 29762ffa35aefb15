"""TOTP enrolment, confirmation (with recovery codes) and removal.

Enrolment stores a *pending* seed (encrypted, column ``totp_pending_secret``); a later enrolment
replaces it. Confirming with a valid code moves it to ``totp_secret`` (re-encrypted: the AAD
binds a ciphertext to its column), consumes that code's time step, turns MFA on and issues ten
fresh recovery codes, replacing any earlier ones.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.orm import Session

from common.db import new_id
from common.errors import BadRequest, ValidationFailed
from users import keys, login, recovery_codes, totp
from users.models import RecoveryCode, User

INVALID_CODE = "The authentication code is not valid"


def enroll(user: User, email: str) -> dict:
    secret = totp.new_secret()
    user.totp_pending_secret = keys.encrypt("users", "totp_pending_secret", user.id, secret)
    uri = totp.provisioning_uri(secret, email)
    return {"otpauth_uri": uri, "qr_png_base64": totp.qr_png_base64(uri), "secret": secret}


def replace_recovery_codes(session: Session, user_id: str, now: dt.datetime) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = recovery_codes.generate()
    key = keys.recovery_key()
    for code in codes:
        session.add(
            RecoveryCode(
                id=new_id(),
                user_id=user_id,
                code_hmac=recovery_codes.digest(code, key),
                created_at=now,
            )
        )
    return codes


def confirm(session: Session, user: User, code: str, now: dt.datetime) -> list[str]:
    """Turn MFA on with the pending seed; returns the recovery codes (shown once)."""
    if user.totp_pending_secret is None:
        raise BadRequest("Start an enrolment first")
    secret = keys.decrypt("users", "totp_pending_secret", user.id, user.totp_pending_secret)
    step = totp.matching_step(secret, code, now.timestamp())
    if step is None:
        raise ValidationFailed.from_messages({"code": [INVALID_CODE]}, detail=INVALID_CODE)
    # A new seed starts a new sequence of steps: the replay guard restarts from this step.
    user.totp_last_step = step
    user.totp_secret = keys.encrypt("users", "totp_secret", user.id, secret)
    user.totp_pending_secret = None
    user.mfa_enabled = True
    user.mfa_enabled_at = now
    user.updated_at = now
    return replace_recovery_codes(session, user.id, now)


def disable(session: Session, user: User, code: str, now: dt.datetime) -> bool:
    """Turn MFA off after a fresh, never-used code; False when the code is not accepted."""
    if not user.mfa_enabled:
        raise BadRequest("Two-factor authentication is not enabled")
    if not login.verify_totp(session, user, code, now):
        return False
    user.totp_secret = None
    user.totp_pending_secret = None
    user.totp_last_step = None
    user.mfa_enabled = False
    user.mfa_enabled_at = None
    user.updated_at = now
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    return True
