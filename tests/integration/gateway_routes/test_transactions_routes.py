"""Transactions routes over the real transactions service, fed by a real sandbox sync:
list/filters/cursor pagination, read and edit, manual entries (idempotent), splits, anomaly
feedback, categories, CSV export, budgets, cash flow, recurring; 422s, 404 for another user's
ids, 403 for a read-only token."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_list_is_paginated_and_categorised(linked, rpc_pool, routes):
    user = linked.user
    first = user.ok("GET", "/v1/transactions", query_string={"limit": 50})
    assert len(first["items"]) == 50 and first["next_cursor"]
    second = user.ok(
        "GET", "/v1/transactions", query_string={"limit": 50, "cursor": first["next_cursor"]}
    )
    assert not {t["id"] for t in first["items"]} & {t["id"] for t in second["items"]}
    assert first["items"][0]["date"] >= second["items"][0]["date"]
    assert first == rpc_pool.call("transactions", "list_transactions", user.token, {"limit": 50})

    everything = routes.transactions_of(user)
    assert all(isinstance(t["amount"], str) for t in everything)
    # Plaid's sign flipped: salary is money in, so some amounts are positive, most negative
    assert any(Decimal(t["amount"]) > 0 for t in everything)
    assert any(Decimal(t["amount"]) < 0 for t in everything)
    categorised = [t for t in everything if t["category_primary"]]
    assert len(categorised) > len(everything) // 2, "the categoriser labelled too few"

    spending = routes.transactions_of(user, max_amount="-100.00")
    assert spending and all(Decimal(t["amount"]) <= Decimal("-100") for t in spending)


def test_list_bad_filters_are_422(linked):
    user = linked.user
    first = user.ok("GET", "/v1/transactions", query_string={"limit": 5})
    for query in (
        {"limit": 0},
        {"limit": 501},
        {"limit": "many"},
        {"start": "2025-02-30"},
        {"start": "2025-06-01", "end": "2025-05-01"},
        {"min_amount": "10", "max_amount": "-10"},
        {"min_amount": "1.23456"},
        {"sort": "random"},
        {"colour": "blue"},
        {"cursor": first["next_cursor"], "limit": 5, "sort": "amount_asc"},  # other sort
        {"cursor": first["next_cursor"][:-3] + "xyz", "limit": 5},  # edited
    ):
        response = user.call("GET", "/v1/transactions", query_string=query)
        assert response.status_code == 422, (query, response.get_json())
        assert response.mimetype == "application/problem+json"


def test_edit_split_and_dismiss_a_bank_transaction(linked, make_user):
    user = linked.user
    spend = user.ok("GET", "/v1/transactions", query_string={"max_amount": "-20", "limit": 1})
    txn = spend["items"][0]
    path = f"/v1/transactions/{txn['id']}"
    assert user.ok("GET", path)["id"] == txn["id"]

    edited = user.ok(
        "PATCH", path, json={"category": "FOOD_AND_DRINK_GROCERIES", "notes": "weekly shop"}
    )
    assert edited["category_source"] == "user" and edited["notes"] == "weekly shop"
    assert edited["category_detailed"] == "FOOD_AND_DRINK_GROCERIES"
    bad = user.call("PATCH", path, json={"category": "NOT_A_CATEGORY"})
    assert bad.status_code == 422
    # a bank transaction's amount is the bank's: only manual ones can change it
    assert user.call("PATCH", path, json={"amount": "-1.00"}).status_code == 404

    amount = Decimal(txn["amount"])
    half = (amount / 2).quantize(Decimal("0.01"))
    parts = [
        {"amount": str(half), "category": "FOOD_AND_DRINK"},
        {"amount": str(amount - half), "category": "GENERAL_MERCHANDISE"},
    ]
    split = user.ok("POST", f"{path}/split", json={"parts": parts})
    assert [Decimal(p["amount"]) for p in split["splits"]] == [half, amount - half]
    wrong = [dict(p) for p in parts]
    wrong[0]["amount"] = str(half - Decimal("0.01"))  # one cent short of the amount
    assert user.call("POST", f"{path}/split", json={"parts": wrong}).status_code == 422

    fine = user.ok("POST", f"{path}/not-anomalous")
    assert fine["anomaly"]["status"] == "dismissed"

    hidden = user.ok("PATCH", path, json={"hidden": True})
    assert hidden["hidden"] is True
    user.ok("PATCH", path, json={"hidden": False})

    intruder = make_user()
    for method, suffix, body in (
        ("GET", "", None),
        ("PATCH", "", {"notes": "mine"}),
        ("DELETE", "", None),
        ("POST", "/split", {"parts": []}),
        ("POST", "/not-anomalous", None),
    ):
        response = intruder.call(method, path + suffix, json=body)
        assert response.status_code == 404, (method, suffix, response.get_json())


def test_manual_transactions_idempotent_edit_delete(linked):
    user = linked.user
    account = next(
        a for a in user.ok("GET", "/v1/accounts")["accounts"] if a["type"] == "depository"
    )
    body = {
        "account_id": account["account_id"],
        "amount": -12.5,  # an exact JSON number is accepted (parsed as Decimal, never float)
        "date": dt.date.today().isoformat(),
        "description": "Farmers market",
    }
    key = {"Idempotency-Key": "manual-key-0001"}
    created = user.ok("POST", "/v1/transactions", 201, json=body, headers=key)
    assert created["amount"] == "-12.50" and created["source"] == "manual"
    assert user.ok("POST", "/v1/transactions", 201, json=body, headers=key)["id"] == created["id"]

    for bad, field in (
        ({"amount": "0"}, "amount"),
        ({"amount": "1e400"}, "amount"),
        ({"amount": "-1.23456"}, "amount"),
        ({"date": "2025-13-01"}, "date"),
        ({"currency": "dollars"}, "currency"),
        ({"user_id": "someone-else"}, "user_id"),
    ):
        response = user.call("POST", "/v1/transactions", json={**body, **bad})
        assert response.status_code == 422, (bad, response.get_json())
        assert field in str(response.get_json()["errors"]), response.get_json()

    path = f"/v1/transactions/{created['id']}"
    changed = user.ok("PATCH", path, json={"amount": "-15.00", "hidden": True})
    assert (changed["amount"], changed["hidden"]) == ("-15.00", True)
    user.ok("DELETE", path, 204)
    assert user.call("GET", path).status_code == 404


def test_categories_and_csv_export(linked):
    user = linked.user
    categories = user.ok("GET", "/v1/categories")
    assert categories["taxonomy"] == "pfc_v2"
    assert any(c["primary"] == "FOOD_AND_DRINK" for c in categories["categories"])

    start = (dt.date.today() - dt.timedelta(days=60)).isoformat()
    response = user.ok("GET", "/v1/transactions/export.csv", query_string={"start": start})
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows and all(r["date"] >= start for r in rows)
    bad = user.call("GET", "/v1/transactions/export.csv", query_string={"limit": 5})
    assert bad.status_code == 422


def test_category_suggestion_stores_nothing_and_refuses_bad_input(linked):
    user = linked.user
    before = len(user.ok("GET", "/v1/transactions", query_string={"limit": 500})["items"])
    body = {"description": "CHECKCARD 0412 SHELL OIL 57444 HOUSTON TX", "amount": "-41.20"}
    answer = user.ok("POST", "/v1/categories/suggest", json=body)
    assert answer["source"] in ("model", "none", "correction", "rule")
    if answer["source"] == "none":
        assert answer["category_detailed"] is None and len(answer["suggestions"]) == 3
    else:
        assert answer["category_primary"] and 0 < answer["confidence"] <= 1
    assert len(user.ok("GET", "/v1/transactions", query_string={"limit": 500})["items"]) == before
    for bad in (
        {"description": "", "amount": "-1.00"},
        {"description": "X", "amount": "lots"},
        {"description": "X", "amount": "-1.00", "category": "FOOD_AND_DRINK"},
        {"amount": "-1.00"},
    ):
        response = user.call("POST", "/v1/categories/suggest", json=bad)
        assert response.status_code == 422, (bad, response.get_json())
        assert response.mimetype == "application/problem+json"


def test_budgets_cashflow_recurring(linked, make_user):
    user = linked.user
    assert (
        user.call(
            "POST", "/v1/budgets", json={"category": "FOOD_AND_DRINK", "amount": "-5"}
        ).status_code
        == 422
    )
    assert (
        user.call("POST", "/v1/budgets", json={"category": "NOPE", "amount": "5"}).status_code
        == 422
    )
    budget = user.ok(
        "POST", "/v1/budgets", 201, json={"category": "FOOD_AND_DRINK", "amount": "400.00"}
    )
    assert budget["amount"] == "400.00" and budget["progress"] is not None
    listed = user.ok("GET", "/v1/budgets")
    assert [b["id"] for b in listed["budgets"]] == [budget["id"]]
    path = f"/v1/budgets/{budget['id']}"
    assert user.ok("PATCH", path, json={"amount": "450"})["amount"] == "450.00"
    assert user.ok("GET", path, query_string={"month": "2026-01-15"})["id"] == budget["id"]
    intruder = make_user()
    assert intruder.call("GET", path).status_code == 404
    assert intruder.call("DELETE", path).status_code == 404
    user.ok("DELETE", path, 204)
    assert user.call("GET", path).status_code == 404

    today = dt.date.today()
    start = (today - dt.timedelta(days=180)).isoformat()
    flow = user.ok("GET", "/v1/cashflow", query_string={"start": start, "end": today.isoformat()})
    assert flow["groups"]
    month = flow["groups"][0]
    assert Decimal(month["net"]) == Decimal(month["income"]) - Decimal(month["spending"])
    reversed_range = user.call(
        "GET", "/v1/cashflow", query_string={"start": today.isoformat(), "end": start}
    )
    assert reversed_range.status_code == 422

    recurring = user.ok("GET", "/v1/recurring")
    assert recurring["series"], "the sandbox's salary and subscriptions recur"
    assert user.call("GET", "/v1/recurring", query_string={"as_of": "someday"}).status_code == 422


def test_read_only_token_cannot_write(linked):
    user = linked.user
    read_only = user.token_for("transactions:read")
    for method, path in (
        ("POST", "/v1/transactions"),
        ("PATCH", "/v1/transactions/x"),
        ("DELETE", "/v1/transactions/x"),
        ("POST", "/v1/transactions/x/split"),
        ("POST", "/v1/transactions/x/not-anomalous"),
        ("POST", "/v1/budgets"),
        ("PATCH", "/v1/budgets/x"),
        ("DELETE", "/v1/budgets/x"),
    ):
        response = user.call(method, path, token=read_only, json={})
        assert response.status_code == 403, (method, path, response.get_json())
    assert user.call("GET", "/v1/transactions", token=read_only).status_code == 200
