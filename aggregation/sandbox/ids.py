"""Deterministic identifiers: every id is a pure function of the seed and a label.

Plaid's ids are opaque strings; its item, account and transaction ids are 37 base62-like
characters, its tokens ``<kind>-sandbox-<uuid4>``. Deriving them with SHA-256 keeps a server
built from the same seed byte-for-byte reproducible without a shared random stream.
"""

from __future__ import annotations

import hashlib
import random
import uuid

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def digest_int(*parts: object) -> int:
    text = "\x1f".join(str(part) for part in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest(), "big")


def opaque_id(*parts: object, length: int = 37) -> str:
    if length < 1 or length > 43:
        raise ValueError("opaque ids are 1..43 characters long")
    number = digest_int(*parts)
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[index])
    return "".join(chars)


def token(kind: str, *parts: object) -> str:
    """``link-sandbox-<uuid>``, ``public-sandbox-<uuid>`` or ``access-sandbox-<uuid>``."""
    if kind not in {"link", "public", "access"}:
        raise ValueError(f"unknown token kind {kind!r}")
    value = uuid.UUID(int=digest_int(kind, *parts) >> 128, version=4)
    return f"{kind}-sandbox-{value}"


def seeded_rng(*parts: object) -> random.Random:
    return random.Random(digest_int(*parts))
