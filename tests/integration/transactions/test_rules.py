"""Categorisation rules over the real transactions service: CRUD and order, encryption at rest,
scoping (another user's rule is NotFound, another user's account a 422), preview (stored and
unsaved, paged), retroactive apply (idempotent, hand-set categories kept unless asked), and
ingestion honouring the user's rules first."""

import pytest

from common.errors import Forbidden, NotFound, ValidationFailed

pytestmark = pytest.mark.integration

GROCERIES = "FOOD_AND_DRINK_GROCERIES"
COFFEE = "FOOD_AND_DRINK_COFFEE"
GIFTS = "GENERAL_MERCHANDISE_GIFTS_AND_NOVELTIES"


def errors_of(excinfo) -> dict:
    return excinfo.value.extra["errors"]


def by_amount(rpc, token) -> dict:
    return {t["amount"]: t for t in rpc.list_transactions(token, {"limit": 500})["items"]}


def by_description(rpc, token) -> dict:
    return {t["description"]: t for t in rpc.list_transactions(token, {"limit": 500})["items"]}


def test_crud_order_idempotency_and_encryption_at_rest(rpc, tokens, user, db):
    token = tokens(user)
    first = rpc.create_rule(
        token,
        {"category": GROCERIES, "description_contains": "Corner Deli", "direction": "out"},
        idempotency_key="rule-key-0001",
    )
    assert first["position"] == 0 and first["category_primary"] == "FOOD_AND_DRINK"
    assert first["description_contains"] == "Corner Deli" and first["amount_min"] is None
    again = rpc.create_rule(
        token, {"category": COFFEE, "direction": "in"}, idempotency_key="rule-key-0001"
    )
    assert again["id"] == first["id"] and again["category_detailed"] == GROCERIES
    second = rpc.create_rule(
        token,
        {"category": COFFEE, "merchant_contains": "bean bar", "amount_max": "20", "amount_min": 1},
    )
    assert second["position"] == 1
    assert (second["amount_min"], second["amount_max"]) == ("1.00", "20.00")

    raw = db("SELECT * FROM categorization_rules WHERE user_id = :u", u=user)
    dump = " ".join(str(v) for row in raw for v in dict(row).values()).lower()
    assert "corner deli" not in dump and "bean bar" not in dump
    assert all(r["text_conditions"].startswith("ne1.") for r in raw)

    assert rpc.get_rule(token, first["id"]) == first
    patched = rpc.update_rule(
        token, first["id"], {"direction": None, "amount_max": "300.5", "merchant_contains": "deli"}
    )
    assert patched["direction"] is None and patched["amount_max"] == "300.50"
    assert (
        patched["description_contains"] == "Corner Deli" and patched["merchant_contains"] == "deli"
    )

    reordered = rpc.reorder_rules(token, {"rule_ids": [second["id"], first["id"]]})["rules"]
    assert [(r["id"], r["position"]) for r in reordered] == [(second["id"], 0), (first["id"], 1)]
    assert [r["id"] for r in rpc.list_rules(token)["rules"]] == [second["id"], first["id"]]
    with pytest.raises(ValidationFailed):
        rpc.reorder_rules(token, {"rule_ids": [second["id"]]})

    assert rpc.delete_rule(token, first["id"]) == {"deleted": first["id"]}
    with pytest.raises(NotFound):
        rpc.get_rule(token, first["id"])
    assert [r["id"] for r in rpc.list_rules(token)["rules"]] == [second["id"]]


def test_another_users_rule_is_not_found_and_lists_are_per_user(rpc, tokens, user):
    mine = rpc.create_rule(tokens(user), {"category": GROCERIES, "description_contains": "aldi"})
    intruder = tokens(user + "-b")
    assert rpc.list_rules(intruder) == {"rules": []}
    for call in (
        lambda: rpc.get_rule(intruder, mine["id"]),
        lambda: rpc.update_rule(intruder, mine["id"], {"direction": "out"}),
        lambda: rpc.delete_rule(intruder, mine["id"]),
        lambda: rpc.preview_rule(intruder, mine["id"]),
        lambda: rpc.apply_rule(intruder, mine["id"]),
    ):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(ValidationFailed):  # someone else's rule id cannot be ordered either
        rpc.reorder_rules(intruder, {"rule_ids": [mine["id"]]})
    assert rpc.get_rule(tokens(user), mine["id"])["description_contains"] == "aldi"
    read_only = tokens(user, scopes=("transactions:read",))
    with pytest.raises(Forbidden):
        rpc.create_rule(read_only, {"category": GROCERIES, "direction": "out"})
    with pytest.raises(Forbidden):
        rpc.apply_rule(read_only, mine["id"])


