"""Portfolio routes over the real portfolio service, fed by a real sandbox link: holdings,
allocation, target, tax profile, optimiser, rebalance plans (step-up), TLH, goals and
projections, net worth, returns; 422 for bad numbers, 404 for another user's ids, 403 for a
read-only token."""

import datetime as dt
from decimal import Decimal

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HELD_CLASSES = {"us_stocks": "0.5", "intl_developed": "0.2", "us_bonds": "0.2", "us_reits": "0.1"}


def future(days=3650) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


def test_holdings_pass_through_unchanged(linked, rpc_pool):
    user = linked.user
    holdings = user.ok("GET", "/v1/holdings")
    assert holdings == rpc_pool.call("portfolio", "list_holdings", user.token, {})
    positions = [p for a in holdings["accounts"] for p in a["positions"]]
    funds = [p for p in positions if not p["ticker"].startswith("CUR:")]
    assert funds, [p["ticker"] for p in positions]
    fund = funds[0]
    assert isinstance(fund["quantity"], str) and Decimal(fund["quantity"]) > 0
    assert fund["lots"] and fund["asset_class"] in HELD_CLASSES
    assert {a["tax_type"] for a in holdings["accounts"]} >= {"taxable"}


def test_allocation_target_and_tax_profile(linked):
    user = linked.user
    allocation = user.ok("GET", "/v1/portfolio/allocation")
    assert Decimal(allocation["total_value"]) > 0 and allocation["classes"]

    for weights, field in (
        ({"us_stocks": "0.7", "us_bonds": "0.2"}, "sum"),  # sums to 0.9
        ({"us_stocks": "1.2", "us_bonds": "-0.2"}, ">= 0"),
        ({"us_stocks": 0.5, "us_bonds": "abc"}, "decimal"),
    ):
        response = user.call("PUT", "/v1/portfolio/target-allocation", json={"weights": weights})
        assert response.status_code == 422, (weights, response.get_json())
        assert field in str(response.get_json()["errors"]), response.get_json()
    target = user.ok("PUT", "/v1/portfolio/target-allocation", json={"weights": HELD_CLASSES})
    stored = {k: Decimal(v) for k, v in target["weights"].items()}
    assert stored == {k: Decimal(v) for k, v in HELD_CLASSES.items()}
    assert user.ok("GET", "/v1/portfolio/allocation")["target_source"] == "manual"

    bad_rate = user.call(
        "PUT",
        "/v1/portfolio/tax-profile",
        json={"short_term_rate": "1.5", "long_term_rate": "0.15"},
    )
    assert bad_rate.status_code == 422 and "short_term_rate" in str(bad_rate.get_json())
    profile = user.ok(
        "PUT",
        "/v1/portfolio/tax-profile",
        json={"short_term_rate": 0.32, "long_term_rate": "0.15", "carryforward": "1000"},
    )
    assert Decimal(profile["short_term_rate"]) == Decimal("0.32")


def test_optimiser_feasible_and_infeasible(linked):
    user = linked.user
    result = user.ok(
        "POST",
        "/v1/portfolio/optimize",
        json={
            "asset_classes": ["us_stocks", "us_bonds", "intl_developed"],
            "objective": "max_sharpe",
        },
    )
    assert abs(sum(float(w) for w in result["weights"].values()) - 1) < 1e-6
    infeasible = user.call(
        "POST",
        "/v1/portfolio/optimize",
        json={
            "asset_classes": ["us_stocks", "us_bonds"],
            "objective": "min_volatility",
            "bounds": [0, 0.3],
        },
    )
    assert infeasible.status_code == 422, infeasible.get_json()
    for body in (
        {"asset_classes": ["us_stocks"], "objective": "max_sharpe"},
        {"asset_classes": ["us_stocks", "us_bonds"], "objective": "max_everything"},
        {"asset_classes": ["us_stocks", "us_bonds"], "objective": "max_sharpe", "bounds": [0]},
        {"tickers": ["VTI", "BND"], "objective": "efficient_risk"},  # needs a target
    ):
        response = user.call("POST", "/v1/portfolio/optimize", json=body)
        assert response.status_code == 422, (body, response.get_json())


def test_rebalance_plan_executed_once_with_step_up(linked, make_user):
    user = linked.user
    user.ok("PUT", "/v1/portfolio/target-allocation", json={"weights": HELD_CLASSES})
    plan = user.ok("POST", "/v1/portfolio/rebalance", 201, json={})
    assert plan["plan_id"] and isinstance(plan["trades"], list)
    path = f"/v1/portfolio/rebalance/{plan['plan_id']}/executed"

    read_only = user.token_for("portfolio:read")
    assert user.call("POST", path, token=read_only).status_code == 403
    stale = user.issuer.issue(
        user.id, scope="portfolio:write", amr=("pwd",), auth_time=None,
        client_id="nestegg-cli", mfa=True,
    ).token  # fmt: skip
    assert user.call("POST", path, token=stale).status_code == 401
    intruder = make_user()
    assert intruder.call("POST", path).status_code == 404

    done = user.ok("POST", path)
    assert done["plan_id"] == plan["plan_id"] and done["executed_at"].endswith("Z")
    again = user.call("POST", path)
    assert again.status_code == 409 and again.mimetype == "application/problem+json"

    assert user.call("POST", "/v1/portfolio/rebalance", json={"new_cash": "-5"}).status_code == 422


