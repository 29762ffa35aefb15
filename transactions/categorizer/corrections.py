"""Per-user corrections: once a user re-categorises a merchant, their later transactions follow.

The memory is plain data, ``{user_id: {merchant_key: detailed_category}}``; functions return a
new memory instead of mutating, so the service can persist exactly what changed. A correction
belongs to one user only: another user's transactions from the same merchant are untouched.
Corrections also become extra labelled rows for the next training run
(``corrections_as_training_rows``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from transactions.categorizer.errors import InvalidTransaction
from transactions.categorizer.features import parse_amount
from transactions.categorizer.normalize import merchant_key
from transactions.categorizer.taxonomy import validate_detailed

Memory = dict[str, dict[str, str]]


def _user(user_id: object) -> str:
    if user_id is None or (isinstance(user_id, str) and not user_id.strip()):
        raise InvalidTransaction("user_id is required for a correction")
    return str(user_id)


def record_correction(
    memory: Mapping[str, Mapping[str, str]],
    user_id: object,
    description: str,
    category_detailed: str,
) -> Memory:
    """Memory with the user's merchant (derived from ``description``) mapped to the category."""
    validate_detailed(category_detailed)
    user = _user(user_id)
    key = merchant_key(description)
    updated: Memory = {u: dict(m) for u, m in memory.items()}
    updated.setdefault(user, {})[key] = category_detailed
    return updated


def forget_correction(
    memory: Mapping[str, Mapping[str, str]], user_id: object, description: str
) -> Memory:
    user = _user(user_id)
    key = merchant_key(description)
    updated: Memory = {u: dict(m) for u, m in memory.items()}
    updated.get(user, {}).pop(key, None)
    return updated


def lookup_correction(
    memory: Mapping[str, Mapping[str, str]], user_id: object, key: str
) -> str | None:
    """The user's category for ``key`` (a merchant key), or None. No user -> no correction."""
    if user_id is None:
        return None
    return memory.get(str(user_id), {}).get(key)


def corrections_as_training_rows(
    corrected: Iterable[Mapping[str, Any]],
) -> list[dict[str, str]]:
    """Validate corrected transactions into training rows (description, amount, channel, label).

    Each item needs ``description``, ``amount`` and ``category_detailed``; ``payment_channel``
    is optional. Raises InvalidTransaction naming the item on bad input.
    """
    rows = []
    for index, item in enumerate(corrected, start=1):
        try:
            description = item["description"]
            merchant_key(description)
            amount = parse_amount(item["amount"])
            category = validate_detailed(item["category_detailed"])
        except KeyError as exc:
            raise InvalidTransaction(f"correction {index}: missing field {exc}") from None
        except ValueError as exc:
            raise InvalidTransaction(f"correction {index}: {exc}") from None
        rows.append(
            {
                "description": description,
                "amount": str(amount),
                "payment_channel": item.get("payment_channel") or "other",
                "category_detailed": category,
                "merchant": merchant_key(description),
            }
        )
    return rows
