"""The sandbox's institutions: Plaid's own fictional sandbox banks, each with a home town, a
bank-statement writing style and the set of accounts every Item there holds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HomeTown:
    city: str
    region: str
    postal_code: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Institution:
    institution_id: str
    name: str
    url: str
    primary_color: str
    routing_numbers: tuple[str, ...]
    home: HomeTown
    text_style: str  # see bank_text.STYLES
    loan_kind: str  # "mortgage" | "auto" | "student"
    ira_subtype: str  # "ira" | "roth"
    products: tuple[str, ...] = (
        "assets",
        "auth",
        "balance",
        "identity",
        "investments",
        "liabilities",
        "transactions",
    )


INSTITUTIONS: dict[str, Institution] = {
    inst.institution_id: inst
    for inst in (
        Institution(
            "ins_109508",
            "First Platypus Bank",
            "https://www.plaid.com",
            "#1f1f1f",
            ("011401533", "021000021"),
            HomeTown("San Francisco", "CA", "94103", 37.7749, -122.4194),
            "pos_upper",
            "mortgage",
            "roth",
        ),
        Institution(
            "ins_109509",
            "First Gingham Credit Union",
            "https://www.plaid.com",
            "#2a6e3f",
            ("271071321",),
            HomeTown("Chicago", "IL", "60614", 41.9214, -87.6513),
            "debit_mixed",
            "auto",
            "ira",
        ),
        Institution(
            "ins_109510",
            "Tattersall Federal Credit Union",
            "https://www.plaid.com",
            "#6b2b1a",
            ("314074269",),
            HomeTown("Austin", "TX", "78704", 30.2453, -97.7686),
            "truncated_upper",
            "student",
            "roth",
        ),
        Institution(
            "ins_109511",
            "Tartan Bank",
            "https://www.plaid.com",
            "#8c1c13",
            ("026009593",),
            HomeTown("New York", "NY", "10011", 40.7402, -73.9996),
            "checkcard",
            "mortgage",
            "ira",
        ),
    )
}

DEFAULT_INSTITUTION_ID = "ins_109508"


def find_institution(institution_id: str) -> Institution | None:
    return INSTITUTIONS.get(institution_id)
