"""User-facing RPCs: manual CRUD, filters and cursor pagination, splits, BOLA, export."""

import csv
import io

import pytest

from common.errors import NotFound, ValidationFailed

pytestmark = pytest.mark.integration


def manual(rpc, token, day, amount, description, **extra):
    payload = {
        "account_id": "cash",
        "amount": amount,
        "date": day,
        "description": description,
        **extra,
    }
    return rpc.create_manual_transaction(token, payload)


def test_manual_create_edit_delete_and_idempotency_key(rpc, tokens, user, day, events):
    token = tokens(user)
    created = rpc.create_manual_transaction(
        token,
        {
            "account_id": "cash",
            "amount": "-23.40",
            "date": day(1),
            "description": "Farmers market",
            "category": "FOOD_AND_DRINK_GROCERIES",
            "notes": "apples",
        },
        idempotency_key="key-0000001",
    )
    again = rpc.create_manual_transaction(
        token,
        {"account_id": "cash", "amount": "-23.40", "date": day(1), "description": "Farmers market"},
        idempotency_key="key-0000001",
    )
    assert again["id"] == created["id"]
    assert created["source"] == "manual" and created["amount"] == "-23.40"
    assert created["category_detailed"] == "FOOD_AND_DRINK_GROCERIES"
    edited = rpc.update_manual_transaction(
        token, created["id"], {"amount": "-25.00", "description": "Farmers market stall"}
    )
    assert edited["amount"] == "-25.00" and edited["description"] == "Farmers market stall"
    assert edited["notes"] == "apples"
    with pytest.raises(ValidationFailed):
        rpc.create_manual_transaction(
            token, {"account_id": "cash", "amount": 1.5, "date": day(), "description": "x"}
        )
    with pytest.raises(ValidationFailed):
        rpc.update_manual_transaction(token, created["id"], {"user_id": "someone-else"})
    assert rpc.delete_manual_transaction(token, created["id"]) == {"deleted": created["id"]}
    with pytest.raises(NotFound):
        rpc.get_transaction(token, created["id"])
    assert len(events(user, "transactions_categorized")) == 1


def test_provider_transactions_cannot_be_edited_as_manual(rpc, tokens, user, sync, txn, db):
    sync(user, [txn("prov-1", "5.00")])
    (row,) = db("SELECT id FROM transactions WHERE user_id = :u", u=user)
    with pytest.raises(NotFound):
        rpc.delete_manual_transaction(tokens(user), row["id"])


def test_filters_and_cursor_pagination_walk_every_row_once(rpc, tokens, user, day):
    token = tokens(user)
    made = [
        manual(rpc, token, day(i % 4), f"-{10 + i}.00", f"Shop {i}", category="GENERAL_MERCHANDISE")
        for i in range(7)
    ]
    made.append(manual(rpc, token, day(2), "1500.00", "Salary", category="INCOME_SALARY"))
    seen, cursor, pages = [], None, 0
    while True:
        args = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = rpc.list_transactions(token, args)
        seen += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == 8 and len({i["id"] for i in seen}) == 8
    assert [i["date"] for i in seen] == sorted((i["date"] for i in seen), reverse=True)

    by_amount = rpc.list_transactions(token, {"sort": "amount_asc", "limit": 2})
    assert [i["amount"] for i in by_amount["items"]] == ["-16.00", "-15.00"]
    nxt = rpc.list_transactions(
        token, {"sort": "amount_asc", "limit": 2, "cursor": by_amount["next_cursor"]}
    )
    assert [i["amount"] for i in nxt["items"]] == ["-14.00", "-13.00"]

    income = rpc.list_transactions(token, {"category": "INCOME"})["items"]
    assert [i["description"] for i in income] == ["Salary"]
    ranged = rpc.list_transactions(token, {"min_amount": "-12.00", "max_amount": "0"})["items"]
    assert sorted(i["amount"] for i in ranged) == ["-10.00", "-11.00", "-12.00"]
    dated = rpc.list_transactions(token, {"start": day(0), "end": day(0)})["items"]
    assert {i["date"] for i in dated} == {day(0)}
    assert [i["description"] for i in rpc.list_transactions(token, {"q": "shop 3"})["items"]] == [
        "Shop 3"
    ]
    assert {i["id"] for i in seen} == {i["id"] for i in made}


@pytest.mark.parametrize(
    "args",
    [
        {"limit": 0},
        {"limit": 501},
        {"limit": "10"},
        {"cursor": "garbage"},
        {"sort": "name"},
        {"category": "NOT_A_CATEGORY"},
        {"q": "!!!"},
        {"min_amount": "5", "max_amount": "1"},
        {"owner": "x"},
    ],
)
def test_bad_list_arguments_answer_422(rpc, tokens, user, args):
    with pytest.raises(ValidationFailed):
        rpc.list_transactions(tokens(user), args)


def test_a_cursor_is_bound_to_its_filters_and_user_key(rpc, tokens, user, day):
    token = tokens(user)
    for i in range(3):
        manual(rpc, token, day(i), "-5.00", f"Kiosk {i}")
    cursor = rpc.list_transactions(token, {"limit": 1})["next_cursor"]
    with pytest.raises(ValidationFailed):
        rpc.list_transactions(token, {"limit": 1, "cursor": cursor, "q": "kiosk"})
    with pytest.raises(ValidationFailed):
        rpc.list_transactions(token, {"limit": 1, "cursor": cursor[:-2] + "AA"})


