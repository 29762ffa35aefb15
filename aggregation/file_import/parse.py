"""One entry point for both formats, and the stable transaction ids that make re-imports no-ops.

Ids: CSV rows have no bank id, so a row's id is a hash of (user, account, date, amount,
normalised description, occurrence index among identical rows in the file): importing the
same file twice gives the same ids, and two genuinely identical purchases on one day stay two
transactions. OFX rows use the bank's ``FITID`` (hashed with user and account).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import PurePath

from aggregation.file_import.csv_format import parse_csv
from aggregation.file_import.errors import file_error
from aggregation.file_import.ofx import parse_ofx

FORMATS = ("csv", "ofx", "qfx")
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000


@dataclass(frozen=True)
class ParsedTransaction:
    row: int
    date: date
    amount: Decimal  # Plaid convention: positive = money out
    name: str
    currency: str | None
    source_id: str  # FITID for OFX, "" for CSV (the id is derived from the row)


@dataclass
class ParsedAccount:
    key: str  # stable per user: the account name (CSV) or a hash of the OFX ACCTID
    name: str
    mask: str | None
    type: str
    subtype: str | None
    currency: str | None
    transactions: list[ParsedTransaction] = field(default_factory=list)


def detect_format(filename: str, content: bytes, declared: str | None) -> str:
    if declared:
        declared = declared.lower()
        if declared not in FORMATS:
            raise file_error(f"format must be one of {FORMATS}")
        return "ofx" if declared == "qfx" else declared
    head = content[:4096].lstrip().upper()
    if head.startswith(b"OFXHEADER") or b"<OFX>" in head or b"<?OFX" in head:
        return "ofx"
    suffix = PurePath(filename or "").suffix.lower().lstrip(".")
    if suffix in ("ofx", "qfx"):
        return "ofx"
    return "csv"


def _default_name(filename: str) -> str:
    stem = PurePath(filename or "").stem.strip()
    return stem[:100] or "Imported account"


def _norm_description(text: str) -> str:
    return " ".join(text.lower().split())


def parse_file(
    filename: str,
    content: bytes,
    *,
    declared_format: str | None = None,
    account_name: str | None = None,
    mapping: dict | None = None,
) -> list[ParsedAccount]:
    if len(content) > MAX_BYTES:
        raise file_error(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    if not content.strip():
        raise file_error("the file is empty")
    kind = detect_format(filename, content, declared_format)
    if kind == "csv":
        rows = parse_csv(content, mapping=mapping, max_rows=MAX_ROWS)
        name = (account_name or _default_name(filename)).strip()[:100]
        currencies = Counter(r.currency for r in rows if r.currency)
        account = ParsedAccount(
            key="csv:" + " ".join(name.lower().split()),
            name=name,
            mask=None,
            type="depository",
            subtype=None,
            currency=currencies.most_common(1)[0][0] if currencies else None,
        )
        account.transactions = [
            ParsedTransaction(r.row, r.date, r.amount, r.description, r.currency, "") for r in rows
        ]
        return [account]
    statements = parse_ofx(content, max_rows=MAX_ROWS)
    accounts = []
    for statement in statements:
        digest = hashlib.sha256(statement.account_id.encode()).hexdigest()[:24]
        mask = statement.account_id[-4:]
        is_card = (statement.account_type or "").upper() == "CREDITCARD"
        label = account_name or ("Card" if is_card else "Account")
        account = ParsedAccount(
            key=f"ofx:{digest}",
            name=f"{label} ••{mask}"[:100],
            mask=mask,
            type="credit" if is_card else "depository",
            subtype=(statement.account_type or "").lower() or None,
            currency=statement.currency,
        )
        account.transactions = [
            # OFX: negative = money out; Plaid: positive = money out
            ParsedTransaction(t.index, t.posted, -t.amount, t.name, t.currency, t.fitid)
            for t in statement.transactions
        ]
        accounts.append(account)
    return accounts


def stable_ids(user_id: str, account_id: str, transactions: list[ParsedTransaction]) -> list[str]:
    """One id per transaction, equal across re-imports of the same file (see module doc)."""
    seen: Counter = Counter()
    ids = []
    for txn in transactions:
        if txn.source_id:
            material = f"fitid|{user_id}|{account_id}|{txn.source_id}"
        else:
            identity = (txn.date.isoformat(), str(txn.amount), _norm_description(txn.name))
            occurrence = seen[identity]
            seen[identity] += 1
            material = "|".join(("row", user_id, account_id, *identity, str(occurrence)))
        ids.append("imp_" + hashlib.sha256(material.encode()).hexdigest()[:40])
    return ids
