"""Category suggestion for one transaction that is not stored (yet): the same layers as
ingestion (the user's rules, their corrections, the model, nothing below its confidence gate)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from transactions.rule_store import engine_rules
from transactions.store import FieldKeys, load_corrections


def suggest(
    keys: FieldKeys, session: Session, categorizer, user_id: str, txn: dict[str, Any]
) -> dict[str, Any]:
    result = categorizer.categorize_many(
        [{**txn, "user_id": user_id}],
        corrections=load_corrections(keys, session, user_id),
        rules=engine_rules(keys, session, user_id),
    )[0]
    return {
        "category_primary": result["category_primary"],
        "category_detailed": result["category_detailed"],
        "confidence": result["confidence"],
        "source": result["source"],
        "rule_id": result.get("rule_id"),
        "suggestions": result.get("suggestions") or [],
        "model_version": result.get("model_version"),
    }