def test_split_must_sum_exactly_and_then_counts_per_part(rpc, tokens, user, day):
    token = tokens(user)
    t = manual(rpc, token, day(), "-100.00", "Big box store")
    with pytest.raises(ValidationFailed) as info:
        rpc.split_transaction(
            token,
            t["id"],
            {
                "parts": [
                    {"amount": "-60.00", "category": "GENERAL_MERCHANDISE"},
                    {"amount": "-39.99", "category": "FOOD_AND_DRINK"},
                ]
            },
        )
    assert "sum to -99.99" in str(info.value.extra)
    split = rpc.split_transaction(
        token,
        t["id"],
        {
            "parts": [
                {"amount": "-60.00", "category": "GENERAL_MERCHANDISE"},
                {"amount": "-40.00", "category": "FOOD_AND_DRINK_GROCERIES"},
            ]
        },
    )
    assert [p["amount"] for p in split["splits"]] == ["-60.00", "-40.00"]
    groceries = rpc.list_transactions(token, {"category": "FOOD_AND_DRINK_GROCERIES"})["items"]
    assert [i["id"] for i in groceries] == [t["id"]]
    flow = rpc.cashflow(token, {"start": day(), "end": day(), "group_by": "category"})
    spend = {g["category"]: g["spending"] for g in flow["groups"]}
    assert spend == {"GENERAL_MERCHANDISE": "60.00", "FOOD_AND_DRINK": "40.00"}
    cleared = rpc.split_transaction(token, t["id"], {"parts": []})
    assert cleared["splits"] == []


def test_user_b_cannot_touch_user_a_transactions(rpc, tokens, user, day):
    a, b = tokens(user), tokens(user + "-b")
    t = manual(rpc, a, day(), "-10.00", "Private purchase")
    calls = [
        lambda: rpc.get_transaction(b, t["id"]),
        lambda: rpc.update_transaction(b, t["id"], {"notes": "mine now"}),
        lambda: rpc.split_transaction(
            b, t["id"], {"parts": [{"amount": "-5", "category": "GENERAL_MERCHANDISE"}] * 2}
        ),
        lambda: rpc.update_manual_transaction(b, t["id"], {"amount": "-1"}),
        lambda: rpc.delete_manual_transaction(b, t["id"]),
        lambda: rpc.mark_transaction_fine(b, t["id"]),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            call()
    assert rpc.list_transactions(b, {})["items"] == []
    assert "Private purchase" not in rpc.export_transactions_csv(b, {})
    assert rpc.get_transaction(a, t["id"])["notes"] is None


def test_read_scope_cannot_write(rpc, tokens, user, day):
    from common.errors import Forbidden

    reader = tokens(user, scopes=("transactions:read",))
    with pytest.raises(Forbidden):
        manual(rpc, reader, day(), "-1.00", "x")


def test_category_change_becomes_a_correction_for_the_next_ingest(rpc, tokens, user, sync, txn, db):
    sync(user, [txn("c-1", "30.00", name="ACME SUPPLY CO 4411")])
    (row,) = db("SELECT id, category_source FROM transactions WHERE user_id = :u", u=user)
    patched = rpc.update_transaction(
        tokens(user), row["id"], {"category": "HOME_IMPROVEMENT_HARDWARE"}
    )
    assert patched["category_source"] == "user"
    assert (
        db("SELECT count(*) AS n FROM category_corrections WHERE user_id = :u", u=user)[0]["n"] == 1
    )
    assert "acme" not in str(db("SELECT * FROM category_corrections WHERE user_id = :u", u=user))
    sync(user, [txn("c-2", "45.00", name="ACME SUPPLY CO 9999")])
    later = db(
        "SELECT category_detailed, category_source FROM transactions "
        "WHERE user_id = :u AND provider_transaction_id = 'c-2'",
        u=user,
    )[0]
    assert dict(later) == {
        "category_detailed": "HOME_IMPROVEMENT_HARDWARE",
        "category_source": "correction",
    }
    with pytest.raises(ValidationFailed):
        rpc.update_transaction(tokens(user), row["id"], {"category": "NOPE"})


def test_csv_export_with_filters(rpc, tokens, user, day):
    token = tokens(user)
    manual(rpc, token, day(1), "-12.00", "=cmd|calc", category="GENERAL_MERCHANDISE", tags=["a"])
    manual(rpc, token, day(1), "900.00", "Refund", category="INCOME")
    text = rpc.export_transactions_csv(token, {"category": "GENERAL_MERCHANDISE"})
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    assert rows[0]["description"] == "'=cmd|calc" and rows[0]["amount"] == "-12.00"
    assert rows[0]["source"] == "manual" and rows[0]["tags"] == "a"
    with pytest.raises(ValidationFailed):
        rpc.export_transactions_csv(token, {"limit": 5})


def test_list_categories(rpc, tokens, user):
    got = rpc.list_categories(tokens(user))
    assert got["taxonomy"] == "pfc_v2" and len(got["categories"]) == 18
