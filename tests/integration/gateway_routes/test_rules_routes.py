"""Rules routes over the real transactions service, fed by a real sandbox sync: create (with an
Idempotency-Key), list, read, change, order, preview (saved and unsaved, paged), retroactive
apply (idempotent), delete; new transactions following a rule; 422 problem+json for bad rules,
404 for another user's rule, 403 for a read-only token."""

import collections
import datetime as dt

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GIFTS = "GENERAL_MERCHANDISE_GIFTS_AND_NOVELTIES"
BOOKS = "GENERAL_MERCHANDISE_BOOKSTORES_AND_NEWSSTANDS"


@pytest.fixture(scope="module")
def banked(make_user, routes):
    """A user of this module alone (rules re-categorise, so not the shared ``linked`` user)."""
    user = make_user()
    routes.link_bank(user)
    assert routes.wait_until(lambda: len(routes.transactions_of(user)) > 100, timeout=120)
    # the first sync arrives in pages: wait until the ledger stops growing, or a preview and a
    # later apply would count different sets of past transactions
    seen = [-1]

    def settled():
        count = len(routes.transactions_of(user))
        stable, seen[0] = count == seen[0], count
        return stable

    assert routes.wait_until(settled, timeout=120, interval=2.0)
    return user


def most_common_outflow(transactions) -> tuple[str, list[dict]]:
    outflows = [t for t in transactions if t["amount"].startswith("-") and t["description"]]
    counts = collections.Counter(t["description"] for t in outflows)
    description, _ = counts.most_common(1)[0]
    return description, [t for t in outflows if t["description"] == description]


def test_create_preview_apply_order_and_delete(banked, routes):
    user = banked
    description, same = most_common_outflow(routes.transactions_of(user))
    target = BOOKS if all(t["category_detailed"] == GIFTS for t in same) else GIFTS
    body = {"category": target, "description_contains": description, "direction": "out"}
    key = {"Idempotency-Key": "rule-key-routes-1"}
    rule = user.ok("POST", "/v1/rules", 201, json=body, headers=key)
    assert user.ok("POST", "/v1/rules", 201, json=body, headers=key)["id"] == rule["id"]
    needle = " ".join(description.lower().split())  # matching ignores case and spacing
    assert rule["description_contains"].lower() == needle and rule["category_detailed"] == target
    path = f"/v1/rules/{rule['id']}"
    assert user.ok("GET", path) == rule
    assert [r["id"] for r in user.ok("GET", "/v1/rules")["rules"]] == [rule["id"]]

    preview = user.ok("POST", f"{path}/preview", query_string={"limit": 1})
    must_change = {
        t["id"]
        for t in same
        if t["category_source"] != "user" and not t["splits"] and t["category_detailed"] != target
    }
    assert preview["matched"] >= len(same) and preview["would_change"] >= len(must_change)
    assert len(preview["changes"]) == min(1, preview["would_change"])
    if preview["would_change"] > 1:
        assert preview["next_offset"] == 1
    unsaved = user.ok("POST", "/v1/rules/preview", json=body, query_string={"limit": 500})
    assert unsaved["rule_id"] is None and unsaved["matched"] == preview["matched"]
    assert unsaved["would_change"] == preview["would_change"]
    changed_ids = {c["transaction_id"] for c in unsaved["changes"]}
    assert must_change <= changed_ids
    outflows = {t["id"] for t in routes.transactions_of(user) if t["amount"].startswith("-")}
    assert changed_ids <= outflows  # direction "out"
    assert all(
        needle in " ".join(c["description"].lower().split()) and c["to_detailed"] == target
        for c in unsaved["changes"]
    )

    applied = user.ok("POST", f"{path}/apply")
    assert applied["changed"] == preview["would_change"]
    now = routes.transactions_of(user, category=target)
    by_rule = [t for t in now if t["category_rule_id"] == rule["id"]]
    assert len(by_rule) == applied["changed"] + applied["relabelled"]
    assert all(t["category_source"] == "rule" for t in by_rule)
    assert changed_ids <= {t["id"] for t in by_rule}
    again = user.ok("POST", f"{path}/apply", json={})
    assert (again["changed"], again["relabelled"]) == (0, 0)

    patched = user.ok("PATCH", path, json={"direction": "in", "amount_max": "1000"})
    assert (patched["direction"], patched["amount_max"]) == ("in", "1000.00")
    assert user.ok("POST", f"{path}/preview")["matched"] == 0  # outflows only matched before

    second = user.ok("POST", "/v1/rules", 201, json={"category": BOOKS, "amount_min": "0"})
    assert second["position"] == 1
    ordered = user.ok("PUT", "/v1/rules/order", json={"rule_ids": [second["id"], rule["id"]]})
    assert [r["id"] for r in ordered["rules"]] == [second["id"], rule["id"]]

    user.ok("DELETE", path, 204)
    assert user.call("GET", path).status_code == 404
    kept = routes.transactions_of(user, category=target)
    assert {t["id"] for t in by_rule} <= {t["id"] for t in kept}  # categories stay
    user.ok("DELETE", f"/v1/rules/{second['id']}", 204)


