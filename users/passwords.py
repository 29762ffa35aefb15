"""Password policy (NIST SP 800-63B, OWASP ASVS 6.2) and storage (bcrypt over a peppered HMAC).

Policy, checked by :func:`password_problems` on every new password:

- length in Unicode code points of the NFKC form: at least 12, at most 128 (longer is refused,
  never truncated); no composition rules;
- not on the shipped blocklist (``users/data``: Django's 20k common-password list plus a
  hand-assembled list of long ones), compared after NFKC + casefold; also refused when the
  password is a listed one padded with digits/punctuation (``password!2024``), a repetition
  of a short unit (``abcabcabcabc``) or a plain sequence (``abcdefghijkl``, ``123456789012``);
- not built on a context word (the e-mail local part and its pieces, name parts, the e-mail
  domain label, ``nestegg``): refused when occurrences of such words (3+ characters) make up
  at least half of the password (spaces ignored).

Storage: ``bcrypt(base64(HMAC-SHA256(pepper, NFKC(password))), cost)``. The HMAC keeps every
byte of long passwords (bcrypt 5 refuses more than 72 bytes) and the pepper lives in the key
provider, not the database, so a stolen table alone cannot be attacked offline.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path

import bcrypt

MIN_LENGTH = 12
MAX_LENGTH = 128
DEFAULT_BCRYPT_COST = 12
MIN_PRODUCTION_COST = 12
COST_ENV = "NESTEGG_BCRYPT_COST"
SERVICE_WORD = "nestegg"
DATA_DIR = Path(__file__).resolve().parent / "data"
BLOCKLIST_FILES = ("common-passwords-django.txt.gz", "common-passwords-extra.txt")

TOO_SHORT = f"Use at least {MIN_LENGTH} characters."
TOO_LONG = f"Use at most {MAX_LENGTH} characters."
TOO_COMMON = (
    "This password is too common or too easy to guess; a passphrase of several unrelated "
    "words works well."
)
TRIVIAL = "This password is a simple sequence or repetition."
CONTEXTUAL = "This password is built on your e-mail address, your name or the service name."

_PADDING = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_WORD_SPLIT = re.compile(r"[\W_]+")


class WeakPassword(ValueError):
    """A new password broke the policy; ``reasons`` lists every rule it broke."""

    def __init__(self, reasons: list[str]):
        self.reasons = list(reasons)
        super().__init__("; ".join(self.reasons))


# --- policy -------------------------------------------------------------------------------
def normalise(password: str) -> str:
    if not isinstance(password, str):
        raise TypeError(f"a password is a str, got {type(password).__name__}")
    return unicodedata.normalize("NFKC", password)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


@functools.cache
def blocklist() -> frozenset[str]:
    """Every shipped common password, NFKC-normalised and casefolded."""
    words: set[str] = set()
    for name in BLOCKLIST_FILES:
        path = DATA_DIR / name
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                entry = line.rstrip("\n")
                if entry and not entry.startswith("#"):
                    words.add(_fold(entry))
    if len(words) < 5000:
        raise RuntimeError(f"the password blocklist in {DATA_DIR} is missing or truncated")
    return frozenset(words)


def context_words(
    *, email: str | None = None, name: str | None = None, extra: Iterable[str] = ()
) -> list[str]:
    """Words a user's password must not be built on (ASVS 6.2.11)."""
    words = {SERVICE_WORD}
    if email and "@" in email:
        local, _, domain = email.rpartition("@")
        words.add(_fold(local))
        words.update(_fold(p) for p in _WORD_SPLIT.split(local))
        words.add(_fold(domain.split(".")[0]))
    if name:
        words.add(_fold(name).replace(" ", ""))
        words.update(_fold(p) for p in _WORD_SPLIT.split(name))
    words.update(_fold(w) for w in extra)
    return sorted(w for w in words if len(w) >= 3)


