"""Persistence helpers between ledger records (plain data) and the encrypted ORM rows.

Everything that touches ciphertext or keyed tags is here, so ``service.py`` stays thin and the
rest of the package sees plaintext dicts only.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.crypto import CipherContext, FieldCipher, get_key_provider
from transactions import categorization
from transactions.ledger import description_of, merchant_text
from transactions.models import Budget, CategoryCorrection, Transaction, TransactionSplit
from transactions.search_index import index_tokens, keyed_tag, query_tokens, user_key

USER_CATEGORY_SOURCE = "user"


class FieldKeys:
    """The cipher and the per-user keys (search tokens, equality tags, cursor signing)."""

    def __init__(self, provider=None):
        provider = provider or get_key_provider()
        self.cipher = FieldCipher(provider)
        self._search = provider.blind_index_key("transactions.search")
        self._tags = provider.blind_index_key("transactions.tags")
        self.cursor_key = provider.blind_index_key("transactions.cursor")

    def search_tokens(self, user_id: str, texts: Iterable[str | None]) -> list[str]:
        return index_tokens(user_key(self._search, user_id), texts)

    def query_tokens(self, user_id: str, query: str) -> list[str]:
        return query_tokens(user_key(self._search, user_id), query)

    def tag(self, user_id: str, purpose: str, value: str | None) -> str | None:
        if not value:
            return None
        return keyed_tag(user_key(self._tags, user_id), purpose, value)

    def seal(self, table: str, column: str, row_id: str, value: Any) -> str:
        ctx = CipherContext(table=table, column=column, row_id=row_id)
        return self.cipher.encrypt(json.dumps(value, default=str), ctx=ctx)

    def open(self, table: str, column: str, row_id: str, token: str | None) -> Any:
        if token is None:
            return None
        ctx = CipherContext(table=table, column=column, row_id=row_id)
        return json.loads(self.cipher.decrypt(token, ctx=ctx))


def merchant_key_of(details: Mapping[str, Any]) -> str | None:
    return categorization.merchant_key(merchant_text(details))


def write_details(keys: FieldKeys, row: Transaction, details: Mapping[str, Any], notes) -> None:
    """Encrypt details/notes into ``row`` and refresh its search tokens and merchant tag."""
    row.details = keys.seal("transactions", "details", row.id, dict(details))
    row.notes = None if notes is None else keys.seal("transactions", "notes", row.id, notes)
    texts = [description_of(details), details.get("merchant_name"), details.get("name"), notes]
    row.search_tokens = keys.search_tokens(row.user_id, texts)
    row.merchant_tag = keys.tag(row.user_id, "merchant", merchant_key_of(details))


def read_details(keys: FieldKeys, row: Transaction) -> dict[str, Any]:
    return keys.open("transactions", "details", row.id, row.details) or {}


def read_notes(keys: FieldKeys, row: Transaction) -> str | None:
    return keys.open("transactions", "notes", row.id, row.notes)


def apply_record(keys: FieldKeys, row: Transaction, record: Mapping[str, Any]) -> None:
    """Copy a provider ledger record onto ``row``; user edits (notes, tags, hidden, a user
    category) are kept."""
    for name in (
        "account_id",
        "provider_transaction_id",
        "amount",
        "iso_currency_code",
        "date",
        "authorized_date",
        "occurred_at",
        "local_hour",
        "pending",
        "payment_channel",
        "provider_category",
    ):
        setattr(row, name, record[name])
    row.country_tag = keys.tag(row.user_id, "country", record.get("country"))
    notes = read_notes(keys, row) if row.notes else None
    write_details(keys, row, record["details"], notes)


def load_corrections(keys: FieldKeys, session: Session, user_id: str) -> dict:
    rows = session.scalars(
        select(CategoryCorrection).where(CategoryCorrection.user_id == user_id)
    ).all()
    memory = {
        keys.open("category_corrections", "merchant_key", r.id, r.merchant_key): r.category_detailed
        for r in rows
    }
    return {user_id: memory}


def record_correction(
    keys: FieldKeys, session: Session, user_id: str, merchant_key: str, detailed: str, new_id
) -> None:
    tag = keys.tag(user_id, "merchant", merchant_key)
    row = session.scalars(
        select(CategoryCorrection).where(
            CategoryCorrection.user_id == user_id, CategoryCorrection.merchant_tag == tag
        )
    ).first()
    if row is None:
        row = CategoryCorrection(id=new_id(), user_id=user_id, merchant_tag=tag)
        row.merchant_key = keys.seal("category_corrections", "merchant_key", row.id, merchant_key)
        session.add(row)
    row.category_detailed = detailed


def categorize_rows(
    keys: FieldKeys,
    session: Session,
    categorizer,
    user_id: str,
    rows: list[Transaction],
    *,
    rules: Sequence[Any] = (),
) -> None:
    """Run the layered categoriser on ``rows`` (rows with a user category are left alone);
    ``rules`` are the user's own rules in order (layer 1, see transactions/rule_store.py)."""
    rows = [r for r in rows if r.category_source != USER_CATEGORY_SOURCE]
    if not rows:
        return
    memory = load_corrections(keys, session, user_id)
    txns = []
    for row in rows:
        details = read_details(keys, row)
        txns.append(
            {
                "description": description_of(details),
                "merchant_name": details.get("merchant_name"),
                "amount": row.amount,
                "user_id": user_id,
                "account_id": row.account_id,
                "payment_channel": row.payment_channel,
                "provider_category": row.provider_category,
            }
        )
    for row, result in zip(
        rows, categorizer.categorize_many(txns, corrections=memory, rules=rules), strict=True
    ):
        row.category_primary = result["category_primary"]
        row.category_detailed = result["category_detailed"]
        row.category_source = result["source"]
        row.category_rule_id = result.get("rule_id") if result["source"] == "rule" else None
        row.category_confidence = Decimal(str(round(float(result["confidence"]), 4)))


