from decimal import Decimal

import pytest

from transactions.categorizer.errors import InvalidRule
from transactions.categorizer.rules import (
    Rule,
    apply_rule,
    first_matching_rule,
    preview_rule,
    rule_from_dict,
    rule_matches,
    rule_to_dict,
    rule_view,
)

TXNS = [
    {
        "id": "t1",
        "description": "POS DEBIT STARBUCKS #12 SEATTLE WA",
        "amount": "-4.50",
        "account_id": "chk",
        "category_detailed": "FOOD_AND_DRINK_COFFEE",
    },
    {
        "id": "t2",
        "description": "STARBUCKS CARD RELOAD 800-782-7282 WA",
        "amount": "-50.00",
        "account_id": "chk",
        "category_detailed": "FOOD_AND_DRINK_COFFEE",
    },
    {
        "id": "t3",
        "description": "ACH CREDIT ACME CORP PAYROLL PPD ID: 99",
        "amount": "2500.00",
        "account_id": "chk",
        "category_detailed": "INCOME_SALARY",
    },
    {
        "id": "t4",
        "description": "VENMO PAYMENT 1023 JANE DOE",
        "amount": "-120.00",
        "account_id": "card",
        "category_detailed": None,
    },
    {
        "id": "t5",
        "description": "VENMO CASHOUT",
        "amount": "120.00",
        "account_id": "chk",
        "category_detailed": "TRANSFER_IN_OTHER_TRANSFER_IN",
    },
]


def view(i):
    return rule_view(TXNS[i])


def test_description_contains_is_case_and_space_insensitive():
    rule = Rule(
        id="r", category_detailed="FOOD_AND_DRINK_COFFEE", description_contains="card  RELOAD"
    )
    assert [rule_matches(rule, view(i)) for i in range(5)] == [False, True, False, False, False]


def test_merchant_contains_uses_merchant_name_when_given():
    rule = Rule(id="r", category_detailed="FOOD_AND_DRINK_COFFEE", merchant_contains="star coffee")
    txn = dict(TXNS[0], merchant_name="Star Coffee Co")
    assert rule_matches(rule, rule_view(txn))
    assert not rule_matches(rule, view(0))


def test_amount_range_is_on_size_inclusive():
    rule = Rule(
        id="r",
        category_detailed="FOOD_AND_DRINK_COFFEE",
        amount_min=Decimal("4.50"),
        amount_max=Decimal("50.00"),
    )
    assert [rule_matches(rule, view(i)) for i in range(5)] == [True, True, False, False, False]


def test_direction_and_account():
    out_venmo = Rule(
        id="r",
        category_detailed="TRANSFER_OUT_OTHER_TRANSFER_OUT",
        description_contains="venmo",
        direction="out",
    )
    assert [rule_matches(out_venmo, view(i)) for i in range(5)] == [
        False,
        False,
        False,
        True,
        False,
    ]
    in_chk = Rule(id="r2", category_detailed="INCOME_OTHER", direction="in", account_ids=("chk",))
    assert [rule_matches(in_chk, view(i)) for i in range(5)] == [False, False, True, False, True]


def test_first_matching_rule_wins_in_order():
    broad = Rule(
        id="broad",
        category_detailed="FOOD_AND_DRINK_OTHER_FOOD_AND_DRINK",
        description_contains="starbucks",
    )
    narrow = Rule(
        id="narrow",
        category_detailed="FOOD_AND_DRINK_COFFEE",
        description_contains="starbucks",
        amount_max=Decimal("10"),
    )
    assert first_matching_rule([narrow, broad], view(0)).id == "narrow"
    assert first_matching_rule([broad, narrow], view(0)).id == "broad"
    assert first_matching_rule([narrow], view(2)) is None


def test_preview_lists_changes_without_changing_anything():
    rule = {
        "id": "venmo",
        "category_detailed": "TRANSFER_OUT_OTHER_TRANSFER_OUT",
        "description_contains": "venmo",
    }
    before = [dict(t) for t in TXNS]
    preview = preview_rule(rule, TXNS)
    assert before == TXNS
    assert preview["examined"] == 5 and preview["matched"] == 2 and preview["unchanged"] == 0
    assert [c["transaction_id"] for c in preview["changes"]] == ["t4", "t5"]
    assert preview["changes"][1] == {
        "transaction_id": "t5",
        "from_detailed": "TRANSFER_IN_OTHER_TRANSFER_IN",
        "to_detailed": "TRANSFER_OUT_OTHER_TRANSFER_OUT",
        "to_primary": "TRANSFER_OUT",
    }


def test_preview_counts_already_correct_as_unchanged():
    rule = Rule(id="r", category_detailed="FOOD_AND_DRINK_COFFEE", description_contains="starbucks")
    preview = preview_rule(rule, TXNS)
    assert (preview["matched"], preview["unchanged"], preview["changes"]) == (2, 2, [])


def test_apply_to_past_transactions_returns_new_dicts():
    rule = Rule(
        id="r",
        category_detailed="TRANSFER_OUT_OTHER_TRANSFER_OUT",
        description_contains="venmo",
        direction="out",
    )
    updated = apply_rule(rule, TXNS)
    assert updated[3]["category_detailed"] == "TRANSFER_OUT_OTHER_TRANSFER_OUT"
    assert updated[3]["category_source"] == "rule" and updated[3]["rule_id"] == "r"
    assert updated[4] == TXNS[4]
    assert TXNS[3]["category_detailed"] is None


def test_round_trip_through_plain_dict():
    rule = Rule(
        id="r",
        category_detailed="TRAVEL_FLIGHTS",
        description_contains="air",
        amount_min=Decimal("100.00"),
        account_ids=("a1",),
        direction="out",
    )
    data = rule_to_dict(rule)
    assert data["amount_min"] == "100.00"
    assert rule_from_dict(data) == rule


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {
                "id": "r",
                "category_detailed": "FOOD_AND_DRINK_RESTAURANTS",
                "description_contains": "x",
            },
            "unknown detailed category",
        ),
        ({"id": "r", "category_detailed": "TRAVEL_FLIGHTS"}, "at least one condition"),
        ({"id": "", "category_detailed": "TRAVEL_FLIGHTS", "description_contains": "x"}, "id"),
        (
            {
                "id": "r",
                "category_detailed": "TRAVEL_FLIGHTS",
                "amount_min": "50",
                "amount_max": "10",
            },
            "exceeds",
        ),
        ({"id": "r", "category_detailed": "TRAVEL_FLIGHTS", "amount_min": "abc"}, "not a number"),
        ({"id": "r", "category_detailed": "TRAVEL_FLIGHTS", "amount_min": 1.5}, "Decimal"),
        ({"id": "r", "category_detailed": "TRAVEL_FLIGHTS", "amount_max": "-5"}, "non-negative"),
        ({"id": "r", "category_detailed": "TRAVEL_FLIGHTS", "direction": "sideways"}, "direction"),
        (
            {"id": "r", "category_detailed": "TRAVEL_FLIGHTS", "colour": "red"},
            "unknown rule fields",
        ),
        (
            {"id": "r", "category_detailed": "TRAVEL_FLIGHTS", "description_contains": "x" * 201},
            "characters",
        ),
    ],
)
def test_invalid_rules_are_refused_with_a_clear_message(data, message):
    with pytest.raises(InvalidRule, match=message):
        rule_from_dict(data)
