import datetime as dt
import itertools
from decimal import Decimal

import pytest

from transactions.ledger import LedgerError, from_provider, parse_amount, plan_sync


def plaid(tid, amount="12.50", **extra):
    base = {
        "transaction_id": tid,
        "account_id": "acc-1",
        "amount": amount,
        "iso_currency_code": "USD",
        "date": "2026-11-20",
        "authorized_date": "2026-11-19",
        "authorized_datetime": "2026-11-19T21:15:00-05:00",
        "name": "NETFLIX.COM 866-579-7172 CA",
        "merchant_name": "Netflix",
        "location": {"country": "US", "city": "Los Gatos"},
        "payment_meta": {"reference_number": "123"},
        "counterparties": [],
        "payment_channel": "online",
        "pending": False,
        "pending_transaction_id": None,
        "personal_finance_category": {"detailed": "ENTERTAINMENT_TV_AND_MOVIES"},
    }
    base.update(extra)
    return base


def ids():
    counter = itertools.count(1)
    return lambda: f"L{next(counter)}"


def test_plaid_outflow_becomes_negative_and_inflow_positive():
    out = from_provider(plaid("t1", "12.50"))
    assert out["amount"] == Decimal("-12.5000")
    assert from_provider(plaid("t2", "-1500"))["amount"] == Decimal("1500")
    assert out["date"] == dt.date(2026, 11, 20)
    assert out["local_hour"] == 21 and out["country"] == "US"
    assert out["details"]["merchant_name"] == "Netflix"
    assert out["provider_category"] == "ENTERTAINMENT_TV_AND_MOVIES"


def test_a_json_float_is_read_through_its_repr_not_binary():
    assert parse_amount(0.1) == Decimal("0.1")
    assert from_provider(plaid("t", 19.99))["amount"] == Decimal("-19.99")


@pytest.mark.parametrize(
    "value,message",
    [
        ("abc", "not a decimal"),
        ("NaN", "finite"),
        (True, "decimal number"),
        (None, "decimal number"),
        ("1.23456", "4 decimal places"),
        ("1e20", "too large"),
    ],
)
def test_bad_amounts_are_refused_with_a_reason(value, message):
    with pytest.raises(LedgerError, match=message):
        parse_amount(value)


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("transaction_id", "", "transaction_id"),
        ("account_id", None, "account_id"),
        ("date", "20/11/2026", "ISO date"),
        ("iso_currency_code", "dollars", "ISO 4217"),
        ("authorized_datetime", "2026-11-19T21:15:00", "time zone"),
        ("name", "", "name or original_description"),
    ],
)
def test_bad_provider_fields_are_refused(field, value, message):
    txn = plaid("t1")
    txn[field] = value
    if field == "name":
        txn["original_description"] = None
    with pytest.raises(LedgerError, match=message):
        from_provider(txn)


def test_first_sync_inserts_and_a_replay_only_updates():
    first = plan_sync({}, [plaid("a"), plaid("b")], [], [], new_id=ids())
    assert [r["provider_transaction_id"] for r in first.inserts] == ["a", "b"]
    existing = {r["provider_transaction_id"]: r["id"] for r in first.inserts}
    replay = plan_sync(existing, [plaid("a"), plaid("b")], [], [], new_id=ids())
    assert replay.inserts == [] and [u[0] for u in replay.updates] == ["L1", "L2"]


def test_modified_unknown_is_inserted_and_removed_unknown_is_skipped():
    plan = plan_sync({}, [], [plaid("m", "3")], [{"transaction_id": "ghost"}], new_id=ids())
    assert [r["provider_transaction_id"] for r in plan.inserts] == ["m"]
    assert plan.skipped == ["ghost"] and plan.deletes == []


def test_modified_and_removed_known_ids():
    plan = plan_sync(
        {"a": "L9", "b": "L8"}, [], [plaid("a", "99")], [{"transaction_id": "b"}], new_id=ids()
    )
    assert plan.updates[0][0] == "L9" and plan.updates[0][1]["amount"] == Decimal("-99")
    assert plan.deletes == ["L8"]


def test_pending_is_replaced_by_posted_in_place_and_its_removal_is_harmless():
    posted = plaid("posted-1", "20.00", pending_transaction_id="pend-1")
    plan = plan_sync({"pend-1": "L5"}, [posted], [], [{"transaction_id": "pend-1"}], new_id=ids())
    assert plan.inserts == []
    assert plan.updates == [("L5", plan.updates[0][1])]
    assert plan.updates[0][1]["provider_transaction_id"] == "posted-1"
    assert plan.deletes == [] and plan.skipped == ["pend-1"]


def test_added_then_removed_in_the_same_event_is_not_inserted():
    plan = plan_sync({}, [plaid("x")], [], [{"transaction_id": "x"}], new_id=ids())
    assert plan.inserts == [] and plan.deletes == []


def test_one_bad_transaction_does_not_block_the_rest():
    bad = plaid("bad", "oops")
    plan = plan_sync({}, [bad, plaid("good")], [], [{"no": "id"}], new_id=ids())
    assert [r["provider_transaction_id"] for r in plan.inserts] == ["good"]
    assert plan.invalid[0][0] == "added[0]" and "bad" in plan.invalid[0][1]
    assert plan.invalid[1][0] == "removed"