def budget_to_api(budget: Budget) -> dict[str, Any]:
    return {
        "id": budget.id,
        "category": budget.category,
        "level": budget.level,
        "amount": budget.amount,
        "currency": budget.currency,
        "rollover": budget.rollover,
        "start_month": budget.start_month,
    }


def to_api(keys: FieldKeys, row: Transaction, splits: list[TransactionSplit]) -> dict[str, Any]:
    details = read_details(keys, row)
    return {
        "id": row.id,
        "source": row.source,
        "account_id": row.account_id,
        "amount": row.amount,
        "currency": row.iso_currency_code,
        "date": row.date,
        "authorized_date": row.authorized_date,
        "occurred_at": row.occurred_at,
        "pending": row.pending,
        "description": description_of(details),
        "merchant_name": details.get("merchant_name"),
        "website": details.get("website"),
        "location": details.get("location"),
        "counterparties": details.get("counterparties"),
        "payment_meta": details.get("payment_meta"),
        "payment_channel": row.payment_channel,
        "category_primary": row.category_primary,
        "category_detailed": row.category_detailed,
        "category_source": row.category_source,
        "category_rule_id": row.category_rule_id,
        "notes": read_notes(keys, row),
        "tags": list(row.tags or []),
        "hidden": row.hidden,
        "splits": [
            {
                "id": s.id,
                "amount": s.amount,
                "category_primary": s.category_primary,
                "category_detailed": s.category_detailed,
            }
            for s in sorted(splits, key=lambda s: s.position)
        ],
        "anomaly": {
            "status": row.anomaly_status,
            "score": None if row.anomaly_score is None else row.anomaly_score,
            "reasons": list(row.anomaly_reasons or []),
        },
    }


def analysis_rows(
    rows: Iterable[Transaction], splits: Mapping[str, list[TransactionSplit]]
) -> list[dict[str, Any]]:
    """Plain rows for cash flow, budgets and transfers: one per split part when split."""
    out = []
    for row in rows:
        base = {
            "id": row.id,
            "account_id": row.account_id,
            "date": row.date,
            "currency": row.iso_currency_code,
            "merchant": row.merchant_tag,
        }
        parts = splits.get(row.id)
        if parts:
            for part in parts:
                out.append(
                    {
                        **base,
                        "amount": part.amount,
                        "category_primary": part.category_primary,
                        "category_detailed": part.category_detailed,
                    }
                )
        else:
            out.append(
                {
                    **base,
                    "amount": row.amount,
                    "category_primary": row.category_primary,
                    "category_detailed": row.category_detailed,
                }
            )
    return out


def anomaly_row(row: Transaction) -> dict[str, Any]:
    time_known = row.occurred_at is not None
    at = row.occurred_at or dt.datetime.combine(row.date, dt.time(), tzinfo=dt.UTC)
    return {
        "id": row.id,
        "amount": row.amount,
        "at": at,
        "time_known": time_known,
        "hour": row.local_hour,
        "merchant": row.merchant_tag,
        "category": row.category_detailed,
        "country": row.country_tag,
        "dismissed": row.anomaly_status == "dismissed",
    }
