"""The generated household: determinism, realism of the raw strings, both legs of internal
money movements, balance consistency and the size knob."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest

from aggregation.sandbox import bank_text
from aggregation.sandbox.accounts import build_accounts
from aggregation.sandbox.household import build_household
from aggregation.sandbox.institutions import INSTITUTIONS
from aggregation.sandbox.timeline import transactions_at

ANCHOR = date(2025, 6, 30)
MASKS = ["1111", "2222", "3333", "4444", "5555", "6666"]


def household(institution_id="ins_109508", key="unit", target=None, days=730):
    institution = INSTITUTIONS[institution_id]
    accounts = build_accounts(key, institution, MASKS)
    ledger = build_household(key, institution, accounts, ANCHOR, days, 365, target)
    return accounts, ledger


@pytest.fixture(scope="module")
def platypus():
    return household()


def test_same_key_same_ledger_and_different_key_different_ledger():
    _, a = household(key="same")
    _, b = household(key="same")
    _, c = household(key="different")
    assert [(e.name, e.amount, e.post_date) for e in a.entries] == [
        (e.name, e.amount, e.post_date) for e in b.entries
    ]
    assert [(e.name, e.amount) for e in a.entries[:50]] != [
        (e.name, e.amount) for e in c.entries[:50]
    ]


def test_two_years_of_history_with_realistic_volume(platypus):
    accounts, ledger = platypus
    visible = transactions_at(ledger.entries, "unit", ANCHOR)
    assert 1500 <= len(visible) <= 4000
    assert min(v["date"] for v in visible.values()) <= ANCHOR - timedelta(days=720)


def test_raw_strings_look_like_bank_statements(platypus):
    _, ledger = platypus
    names = [e.name for e in ledger.entries]
    assert any(re.search(r"XXXX\d{4}", n) for n in names)  # card masks
    assert any(re.search(r"\b\d{2}/\d{2}\b", n) for n in names)  # dates inside the text
    assert any(re.search(r"#\d{3,4}", n) for n in names)  # store numbers
    assert any("PPD ID:" in n for n in names)  # ACH ids
    assert any(re.search(r"SAN FRANCISCO\s*CA", n) for n in names)  # city + state
    assert any(n != n.upper() for n in names)  # some mixed case (card network lines)
    _, gingham = household("ins_109509")
    assert any(n.startswith("Debit Card Purchase XXXX") for n in (e.name for e in gingham.entries))
    _, tattersall = household("ins_109510")
    assert max(len(e.name) for e in tattersall.entries if e.name.startswith("DBT CRD")) <= 40


def test_required_kinds_of_money_movement_exist(platypus):
    _, ledger = platypus
    names = Counter()
    for e in ledger.entries:
        for label, pattern in {
            "salary": "PAYROLL",
            "mortgage": "LOAN PMT",
            "utility": "PGANDE",
            "subscription": "NETFLIX|Spotify|APPLE.COM|NYTimes|PLANET|GOOGLE|ADOBE",
            "card_payment": "AUTOMATIC PAYMENT",
            "fee": "FEE",
            "foreign": " GBP| EUR| MXN",
            "refund": "RETURN",
            "atm": "ATM",
            "interest": "INTEREST PAYMENT",
        }.items():
            if re.search(pattern, e.name):
                names[label] += 1
    assert all(
        names[k] > 0
        for k in (
            "salary",
            "mortgage",
            "utility",
            "subscription",
            "card_payment",
            "fee",
            "foreign",
            "atm",
            "interest",
        )
    )
    assert names["salary"] >= 46  # twice a month for two years


def test_transfers_and_card_payments_have_both_legs(platypus):
    accounts, ledger = platypus
    by_role = {a.account_id: a.role for a in accounts}
    by_day = {}
    for e in ledger.entries:
        by_day.setdefault((e.post_date, abs(e.amount)), []).append(e)
    transfers = [e for e in ledger.entries if "TRANSFER TO" in e.name]
    assert transfers
    for out_leg in transfers:
        legs = by_day[(out_leg.post_date, out_leg.amount)]
        assert any(
            leg.amount == -out_leg.amount and leg.account_id != out_leg.account_id for leg in legs
        )
    card_legs = [e for e in ledger.entries if e.name == "AUTOMATIC PAYMENT - THANK YOU"]
    for card_leg in card_legs:
        assert by_role[card_leg.account_id] == "credit"
        legs = by_day[(card_leg.post_date, -card_leg.amount)]
        assert any(
            by_role[leg.account_id] == "checking" and leg.amount == -card_leg.amount for leg in legs
        )


def test_anomalies_are_present(platypus):
    _, ledger = platypus
    history = [e for e in ledger.entries if e.post_date and e.post_date <= ANCHOR]
    assert max(e.amount for e in history) >= Decimal("4000")  # very large purchase
    tiny = [e for e in history if Decimal(0) < e.amount < Decimal(2) and e.merchant_name is None]
    assert len(tiny) >= 3  # card testing
    seen = Counter((e.account_id, e.post_date, e.amount, e.name) for e in history)
    assert any(count >= 2 for count in seen.values())  # duplicate charge


def test_checking_never_goes_below_the_floor(platypus):
    accounts, ledger = platypus
    checking = next(a for a in accounts if a.role == "checking")
    running = ledger.opening["checking"]
    for e in sorted(
        (e for e in ledger.entries if e.account_id == checking.account_id and e.post_date),
        key=lambda e: e.post_date,
    ):
        running -= e.amount
        assert running > 0


def test_size_knob_reaches_about_ten_thousand():
    _, ledger = household(key="bulk", target=10_000)
    visible = transactions_at(ledger.entries, "bulk", ANCHOR)
    assert 9000 <= len(visible) <= 11500


@pytest.mark.parametrize("days", [0, 731])
def test_history_days_out_of_range(days):
    with pytest.raises(ValueError, match="history_days"):
        household(days=days)


def test_unknown_bank_style_is_rejected():
    with pytest.raises(ValueError, match="unknown bank text style"):
        bank_text.finish("fancy", "X")


def test_account_masks_must_be_six():
    with pytest.raises(ValueError, match="six account masks"):
        build_accounts("k", INSTITUTIONS["ins_109508"], ["1"])
