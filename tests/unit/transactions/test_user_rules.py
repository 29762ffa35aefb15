"""transactions/user_rules.py: checking rule input, PATCH merging, ordering, and the plan of
what a rule changes in past transactions (preview/apply)."""

import datetime as dt
from decimal import Decimal

import pytest

from transactions import user_rules as ur

GROCERIES = "FOOD_AND_DRINK_GROCERIES"
STREAMING = "ENTERTAINMENT_TV_AND_MOVIES"


def txn(tid, amount, description, *, days_ago=0, **extra):
    return {
        "id": tid,
        "date": dt.date(2025, 6, 30) - dt.timedelta(days=days_ago),
        "amount": Decimal(amount),
        "description": description,
        "merchant_name": extra.pop("merchant_name", None),
        "account_id": extra.pop("account_id", "acc-1"),
        "category_primary": None,
        "category_detailed": extra.pop("category_detailed", None),
        "category_source": extra.pop("category_source", "none"),
        "category_rule_id": extra.pop("category_rule_id", None),
        "is_split": extra.pop("is_split", False),
        **extra,
    }


# -- check_rule -------------------------------------------------------------------------------


def test_check_rule_normalises_text_and_accounts():
    rule = ur.check_rule(
        {
            "category": GROCERIES,
            "description_contains": "  whole   FOODS ",
            "merchant_contains": "",
            "account_ids": ["a", "b", "a"],
            "amount_min": Decimal("0"),
        }
    )
    assert rule == {
        "category": GROCERIES,
        "description_contains": "whole FOODS",
        "merchant_contains": None,
        "amount_min": Decimal("0"),
        "amount_max": None,
        "account_ids": ("a", "b"),
        "direction": None,
    }


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"category": "NOT_A_CATEGORY", "direction": "out"}, "category"),
        ({"category": "FOOD_AND_DRINK", "direction": "out"}, "category"),  # primary only
        ({"category": None, "direction": "out"}, "category"),
        ({"category": GROCERIES}, "_schema"),  # no condition
        ({"category": GROCERIES, "description_contains": "   "}, "_schema"),
        ({"category": GROCERIES, "amount_min": Decimal("-1")}, "amount_min"),
        ({"category": GROCERIES, "amount_max": Decimal("-0.01")}, "amount_max"),
        (
            {"category": GROCERIES, "amount_min": Decimal("10"), "amount_max": Decimal("5")},
            "amount_min",
        ),
        ({"category": GROCERIES, "direction": "sideways"}, "direction"),
        ({"category": GROCERIES, "amount_min": 1.5}, "amount_min"),  # float: never money
        ({"category": GROCERIES, "description_contains": "x" * 201}, "description_contains"),
        ({"category": GROCERIES, "account_ids": "acc-1"}, "account_ids"),
        ({"category": GROCERIES, "account_ids": [f"a{i}" for i in range(21)]}, "account_ids"),
        ({"category": GROCERIES, "direction": "in", "user_id": "u2"}, "user_id"),
    ],
)
def test_check_rule_refuses_bad_input_naming_the_field(data, field):
    with pytest.raises(ur.RuleInputError) as err:
        ur.check_rule(data)
    assert err.value.field == field


def test_merge_patch_replaces_clears_and_rechecks():
    current = ur.check_rule(
        {"category": GROCERIES, "description_contains": "aldi", "direction": "out"}
    )
    merged = ur.merge_patch(current, {"direction": None, "amount_max": Decimal("200")})
    assert merged["direction"] is None and merged["amount_max"] == Decimal("200")
    assert merged["description_contains"] == "aldi" and merged["category"] == GROCERIES
    with pytest.raises(ur.RuleInputError) as err:  # clearing the last condition
        ur.merge_patch(current, {"description_contains": None, "direction": None})
    assert err.value.field == "_schema"
    with pytest.raises(ur.RuleInputError) as err:
        ur.merge_patch(current, {"category": None})
    assert err.value.field == "category"
    with pytest.raises(ur.RuleInputError) as err:  # min above the stored max
        ur.merge_patch({**current, "amount_max": Decimal("5")}, {"amount_min": Decimal("6")})
    assert err.value.field == "amount_min"


def test_new_order_must_be_a_permutation_of_the_users_rules():
    assert ur.new_order(["a", "b", "c"], ["c", "a", "b"]) == ["c", "a", "b"]
    for wanted in (["a", "b"], ["a", "b", "c", "d"], ["a", "a", "b"], "abc", [1, 2, 3]):
        with pytest.raises(ur.RuleInputError) as err:
            ur.new_order(["a", "b", "c"], wanted)
        assert err.value.field == "rule_ids"


# -- plan_rule --------------------------------------------------------------------------------


def rule(**conditions):
    definition = ur.check_rule({"category": GROCERIES, **conditions})
    return ur.engine_rule("rule-1", definition)