def _is_repetition(text: str) -> bool:
    """``aaaaaaaaaaaa``, ``abcabcabcabc``: a unit of at most a quarter of the length repeated."""
    n = len(text)
    return any(n % k == 0 and text == text[:k] * (n // k) for k in range(1, n // 4 + 1))


def _is_sequence(text: str) -> bool:
    """``abcdefghijkl``, ``lkjihgfedcba``, ``123456789012`` (digits wrap 9 -> 0)."""

    def step(a: str, b: str) -> int | None:
        if a.isdigit() and b.isdigit():
            return (int(b) - int(a)) % 10
        return ord(b) - ord(a)

    steps = {step(a, b) for a, b in zip(text, text[1:], strict=False)}
    return len(steps) == 1 and steps.pop() in (1, -1, 9)


def password_problems(password: str, *, context: Iterable[str] = ()) -> list[str]:
    """Every rule ``password`` breaks (empty list: acceptable). Never raises on content."""
    if len(password) > MAX_LENGTH * 4:  # before NFKC, which may expand the text
        return [TOO_LONG]
    normalised = normalise(password)
    length = len(normalised)
    if length > MAX_LENGTH:
        return [TOO_LONG]
    problems = []
    if length < MIN_LENGTH:
        problems.append(TOO_SHORT)
    folded = normalised.casefold()
    core = _PADDING.sub("", folded)
    common = blocklist()
    if folded in common or folded.strip() in common or (len(core) >= 4 and core in common):
        problems.append(TOO_COMMON)
    elif _is_repetition(folded) or _is_sequence(folded):
        problems.append(TRIVIAL)
    squashed = re.sub(r"\s+", "", folded)
    remaining = squashed
    for word in sorted({_fold(w) for w in context if len(w) >= 3}, key=len, reverse=True):
        remaining = remaining.replace(word, "")
    if squashed and 2 * (len(squashed) - len(remaining)) >= len(squashed):
        problems.append(CONTEXTUAL)
    return problems


def check_new_password(password: str, *, context: Iterable[str] = ()) -> str:
    """Return ``password`` if acceptable, else raise :class:`WeakPassword` with the reasons."""
    problems = password_problems(password, context=context)
    if problems:
        raise WeakPassword(problems)
    return password


# --- storage ------------------------------------------------------------------------------
def bcrypt_cost(environ: Mapping[str, str] | None = None) -> int:
    """``NESTEGG_BCRYPT_COST`` (default 12). Below 12 only when ``NESTEGG_ENV=test``."""
    environ = os.environ if environ is None else environ
    raw = environ.get(COST_ENV, "")
    if not raw:
        return DEFAULT_BCRYPT_COST
    try:
        cost = int(raw)
    except ValueError:
        raise ValueError(f"{COST_ENV} must be an integer 4-31, got {raw!r}") from None
    if not 4 <= cost <= 31:
        raise ValueError(f"{COST_ENV} must be an integer 4-31, got {cost}")
    if cost < MIN_PRODUCTION_COST and environ.get("NESTEGG_ENV") != "test":
        raise ValueError(
            f"{COST_ENV}={cost} is below {MIN_PRODUCTION_COST}; lower costs are for tests only"
        )
    return cost


def prehash(password: str, pepper: bytes) -> bytes:
    """base64(HMAC-SHA256(pepper, NFKC(password))): 44 ASCII bytes, under bcrypt's 72."""
    if not isinstance(pepper, bytes) or len(pepper) < 32:
        raise ValueError("the password pepper must be at least 32 bytes")
    digest = hmac.new(pepper, normalise(password).encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest)


def hash_password(password: str, pepper: bytes, cost: int) -> str:
    if not 4 <= cost <= 31:
        raise ValueError(f"bcrypt cost must be 4-31, got {cost}")
    return bcrypt.hashpw(prehash(password, pepper), bcrypt.gensalt(rounds=cost)).decode("ascii")


def verify_password(password: str, stored: str, pepper: bytes) -> bool:
    if not isinstance(stored, str) or not stored.startswith("$2"):
        return False
    try:
        return bcrypt.checkpw(prehash(password, pepper), stored.encode("ascii"))
    except ValueError:
        return False


def hash_cost(stored: str) -> int:
    """The cost recorded in a bcrypt hash (``$2b$12$...`` -> 12)."""
    parts = stored.split("$")
    if len(parts) < 4 or not parts[2].isdigit():
        raise ValueError("not a bcrypt hash")
    return int(parts[2])


def needs_rehash(stored: str, cost: int) -> bool:
    """True when the stored hash used a lower cost than the configured one."""
    return hash_cost(stored) < cost


@functools.cache
def _dummy_hash(pepper_digest: str, cost: int) -> str:
    return hash_password(secrets.token_urlsafe(24), secrets.token_bytes(32), cost)


def dummy_verify(password: str, pepper: bytes, cost: int) -> bool:
    """Spend one bcrypt verification for an unknown account (same timing); always False."""
    stored = _dummy_hash(hashlib.sha256(pepper).hexdigest(), cost)
    verify_password(password, stored, pepper)
    return False
