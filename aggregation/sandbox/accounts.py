"""The accounts every sandbox Item holds, and how their balances follow from transactions."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .ids import opaque_id
from .institutions import Institution


@dataclass(frozen=True)
class AccountSpec:
    account_id: str
    role: str  # checking | savings | credit | loan | brokerage | ira
    type: str  # Plaid AccountType
    subtype: str  # Plaid AccountSubtype
    name: str
    official_name: str
    mask: str
    limit: Decimal | None = None
    apy: Decimal | None = None

    @property
    def owes(self) -> bool:
        """Credit and loan balances are amounts owed: purchases raise them, payments lower them."""
        return self.type in {"credit", "loan"}

    @property
    def is_investment(self) -> bool:
        return self.type == "investment"


_LOAN = {
    "mortgage": ("mortgage", "Home Mortgage", "30 Year Fixed Rate Mortgage"),
    "auto": ("auto", "Auto Loan", "Platinum Auto Loan"),
    "student": ("student", "Student Loan", "Graduate Student Loan Refinance"),
}


def build_accounts(item_key: str, institution: Institution, masks: list[str]) -> list[AccountSpec]:
    """Checking, savings, a credit card, a loan, a brokerage account and an IRA."""
    if len(masks) != 6:
        raise ValueError("six account masks are required")
    loan_subtype, loan_name, loan_official = _LOAN[institution.loan_kind]
    ira_name = "Roth IRA" if institution.ira_subtype == "roth" else "Traditional IRA"
    short = institution.name.split()[-2] if len(institution.name.split()) > 2 else "Tartan"
    rows = [
        (
            "checking",
            "depository",
            "checking",
            "Plaid Checking",
            f"{short} Everyday Checking",
            None,
            None,
        ),
        (
            "savings",
            "depository",
            "savings",
            "Plaid Saving",
            f"{short} High Yield Savings",
            None,
            Decimal("3.75"),
        ),
        (
            "credit",
            "credit",
            "credit card",
            "Plaid Credit Card",
            f"{short} Cash Rewards Visa",
            Decimal("12000"),
            None,
        ),
        ("loan", "loan", loan_subtype, loan_name, loan_official, None, None),
        (
            "brokerage",
            "investment",
            "brokerage",
            "Plaid Brokerage",
            f"{short} Individual Brokerage",
            None,
            None,
        ),
        ("ira", "investment", institution.ira_subtype, ira_name, f"{short} {ira_name}", None, None),
    ]
    return [
        AccountSpec(
            account_id=opaque_id(item_key, "account", role),
            role=role,
            type=acc_type,
            subtype=subtype,
            name=name,
            official_name=official,
            mask=mask,
            limit=limit,
            apy=apy,
        )
        for (role, acc_type, subtype, name, official, limit, apy), mask in zip(
            rows, masks, strict=True
        )
    ]
