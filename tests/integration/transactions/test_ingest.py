"""transactions_synced ingestion: idempotent, tolerant, pending -> posted, encrypted at rest."""

import pytest

pytestmark = pytest.mark.integration


def rows_of(db, user):
    return db(
        "SELECT id, provider_transaction_id, amount, pending, details, notes, search_tokens "
        "FROM transactions WHERE user_id = :u ORDER BY provider_transaction_id",
        u=user,
    )


def test_the_same_event_twice_and_a_resend_store_each_transaction_once(
    sync, db, user, txn, events, rpc, tokens
):
    added = [txn("p-1", "12.50"), txn("p-2", "-2000.00", name="ACME PAYROLL")]
    event_id = sync(user, added)
    sync(user, replay_of=event_id)
    sync(user, added)  # a new event with the same transactions: an upsert, not a duplicate
    rows = rows_of(db, user)
    assert [(r["provider_transaction_id"], str(r["amount"])) for r in rows] == [
        ("p-1", "-12.5000"),  # Plaid's positive outflow is stored negative
        ("p-2", "2000.0000"),
    ]
    categorized = events(user, "transactions_categorized")
    assert [e["count"] for e in categorized] == [2]
    assert set(categorized[0]["transaction_ids"]) == {r["id"] for r in rows}
    listed = rpc.list_transactions(tokens(user), {})["items"]
    assert {i["amount"] for i in listed} == {"-12.50", "2000.00"}


def test_modified_and_removed_including_unknown_ids(sync, db, user, txn):
    sync(user, [txn("a", "10"), txn("b", "20")])
    sync(
        user,
        modified=[txn("a", "11.25"), txn("new-from-modified", "5")],
        removed=[{"transaction_id": "b"}, {"transaction_id": "never-seen"}],
    )
    rows = rows_of(db, user)
    assert [(r["provider_transaction_id"], str(r["amount"])) for r in rows] == [
        ("a", "-11.2500"),
        ("new-from-modified", "-5.0000"),
    ]


def test_pending_is_replaced_by_posted_keeping_the_row_and_user_edits(
    sync, db, user, txn, rpc, tokens
):
    sync(user, [txn("pend-9", "42.00", pending=True)])
    (row,) = rows_of(db, user)
    rpc.update_transaction(tokens(user), row["id"], {"notes": "dinner with Sam", "tags": ["trip"]})
    posted = txn("post-9", "45.00", pending_transaction_id="pend-9")
    sync(user, [posted], removed=[{"transaction_id": "pend-9"}])
    (after,) = rows_of(db, user)
    assert after["id"] == row["id"] and after["provider_transaction_id"] == "post-9"
    assert after["pending"] is False and str(after["amount"]) == "-45.0000"
    got = rpc.get_transaction(tokens(user), row["id"])
    assert got["notes"] == "dinner with Sam" and got["tags"] == ["trip"]


def test_full_details_are_encrypted_at_rest(sync, db, user, txn, rpc, tokens):
    sync(user, [txn("enc-1", "9.99", merchant_name="Netflix")])
    (row,) = rows_of(db, user)
    rpc.update_transaction(tokens(user), row["id"], {"notes": "shared family plan"})
    raw = db("SELECT * FROM transactions WHERE user_id = :u", u=user)[0]
    dump = " ".join(str(v) for v in dict(raw).values()).lower()
    for secret in ("netflix", "866-579", "austin", "main st", "ref-778899", "family plan"):
        assert secret not in dump, secret
    assert raw["details"].startswith("ne1.") and raw["notes"].startswith("ne1.")
    got = rpc.get_transaction(tokens(user), row["id"])
    assert got["description"] == "NETFLIX.COM 866-579"
    assert got["location"]["city"] == "Austin" and got["notes"] == "shared family plan"
    found = rpc.list_transactions(tokens(user), {"q": "netflix"})["items"]
    assert [i["id"] for i in found] == [row["id"]]
    assert rpc.list_transactions(tokens(user), {"q": "spotify"})["items"] == []
    assert [i["id"] for i in rpc.list_transactions(tokens(user), {"q": "family"})["items"]] == [
        row["id"]
    ]


def test_a_malformed_transaction_is_refused_and_the_rest_applies(sync, db, user, txn):
    sync(user, [txn("bad", "not-a-number"), txn("good", "1.00")])
    assert [r["provider_transaction_id"] for r in rows_of(db, user)] == ["good"]