def test_bad_rules_are_refused_naming_the_field(rpc, tokens, user, sync, txn):
    sync(user, [txn("own-1", "5.00", account="acc-mine")])
    sync(user + "-b", [txn("theirs-1", "5.00", account="acc-theirs")])
    token = tokens(user)
    base = {"category": GROCERIES, "description_contains": "aldi"}
    for bad, field in (
        ({**base, "category": "NOT_A_CATEGORY"}, "category"),
        ({**base, "category": "FOOD_AND_DRINK"}, "category"),  # a rule sets a detailed one
        ({**base, "amount_min": "50", "amount_max": "10"}, "amount_min"),
        ({**base, "amount_min": "-5"}, "amount_min"),
        ({**base, "amount_max": 12.5}, "amount_max"),  # a JSON float is never money
        ({**base, "colour": "blue"}, "colour"),
        ({**base, "user_id": user + "-b"}, "user_id"),
        ({**base, "account_ids": ["acc-theirs"]}, "account_ids"),
        ({**base, "direction": "sideways"}, "direction"),
        ({"category": GROCERIES}, "_schema"),
        ({"category": GROCERIES, "description_contains": "", "account_ids": []}, "_schema"),
    ):
        with pytest.raises(ValidationFailed) as err:
            rpc.create_rule(token, bad)
        assert field in errors_of(err), (bad, errors_of(err))
        with pytest.raises(ValidationFailed):
            rpc.preview_unsaved_rule(token, bad)
    ok = rpc.create_rule(token, {**base, "account_ids": ["acc-mine"]})
    assert ok["account_ids"] == ["acc-mine"]
    for patch, field in (
        ({"account_ids": ["acc-theirs"]}, "account_ids"),
        ({"category": None}, "category"),
        ({"description_contains": None, "account_ids": None}, "_schema"),
        ({"amount_min": "9", "amount_max": "1"}, "amount_min"),
    ):
        with pytest.raises(ValidationFailed) as err:
            rpc.update_rule(token, ok["id"], patch)
        assert field in errors_of(err), (patch, errors_of(err))
    with pytest.raises(ValidationFailed):
        rpc.preview_rule(token, ok["id"], {"limit": 0})
    with pytest.raises(ValidationFailed):
        rpc.create_rule(token, base, idempotency_key="short")
    assert rpc.get_rule(token, ok["id"]) == ok  # nothing changed by the refused PATCHes