def test_a_new_manual_transaction_follows_the_rule(banked):
    user = banked
    rule = user.ok(
        "POST",
        "/v1/rules",
        201,
        json={"category": GIFTS, "merchant_contains": "tiny toy shop", "amount_max": "50"},
    )
    body = {
        "account_id": "cash",
        "amount": "-12.00",
        "date": dt.date.today().isoformat(),
        "description": "Tiny Toy Shop",
    }
    created = user.ok("POST", "/v1/transactions", 201, json=body)
    assert (created["category_detailed"], created["category_source"]) == (GIFTS, "rule")
    assert created["category_rule_id"] == rule["id"]
    over = user.ok("POST", "/v1/transactions", 201, json={**body, "amount": "-80.00"})
    assert over["category_rule_id"] is None  # above amount_max: the other layers decide
    user.ok("DELETE", f"/v1/rules/{rule['id']}", 204)


def test_bad_rules_are_422_problem_json(banked, make_user):
    user = banked
    other = make_user()
    other.ok(
        "POST",
        "/v1/transactions",
        201,
        json={
            "account_id": "cash-of-someone-else",
            "amount": "-1.00",
            "date": dt.date.today().isoformat(),
            "description": "Coffee",
        },
    )
    base = {"category": GIFTS, "description_contains": "toy"}
    for bad, field in (
        ({**base, "category": "NOT_A_CATEGORY"}, "category"),
        ({**base, "category": "GENERAL_MERCHANDISE"}, "category"),
        ({**base, "amount_min": "20", "amount_max": "10"}, "amount_min"),
        ({**base, "amount_min": "-5"}, "amount_min"),
        ({**base, "amount_max": "1.23456"}, "amount_max"),
        ({**base, "colour": "blue"}, "colour"),
        ({**base, "account_ids": ["cash-of-someone-else"]}, "account_ids"),
        ({**base, "direction": "up"}, "direction"),
        ({"category": GIFTS}, "_schema"),
        ({"category": GIFTS, "description_contains": None}, "_schema"),
    ):
        for path in ("/v1/rules", "/v1/rules/preview"):
            response = user.call("POST", path, json=bad)
            assert response.status_code == 422, (path, bad, response.get_json())
            assert response.mimetype == "application/problem+json"
            assert field in str(response.get_json()["errors"]), (bad, response.get_json())
    rule = user.ok("POST", "/v1/rules", 201, json=base)
    path = f"/v1/rules/{rule['id']}"
    for patch in ({"category": None}, {"description_contains": None}, {"amount_min": "-1"}):
        assert user.call("PATCH", path, json=patch).status_code == 422, patch
    assert user.call("PUT", "/v1/rules/order", json={"rule_ids": []}).status_code == 422
    assert user.call("POST", f"{path}/preview", query_string={"limit": 0}).status_code == 422
    assert user.call("POST", f"{path}/apply", json={"include_manual": "maybe"}).status_code == 422
    assert user.ok("GET", path) == rule
    user.ok("DELETE", path, 204)


def test_another_users_rule_is_404_and_read_only_cannot_write(banked, make_user):
    user = banked
    rule = user.ok("POST", "/v1/rules", 201, json={"category": GIFTS, "direction": "in"})
    path = f"/v1/rules/{rule['id']}"
    intruder = make_user()
    for method, suffix, body in (
        ("GET", "", None),
        ("PATCH", "", {"direction": "out"}),
        ("DELETE", "", None),
        ("POST", "/preview", None),
        ("POST", "/apply", {}),
    ):
        response = intruder.call(method, path + suffix, json=body)
        assert response.status_code == 404, (method, suffix, response.get_json())
        assert response.mimetype == "application/problem+json"
    assert intruder.ok("GET", "/v1/rules") == {"rules": []}

    read_only = user.token_for("transactions:read")
    assert user.call("GET", "/v1/rules", token=read_only).status_code == 200
    assert user.call("POST", f"{path}/preview", token=read_only).status_code == 200
    for method, target in (
        ("POST", "/v1/rules"),
        ("PATCH", path),
        ("DELETE", path),
        ("PUT", "/v1/rules/order"),
        ("POST", f"{path}/apply"),
    ):
        response = user.call(method, target, token=read_only, json={})
        assert response.status_code == 403, (method, target, response.get_json())
    assert user.ok("GET", path)["direction"] == "in"
    user.ok("DELETE", path, 204)
