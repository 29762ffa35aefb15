"""Split one transaction into categorised parts that sum exactly to the original amount."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

MAX_PARTS = 20


class SplitError(ValueError):
    pass


def check_split(total: Decimal, parts: Sequence[Mapping[str, Any]]) -> None:
    """Raise SplitError unless 2..20 parts, each non-zero with the original's sign, sum to total."""
    if not 2 <= len(parts) <= MAX_PARTS:
        raise SplitError(f"a split needs 2 to {MAX_PARTS} parts, got {len(parts)}")
    if total == 0:
        raise SplitError("a zero-amount transaction cannot be split")
    for index, part in enumerate(parts, start=1):
        amount = part["amount"]
        if amount == 0 or (amount > 0) != (total > 0):
            raise SplitError(
                f"part {index}: amount {amount} must be non-zero with the sign of {total}"
            )
    found = sum((p["amount"] for p in parts), Decimal(0))
    if found != total:
        raise SplitError(f"the parts sum to {found}, not to the transaction amount {total}")