def test_preview_then_apply_retroactively_and_idempotently(
    rpc, tokens, user, sync, txn, events, day
):
    token = tokens(user)
    sync(
        user,
        [
            txn("d-1", "12.40", name="CORNER DELI 0042 AUSTIN TX", days_ago=3),
            txn("d-2", "8.10", name="CORNER DELI 0042 AUSTIN TX", days_ago=1),
            txn("d-3", "310.00", name="CORNER DELI CATERING", days_ago=2),
            txn("d-4", "-25.00", name="CORNER DELI REFUND", days_ago=2),
            txn("other", "9.99", name="NETFLIX.COM 866-579", days_ago=1),
        ],
    )
    before = by_amount(rpc, token)
    hand, small = before["-12.40"], before["-8.10"]  # two visits, same description
    rpc.update_transaction(token, hand["id"], {"category": GIFTS})  # the user's own choice
    rule = rpc.create_rule(
        token,
        {
            "category": GROCERIES,
            "description_contains": "corner deli",
            "direction": "out",
            "amount_max": "100",
        },
    )

    preview = rpc.preview_rule(token, rule["id"], {"limit": 1})
    assert preview["rule_id"] == rule["id"] and preview["matched"] == 2
    assert preview["skipped_manual"] == 1 and preview["examined"] >= 2
    assert preview["would_change"] + preview["would_relabel"] == 1
    unsaved = rpc.preview_unsaved_rule(
        token,
        {"category": GROCERIES, "description_contains": "corner deli", "direction": "out"},
        {"include_manual": True, "limit": 500},
    )
    assert unsaved["rule_id"] is None and unsaved["matched"] == 3  # d-3 is over 100 too
    changed_ids = {c["transaction_id"] for c in unsaved["changes"]}
    assert hand["id"] in changed_ids
    change = next(c for c in unsaved["changes"] if c["transaction_id"] == hand["id"])
    assert (change["from_detailed"], change["from_source"], change["to_detailed"]) == (
        GIFTS,
        "user",
        GROCERIES,
    )
    assert change["description"] == "CORNER DELI 0042 AUSTIN TX" and change["amount"] == "-12.40"
    assert rpc.get_transaction(token, hand["id"])["category_detailed"] == GIFTS  # preview only

    applied = rpc.apply_rule(token, rule["id"])
    assert applied["changed"] + applied["relabelled"] == 1 and applied["skipped_manual"] == 1
    after = by_amount(rpc, token)
    assert (
        after["-8.10"]["category_detailed"],
        after["-8.10"]["category_source"],
        after["-8.10"]["category_rule_id"],
    ) == (GROCERIES, "rule", rule["id"])
    assert after["-12.40"]["category_detailed"] == GIFTS  # set by hand: kept
    assert after["-310.00"]["category_source"] != "rule"  # over amount_max
    assert after["25.00"]["category_source"] != "rule"  # money in
    assert after["-9.99"]["category_source"] != "rule"
    (event,) = [e for e in events(user, "transactions_categorized") if e.get("rule_id")]
    assert event["transaction_ids"] == [small["id"]]

    again = rpc.apply_rule(token, rule["id"])
    assert (again["changed"], again["relabelled"]) == (0, 0) and again["unchanged"] == 1

    forced = rpc.apply_rule(token, rule["id"], {"include_manual": True})
    assert forced["changed"] == 1
    got = rpc.get_transaction(token, hand["id"])
    assert (got["category_detailed"], got["category_source"]) == (GROCERIES, "rule")

    rpc.delete_rule(token, rule["id"])  # categorised transactions keep their category
    kept = rpc.get_transaction(token, small["id"])
    assert kept["category_detailed"] == GROCERIES and kept["category_rule_id"] is None


def test_new_transactions_follow_the_users_rules_first_in_order(rpc, tokens, user, sync, txn, day):
    token = tokens(user)
    coffee = rpc.create_rule(token, {"category": COFFEE, "merchant_contains": "bean bar"})
    gifts = rpc.create_rule(
        token, {"category": GIFTS, "description_contains": "bean", "amount_min": "50"}
    )
    sync(
        user,
        [
            txn("b-1", "4.20", name="SQ *BEAN BAR 221"),
            txn("b-2", "64.00", name="SQ *BEAN BAR GIFT CARD"),
            txn("b-3", "64.00", name="BEANIE WORLD"),
            txn("n-1", "9.99", name="NETFLIX.COM 866-579"),
        ],
        item_id="item-rules",
    )
    got = by_description(rpc, token)
    assert got["SQ *BEAN BAR 221"]["category_rule_id"] == coffee["id"]
    assert got["SQ *BEAN BAR GIFT CARD"]["category_rule_id"] == coffee["id"]  # first rule wins
    assert (got["BEANIE WORLD"]["category_detailed"], got["BEANIE WORLD"]["category_rule_id"]) == (
        GIFTS,
        gifts["id"],
    )
    assert got["NETFLIX.COM 866-579"]["category_source"] != "rule"
    assert got["SQ *BEAN BAR 221"]["category_source"] == "rule"

    rpc.reorder_rules(token, {"rule_ids": [gifts["id"], coffee["id"]]})
    sync(user, [txn("b-4", "70.00", name="SQ *BEAN BAR 221")], item_id="item-rules")
    manual = rpc.create_manual_transaction(
        token,
        {"account_id": "cash", "amount": "-3.50", "date": day(0), "description": "Bean Bar"},
    )
    later = [
        t for t in rpc.list_transactions(token, {"limit": 500})["items"] if t["amount"] == "-70.00"
    ]
    assert [t["category_rule_id"] for t in later] == [gifts["id"]]  # the new order applies
    assert (manual["category_detailed"], manual["category_source"]) == (COFFEE, "rule")
    assert manual["category_rule_id"] == coffee["id"]
    # a hand-set category on a manual transaction is not overridden by a rule
    chosen = rpc.create_manual_transaction(
        token,
        {
            "account_id": "cash",
            "amount": "-3.50",
            "date": day(0),
            "description": "Bean Bar",
            "category": GROCERIES,
        },
    )
    assert (chosen["category_detailed"], chosen["category_source"]) == (GROCERIES, "user")
