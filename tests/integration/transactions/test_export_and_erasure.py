"""The ledger's part of account export and erasure: ``export_user_data`` (read scope + recent
second factor) holds the whole decrypted ledger; ``item_removed`` drops a disconnected bank's
transactions; ``user_deleted`` erases the user and a late sync for them is ignored."""

import time
import uuid

import pytest

from common.errors import Forbidden, StepUpRequired

READ = ("transactions:read", "transactions:write")


def handled(db, event_id, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db("SELECT 1 FROM inbox WHERE event_id = :e", e=event_id):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def strong(signer):
    return lambda user_id: signer.sign(user_id, scopes=READ, amr=("pwd", "otp"))


def test_export_disconnect_and_erasure(rpc, tokens, strong, sync, txn, user, db, emit_event):
    other = f"user-{uuid.uuid4().hex[:12]}"
    sync(
        user,
        added=[
            txn("t-chk-1", "12.50", account="acc-chk", name="BLUE BOTTLE COFFEE 0042"),
            txn("t-chk-2", "40.00", account="acc-chk", name="SHELL OIL 5731"),
            txn("t-card-1", "80.00", account="acc-card", name="WHOLEFDS MKT 10233"),
        ],
    )
    sync(other, added=[txn("t-other", "9.99", account="acc-chk")])
    rpc.create_budget(tokens(user), {"category": "FOOD_AND_DRINK", "amount": "300"})
    rpc.create_rule(
        tokens(user), {"category": "FOOD_AND_DRINK_COFFEE", "description_contains": "blue bottle"}
    )

    with pytest.raises(StepUpRequired):
        rpc.export_user_data(tokens(user))
    with pytest.raises(Forbidden):
        rpc.export_user_data(tokens(user, scopes=("profile:read",)))
    export = rpc.export_user_data(strong(user))
    assert {t["description"] for t in export["transactions"]} == {
        "BLUE BOTTLE COFFEE 0042",
        "SHELL OIL 5731",
        "WHOLEFDS MKT 10233",
    }
    assert [b["category"] for b in export["budgets"]] == ["FOOD_AND_DRINK"]
    assert export["rules"][0]["category_detailed"] == "FOOD_AND_DRINK_COFFEE"
    assert "t-other" not in str(export)

    removed = emit_event(
        "aggregation",
        "item_removed",
        {"user_id": user, "item_id": "item-1", "account_ids": ["acc-chk"]},
        user,
    )
    assert handled(db, removed)
    left = rpc.export_user_data(strong(user))["transactions"]
    assert [t["description"] for t in left] == ["WHOLEFDS MKT 10233"]
    # a page of the disconnected bank that was already in flight is ignored; another bank's not
    late_page = sync(user, added=[txn("t-chk-3", "7.00", account="acc-chk")], item_id="item-1")
    assert handled(db, late_page)
    sync(user, added=[txn("t-new-1", "3.00", account="acc-new")], item_id="item-2")
    left = rpc.export_user_data(strong(user))["transactions"]
    assert sorted(t["account_id"] for t in left) == ["acc-card", "acc-new"]
    assert (
        len(rpc.export_user_data(strong(other))["transactions"]) == 1
    )  # same account id, other user

    deleted = emit_event("users", "user_deleted", {"user_id": user}, user)
    assert handled(db, deleted)
    for table in ("transactions", "budgets", "categorization_rules"):
        assert db(f"SELECT 1 FROM {table} WHERE user_id = :u", u=user) == []  # noqa: S608
    assert db("SELECT 1 FROM erased_users WHERE user_id = :u", u=user)

    # a sync page that was already in flight cannot bring the data back
    late = sync(user, added=[txn("t-late", "5.00", account="acc-card")])
    assert handled(db, late)
    assert db("SELECT 1 FROM transactions WHERE user_id = :u", u=user) == []
    assert len(rpc.export_user_data(strong(other))["transactions"]) == 1
