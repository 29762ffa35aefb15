"""Plaid personal finance categories v2 (18 primary, 123 detailed), loaded from shipped data.

Source of the list: Plaid's ``pfc-taxonomy-all.csv`` as summarised in
/work/shared/reference/finance.md section 4.1. Each detailed name is ``<PRIMARY>_<suffix>``.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from transactions.categorizer.errors import UnknownCategory

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
TAXONOMY_PATH = DATA_DIR / "pfc_taxonomy_v2.csv"
TAXONOMY_VERSION = "v2"


@lru_cache(maxsize=1)
def _load() -> tuple[tuple[str, str], ...]:
    with TAXONOMY_PATH.open(newline="", encoding="utf-8") as handle:
        rows = tuple((row["primary"], row["detailed"]) for row in csv.DictReader(handle))
    for primary, detailed in rows:
        if not detailed.startswith(primary + "_") and detailed != "OTHER_OTHER":
            raise ValueError(f"taxonomy row {detailed!r} does not start with {primary!r}")
    return rows


def primary_categories() -> tuple[str, ...]:
    """The 18 primary categories in taxonomy order."""
    return tuple(dict.fromkeys(primary for primary, _ in _load()))


def detailed_categories() -> tuple[str, ...]:
    """The 123 detailed categories in taxonomy order."""
    return tuple(detailed for _, detailed in _load())


@lru_cache(maxsize=1)
def _primary_of() -> dict[str, str]:
    return {detailed: primary for primary, detailed in _load()}


def primary_of(detailed: str) -> str:
    """The primary category of a detailed category; UnknownCategory if it is not in v2."""
    try:
        return _primary_of()[detailed]
    except KeyError:
        raise UnknownCategory(f"unknown detailed category {detailed!r} (not in PFC v2)") from None


def is_detailed(name: str) -> bool:
    return name in _primary_of()


def validate_detailed(name: object) -> str:
    """Return ``name`` if it is a v2 detailed category, else raise UnknownCategory."""
    if not isinstance(name, str) or not is_detailed(name):
        raise UnknownCategory(f"unknown detailed category {name!r} (not in PFC v2)")
    return name
