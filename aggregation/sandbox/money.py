"""Decimal helpers. Money is Decimal inside the sandbox; it becomes a JSON number only on the
wire, because Plaid's schema types amounts as numbers."""

from __future__ import annotations

import random
from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")


def cents(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_EVEN)


def random_amount(rng: random.Random, low: int | str, high: int | str) -> Decimal:
    """A uniformly drawn amount in [low, high] dollars, to the cent."""
    low_cents, high_cents = int(Decimal(low) * 100), int(Decimal(high) * 100)
    if low_cents > high_cents:
        raise ValueError(f"amount range is empty: {low}..{high}")
    return Decimal(rng.randint(low_cents, high_cents)) / 100


def to_wire(value: Decimal | None) -> float | None:
    """Plaid's JSON number. A 2- to 6-place Decimal round-trips exactly through float's repr."""
    return None if value is None else float(value)
