"""Blind index: a keyed hash for equality lookups on an encrypted column (e.g. e-mail).

    index = hex(HMAC-SHA256(key_for_purpose, NFKC(lower(strip(value)))))

Full 256 bits (64 hex characters): for a unique login e-mail we want no deliberate collisions.
It leaks equality and frequency of the normalised value, nothing more, to a reader of the
database who lacks the key. Each purpose (``"users.email"``) has its own key.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata


def normalise(value: str) -> str:
    """NFKC(lower(strip(value))); an empty result is refused (it would index nothing)."""
    if not isinstance(value, str):
        raise TypeError(f"a blind index needs a str, got {type(value).__name__}")
    normalised = unicodedata.normalize("NFKC", value.strip().lower())
    if not normalised:
        raise ValueError("cannot build a blind index of an empty or blank value")
    return normalised


def blind_index(key: bytes, value: str) -> str:
    if not isinstance(key, bytes) or len(key) < 32:
        raise ValueError("a blind-index key must be at least 32 bytes")
    return hmac.new(key, normalise(value).encode("utf-8"), hashlib.sha256).hexdigest()


def index_matches(stored: str, candidate: str) -> bool:
    """Constant-time comparison of two index values."""
    if not isinstance(stored, str) or not isinstance(candidate, str):
        raise TypeError("blind index values are str")
    return hmac.compare_digest(stored.encode("ascii"), candidate.encode("ascii"))