def test_plan_lists_changes_newest_first_with_from_and_to():
    history = [
        txn("t1", "-54.20", "WHOLEFDS MKT #10234 AUSTIN TX", days_ago=5),
        txn("t2", "-12.00", "WHOLEFDS MKT #10234", days_ago=1, category_detailed=STREAMING),
        txn("t3", "-9.99", "NETFLIX.COM", days_ago=2),
    ]
    plan = ur.plan_rule(rule(description_contains="wholefds"), history)
    assert [c["transaction_id"] for c in plan.changes] == ["t2", "t1"]
    first = plan.changes[0]
    assert (first["from_detailed"], first["to_detailed"], first["to_primary"]) == (
        STREAMING,
        GROCERIES,
        "FOOD_AND_DRINK",
    )
    assert first["amount"] == Decimal("-12.00") and first["description"].startswith("WHOLEFDS")
    assert plan.summary() == {
        "rule_id": "rule-1",
        "examined": 3,
        "matched": 2,
        "would_change": 2,
        "would_relabel": 0,
        "unchanged": 0,
        "skipped_manual": 0,
        "skipped_split": 0,
    }


def test_plan_conditions_amount_size_direction_account_and_merchant():
    history = [
        txn("small", "-4.00", "CORNER SHOP"),
        txn("mid", "-40.00", "CORNER SHOP"),
        txn("big", "-400.00", "CORNER SHOP"),
        txn("refund", "40.00", "CORNER SHOP"),
        txn("other-acc", "-40.00", "CORNER SHOP", account_id="acc-2"),
        txn("by-merchant", "-40.00", "POS 1234 XYZ", merchant_name="Corner Shop Ltd"),
    ]
    plan = ur.plan_rule(
        rule(
            merchant_contains="corner shop",
            amount_min=Decimal("10"),
            amount_max=Decimal("400"),
            direction="out",
            account_ids=["acc-1"],
        ),
        history,
    )
    assert sorted(c["transaction_id"] for c in plan.changes) == ["big", "by-merchant", "mid"]


def test_plan_skips_hand_set_and_split_unless_asked_and_is_idempotent_after_apply():
    history = [
        txn("hand", "-30.00", "ALDI 77", category_detailed=STREAMING, category_source="user"),
        txn("split", "-30.00", "ALDI 78", is_split=True),
        txn(
            "model-same", "-30.00", "ALDI 79", category_detailed=GROCERIES, category_source="model"
        ),
        txn("fresh", "-30.00", "ALDI 80"),
    ]
    r = rule(description_contains="aldi")
    plan = ur.plan_rule(r, history)
    assert [c["transaction_id"] for c in plan.changes] == ["fresh"]
    assert plan.relabels == ["model-same"]
    assert (plan.skipped_manual, plan.skipped_split) == (1, 1)
    assert sorted(plan.update_ids()) == ["fresh", "model-same"]

    forced = ur.plan_rule(r, history, include_manual=True)
    assert sorted(c["transaction_id"] for c in forced.changes) == ["fresh", "hand"]

    applied = [
        {
            **t,
            "category_detailed": GROCERIES,
            "category_source": "rule",
            "category_rule_id": "rule-1",
        }
        if t["id"] in plan.update_ids()
        else t
        for t in history
    ]
    again = ur.plan_rule(r, applied)
    assert again.update_ids() == [] and again.unchanged == 2


def test_a_hand_set_category_equal_to_the_rules_is_not_relabelled():
    hand = txn("h", "-5.00", "ALDI", category_detailed=GROCERIES, category_source="user")
    plan = ur.plan_rule(rule(description_contains="aldi"), [hand], include_manual=True)
    assert plan.update_ids() == [] and plan.unchanged == 1


def test_unsaved_rule_preview_has_no_id_and_counts_other_rules_results_as_relabels():
    other = txn(
        "o", "-5.00", "ALDI", category_detailed=GROCERIES, category_source="rule",
        category_rule_id=ur.PREVIEW_ID,
    )  # fmt: skip
    preview = ur.plan_rule(
        ur.engine_rule(ur.PREVIEW_ID, ur.check_rule({"category": GROCERIES, "direction": "out"})),
        [other],
        saved=False,
    )
    assert preview.summary()["rule_id"] is None and preview.relabels == ["o"]


def test_a_transaction_without_readable_text_never_matches():
    plan = ur.plan_rule(rule(direction="out"), [txn("blank", "-5.00", "")])
    assert (plan.examined, plan.matched) == (1, 0)


def test_page_walks_the_changes():
    history = [txn(f"t{i}", "-1.00", "ALDI", days_ago=i) for i in range(5)]
    plan = ur.plan_rule(rule(description_contains="aldi"), history)
    first = plan.page(0, 2)
    assert [c["transaction_id"] for c in first["changes"]] == ["t0", "t1"]
    assert first["next_offset"] == 2 and first["would_change"] == 5
    last = plan.page(4, 2)
    assert [c["transaction_id"] for c in last["changes"]] == ["t4"]
    assert last["next_offset"] is None
