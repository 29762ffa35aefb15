"""Budgets with threshold events, cash flow without transfers, recurring series, anomaly flags."""

import pytest

from common.errors import NotFound, ValidationFailed

pytestmark = pytest.mark.integration


def spend(rpc, token, day, amount, category="FOOD_AND_DRINK_GROCERIES"):
    return rpc.create_manual_transaction(
        token,
        {
            "account_id": "cash",
            "amount": amount,
            "date": day(),
            "description": "Corner grocer",
            "category": category,
        },
    )


def test_budget_threshold_events_fire_once_per_month(rpc, tokens, user, day, events):
    token = tokens(user)
    budget = rpc.create_budget(token, {"category": "FOOD_AND_DRINK", "amount": "100.00"})
    assert budget["level"] == "primary" and budget["progress"]["spent"] == "0.00"
    spend(rpc, token, day, "-50.00")
    assert events(user, "budget_threshold") == []
    spend(rpc, token, day, "-35.00")
    spend(rpc, token, day, "-5.00")
    spend(rpc, token, day, "-20.00")
    rpc.update_budget(token, budget["id"], {"amount": "90.00"})
    fired = events(user, "budget_threshold")
    assert [(e["threshold"], e["budget_id"]) for e in fired] == [
        (80, budget["id"]),
        (100, budget["id"]),
    ]
    assert fired[0]["spent"] == "85.00" and fired[0]["percent"] == "85.00"
    listed = rpc.list_budgets(token)["budgets"]
    progress = listed[0]["progress"]
    assert (progress["spent"], progress["remaining"], progress["percent"]) == (
        "110.00",
        "-20.00",
        "122.22",
    )
    with pytest.raises(ValidationFailed):
        rpc.create_budget(token, {"category": "FOOD_AND_DRINK", "amount": "10"})
    with pytest.raises(ValidationFailed):
        rpc.create_budget(token, {"category": "TRAVEL", "amount": "0"})
    with pytest.raises(ValidationFailed):
        rpc.create_budget(token, {"category": "PIZZA", "amount": "10"})
    other = tokens(user + "-b")
    with pytest.raises(NotFound):
        rpc.get_budget(other, budget["id"])
    with pytest.raises(NotFound):
        rpc.delete_budget(other, budget["id"])
    assert rpc.delete_budget(token, budget["id"]) == {"deleted": budget["id"]}
    assert rpc.list_budgets(token)["budgets"] == []


def test_cashflow_keeps_transfers_and_card_payments_out(rpc, tokens, user, sync, txn, day):
    sync(
        user,
        [
            txn("pay", "-3000.00", days_ago=3, name="ACME CORP PAYROLL"),
            txn("rent", "1200.00", days_ago=2, name="OAKWOOD APARTMENTS RENT"),
            txn("move-out", "500.00", days_ago=2, name="ONLINE TRANSFER REF 1"),
            txn("move-in", "-500.00", days_ago=1, account="acc-sav", name="ONLINE TRANSFER REF 2"),
            txn(
                "card",
                "250.00",
                days_ago=1,
                name="CREDIT CARD AUTOPAY",
                personal_finance_category={"detailed": "LOAN_PAYMENTS_CREDIT_CARD_PAYMENT"},
            ),
        ],
    )
    flow = rpc.cashflow(tokens(user), {"start": day(5), "end": day(0)})
    (total,) = flow["totals"]
    assert (total["income"], total["spending"], total["net"], total["transfers"]) == (
        "3000.00",
        "1200.00",
        "1800.00",
        3,
    )
    with pytest.raises(ValidationFailed):
        rpc.cashflow(tokens(user), {"start": day(0), "end": day(5)})
    with pytest.raises(ValidationFailed):
        rpc.cashflow(tokens(user), {"start": day(5), "end": day(0), "group_by": "week"})


def test_recurring_subscription_with_a_price_increase(rpc, tokens, user, sync, txn):
    charges = [
        txn(
            f"sp-{i}",
            "9.99" if i >= 2 else "11.99",
            days_ago=30 * i,
            name="SPOTIFY USA",
            merchant_name="Spotify",
        )
        for i in range(6)
    ]
    sync(user, charges)
    series = rpc.recurring(tokens(user))["series"]
    (spotify,) = [s for s in series if s["merchant"] == "Spotify"]
    assert spotify["cadence"] == "monthly" and spotify["status"] == "active"
    assert spotify["predicted_amount"] == "-11.99" and spotify["count"] == 6
    assert spotify["price_change"]["direction"] == "increase"
    assert spotify["price_change"]["previous_amount"] == "9.99"


def test_unusual_charge_is_flagged_and_marking_it_fine_teaches_the_scorer(
    rpc, tokens, user, sync, txn, events
):
    history = [
        txn(
            f"wf-{i}",
            f"{55 + i % 5}.{10 + i}",
            days_ago=40 - 3 * i,
            name="WHOLEFDS MKT 1022",
            merchant_name="Whole Foods",
        )
        for i in range(12)
    ]
    sync(user, history)
    assert events(user, "transaction_flagged") == []
    sync(user, [txn("wf-big", "400.00", name="WHOLEFDS MKT 1022", merchant_name="Whole Foods")])
    (flag,) = events(user, "transaction_flagged")
    assert "large_for_merchant" in flag["reasons"] and float(flag["score"]) > 0
    flagged = rpc.list_transactions(tokens(user), {"flagged": True})["items"]
    assert [i["id"] for i in flagged] == [flag["transaction_id"]]
    fine = rpc.mark_transaction_fine(tokens(user), flag["transaction_id"])
    assert fine["anomaly"]["status"] == "dismissed"
    sync(
        user,
        [
            txn(
                "wf-big-2",
                "410.00",
                days_ago=0,
                name="WHOLEFDS MKT 1022",
                merchant_name="Whole Foods",
            )
        ],
    )
    assert len(events(user, "transaction_flagged")) == 1
