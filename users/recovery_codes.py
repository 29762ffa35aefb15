"""Single-use recovery codes (ASVS 6.5.2/6.5.4): generated once, stored only as keyed hashes.

A code is 10 characters from a 31-character alphabet without look-alikes (49.5 bits), shown as
``xxxxx-xxxxx``. Stored as ``hex(HMAC-SHA256(key, normalised code))`` with a key held by the
key provider (not the database); 49 bits under a secret key cannot be brute-forced offline
from the table alone, and online guessing is throttled by the account lockout.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # 31 characters: no i, l, o, 0, 1
CODE_LENGTH = 10
COUNT = 10
KEY_SECRET_NAME = "users-recovery-codes"  # noqa: S105 - a secret's name, not a secret


def generate(count: int = COUNT) -> list[str]:
    """``count`` distinct fresh codes, formatted ``xxxxx-xxxxx``."""
    if not 1 <= count <= 100:
        raise ValueError(f"count must be 1..100, got {count}")
    alphabet = ALPHABET
    codes: set[str] = set()
    while len(codes) < count:
        raw = "".join(secrets.choice(alphabet) for _ in range(CODE_LENGTH))
        codes.add(f"{raw[:5]}-{raw[5:]}")
    return sorted(codes)


def normalise(code: str) -> str | None:
    """Lower-case, spaces and hyphens removed; None unless it can be a code at all."""
    if not isinstance(code, str):
        return None
    cleaned = code.strip().lower().replace("-", "").replace(" ", "")
    if len(cleaned) != CODE_LENGTH or any(c not in ALPHABET for c in cleaned):
        return None
    return cleaned


def digest(code: str, key: bytes) -> str | None:
    """The stored form of ``code`` (None when ``code`` is malformed)."""
    if not isinstance(key, bytes) or len(key) < 32:
        raise ValueError("the recovery-code key must be at least 32 bytes")
    cleaned = normalise(code)
    if cleaned is None:
        return None
    return hmac.new(key, cleaned.encode("ascii"), hashlib.sha256).hexdigest()
