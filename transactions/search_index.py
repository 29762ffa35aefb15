"""Text search over encrypted transaction text: a per-user keyed token index.

The description, merchant name and notes are encrypted at rest, so the database cannot match
text. Instead each row stores ``search_tokens``: for every normalised word (and every prefix of
3+ characters of it, so "netfl" finds "Netflix"), ``HMAC-SHA256(user_key, word)`` truncated to
16 hex characters. ``user_key = HMAC-SHA256(master, user_id)``, with ``master`` the provider's
blind-index key for purpose ``transactions.search``: the same word gives different tokens for
different users, and nobody without the key can test a guessed word. A query matches rows
whose tokens contain the tokens of all its words (AND), via a GIN index on the array.

What it leaks to a reader of the database without the key: how many distinct words/prefixes a
row has, and which of one user's rows share a word. No plaintext is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable

TOKEN_HEX = 16
MIN_PREFIX = 3
MAX_WORD = 24
MAX_QUERY_WORDS = 8
_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)


def user_key(master: bytes, user_id: str) -> bytes:
    if not isinstance(master, bytes) or len(master) < 32:
        raise ValueError("the search master key must be at least 32 bytes")
    if not isinstance(user_id, str) or not user_id:
        raise ValueError("user_id is required for a search key")
    return hmac.new(master, b"transactions.search|" + user_id.encode(), hashlib.sha256).digest()


def words(text: str | None) -> list[str]:
    """Lower-cased NFKC words of letters and digits (at most 24 characters each)."""
    if not text:
        return []
    folded = unicodedata.normalize("NFKC", str(text)).casefold()
    return [w[:MAX_WORD] for w in _WORD_RE.findall(folded)]


def _token(key: bytes, term: str) -> str:
    return hmac.new(key, term.encode("utf-8"), hashlib.sha256).hexdigest()[:TOKEN_HEX]


def index_tokens(key: bytes, texts: Iterable[str | None]) -> list[str]:
    """Sorted distinct tokens of every word and every 3+ character prefix in ``texts``."""
    terms: set[str] = set()
    for text in texts:
        for word in words(text):
            terms.add(word)
            terms.update(word[:n] for n in range(MIN_PREFIX, len(word)))
    return sorted(_token(key, t) for t in terms)


def query_tokens(key: bytes, query: str) -> list[str]:
    """Tokens a row must all contain to match ``query``; ValueError if nothing is searchable."""
    if not isinstance(query, str):
        raise ValueError("the search text must be a string")
    found = list(dict.fromkeys(words(query)))
    if not found:
        raise ValueError("the search text needs at least one letter or digit")
    if len(found) > MAX_QUERY_WORDS:
        raise ValueError(f"the search text may have at most {MAX_QUERY_WORDS} words")
    return sorted({_token(key, w) for w in found})


def keyed_tag(key: bytes, purpose: str, value: str) -> str:
    """A per-user equality tag (merchant, country) that reveals nothing without the key."""
    return hmac.new(key, f"{purpose}|{value}".encode(), hashlib.sha256).hexdigest()[:32]