def test_tlh_scan(linked):
    report = linked.user.ok("POST", "/v1/portfolio/tlh")
    assert {"harvests", "blocked", "estimated_benefit", "benefit_formula"} <= set(report)
    assert isinstance(report["estimated_benefit"], str)


def test_goals_crud_projection_and_bola(linked, make_user):
    user = linked.user
    body = {
        "kind": "retirement",
        "name": "Retire at 60",
        "target_amount": "1000000",
        "target_date": future(),
        "initial_amount": "50000",
        "monthly_contribution": "1500",
    }
    for bad, field in (
        ({"target_date": "2001-01-01"}, "target_date"),
        ({"target_date": "2031-02-30"}, "target_date"),
        ({"target_amount": "-10"}, "target_amount"),
        ({"monthly_contribution": "12.345"}, "monthly_contribution"),
        ({"allocation": {"us_stocks": "0.5"}}, "allocation"),
        ({"kind": "yacht"}, "kind"),
    ):
        response = user.call("POST", "/v1/goals", json={**body, **bad})
        assert response.status_code == 422, (bad, response.get_json())
        assert field in str(response.get_json()["errors"]), response.get_json()

    key = {"Idempotency-Key": "goal-key-0001"}
    goal = user.ok("POST", "/v1/goals", 201, json=body, headers=key)
    assert user.ok("POST", "/v1/goals", 201, json=body, headers=key)["id"] == goal["id"]
    assert goal["target_amount"] == "1000000.00" and goal["glide_path"] is True
    assert [g["id"] for g in user.ok("GET", "/v1/goals")["goals"]] == [goal["id"]]

    path = f"/v1/goals/{goal['id']}"
    changed = user.ok("PATCH", path, json={"monthly_contribution": "2000"})
    assert changed["monthly_contribution"] == "2000.00"
    assert user.call("PATCH", path, json={"target_amount": "0"}).status_code == 422

    projection = user.ok("GET", f"{path}/projection", query_string={"paths": 500, "seed": 7})
    assert projection["paths"] == 500 and projection["percentiles"]
    assert 0 <= projection["success_probability"] <= 1
    too_many = user.call("GET", f"{path}/projection", query_string={"paths": 10**6})
    assert too_many.status_code == 422

    intruder = make_user()
    for method, suffix in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("GET", "/projection")):
        kwargs = {"json": {"name": "mine"}} if method == "PATCH" else {}
        response = intruder.call(method, path + suffix, **kwargs)
        assert response.status_code == 404, (method, suffix, response.get_json())

    user.ok("DELETE", path, 204)
    assert user.call("GET", path).status_code == 404


def test_net_worth_and_returns(linked):
    user = linked.user
    today = dt.date.today()
    start = (today - dt.timedelta(days=30)).isoformat()
    worth = user.ok("GET", "/v1/net-worth", query_string={"start": start, "end": today.isoformat()})
    last = worth["points"][-1]
    assert Decimal(last["net"]) == Decimal(last["assets"]) - Decimal(last["liabilities"])
    assert Decimal(last["assets"]) > 0

    for query in (
        {"start": today.isoformat(), "end": start},  # end before start
        {"start": "2025-02-30", "end": today.isoformat()},  # no such day
        {"start": start},  # end missing
        {"start": start, "end": today.isoformat(), "interval": "hourly"},
    ):
        response = user.call("GET", "/v1/net-worth", query_string=query)
        assert response.status_code == 422, (query, response.get_json())

    # one day of balance history (linked today): the service explains what it needs
    returns = user.call(
        "GET", "/v1/portfolio/returns", query_string={"start": start, "end": today.isoformat()}
    )
    assert returns.status_code == 422, returns.get_json()
    assert "balance history" in returns.get_json()["detail"]
    same_day = user.call(
        "GET", "/v1/portfolio/returns", query_string={"start": start, "end": start}
    )
    assert same_day.status_code == 422


def test_read_only_token_cannot_write(linked):
    user = linked.user
    read_only = user.token_for("portfolio:read")
    for method, path, body in (
        ("PUT", "/v1/portfolio/target-allocation", {"weights": HELD_CLASSES}),
        ("PUT", "/v1/portfolio/tax-profile", {"short_term_rate": "0.2", "long_term_rate": "0.1"}),
        ("POST", "/v1/goals", {"kind": "house"}),
        ("DELETE", "/v1/goals/x", None),
    ):
        response = user.call(method, path, token=read_only, json=body)
        assert response.status_code == 403, (path, response.get_json())
    no_portfolio = user.token_for("accounts:read")
    assert user.call("GET", "/v1/holdings", token=no_portfolio).status_code == 403
