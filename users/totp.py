"""TOTP (RFC 6238) as plain functions over pyotp: seeds, provisioning URI, QR code, matching.

pyotp has no replay protection: :func:`matching_step` returns the *time step* a code belongs
to, and the caller accepts it only if it can atomically raise the user's stored last step
(``UPDATE ... WHERE totp_last_step IS NULL OR totp_last_step < :step``). Codes are checked
against the server's clock only, within at most one step either side (``valid_window <= 1``).
"""

from __future__ import annotations

import base64
import hmac
import io

import pyotp

SEED_CHARS = 32  # base32: 32 x 5 = 160 bits (RFC 4226 recommends 160)
DIGITS = 6
INTERVAL = 30
MAX_WINDOW = 1
ISSUER = "Nestegg"


def new_secret() -> str:
    """A fresh 160-bit seed from the OS CSPRNG, base32 without padding."""
    return pyotp.random_base32(SEED_CHARS)


def _totp(secret: str) -> pyotp.TOTP:
    if not isinstance(secret, str) or len(secret) < SEED_CHARS:
        raise ValueError(f"a TOTP seed is at least {SEED_CHARS} base32 characters")
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)


def provisioning_uri(secret: str, account_name: str, issuer: str = ISSUER) -> str:
    """``otpauth://totp/Nestegg:alice%40example.com?secret=...&issuer=Nestegg``."""
    return _totp(secret).provisioning_uri(name=account_name, issuer_name=issuer)


def time_step(at: float) -> int:
    """The RFC 6238 counter for Unix time ``at``."""
    return int(at) // INTERVAL


def code_at(secret: str, at: float) -> str:
    """The code for time ``at`` (for tests and enrolment checks)."""
    return _totp(secret).at(int(at))


def normalise_code(code: str) -> str | None:
    """Strip spaces; None unless exactly ``DIGITS`` ASCII digits remain."""
    if not isinstance(code, str):
        return None
    cleaned = code.replace(" ", "").strip()
    if len(cleaned) != DIGITS or not cleaned.isascii() or not cleaned.isdigit():
        return None
    return cleaned


def matching_step(secret: str, code: str, at: float, *, window: int = MAX_WINDOW) -> int | None:
    """The time step (``at`` +/- ``window`` steps) whose code equals ``code``, else None.

    Every candidate is compared in constant time and all are computed, so the timing does
    not tell which step matched.
    """
    if not 0 <= window <= MAX_WINDOW:
        raise ValueError(f"window must be 0..{MAX_WINDOW} steps, got {window}")
    cleaned = normalise_code(code)
    totp = _totp(secret)
    current = time_step(at)
    found = None
    for offset in range(-window, window + 1):
        step = current + offset
        candidate = totp.generate_otp(step)
        if hmac.compare_digest(candidate, cleaned or "x" * DIGITS) and cleaned is not None:
            found = step
    return found


def qr_png_base64(uri: str) -> str:
    """The URI as a QR code PNG (pure Python: qrcode + pypng), base64-encoded."""
    import qrcode
    from qrcode.image.pure import PyPNGImage

    image = qrcode.make(uri, image_factory=PyPNGImage, box_size=6, border=4)
    buffer = io.BytesIO()
    image.save(buffer)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
