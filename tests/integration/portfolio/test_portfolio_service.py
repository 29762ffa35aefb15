"""The portfolio service in a nameko container against the real test database, broker and Redis.

Events are published as the aggregation / users broker users would; RPCs are called as the
gateway's broker user with tokens signed by a test TokenSigner that the service trusts.
"""

import datetime as dt
import functools
import time
import uuid
from decimal import Decimal

import pytest
from _support.waiting import wait_until as _wait_until
from sqlalchemy import text

from common import rpc as common_rpc
from common.db import make_engine
from common.errors import Conflict, NotFound, StepUpRequired, ValidationFailed
from common.events import EventEnvelope
from common.outbox import kombu_publisher
from common.principal import TokenSigner

pytestmark = pytest.mark.integration
# events cross the broker to a container sharing 2 cores with the rest of the suite: be patient
wait_until = functools.partial(_wait_until, timeout=90.0)
TODAY = dt.datetime.now(dt.UTC).date()
SCOPES = ("portfolio:read", "portfolio:write")


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


@pytest.fixture
def signer(provisioned, monkeypatch):
    signer = TokenSigner(issuer=provisioned.jwt_issuer, audience=provisioned.jwt_audience)
    monkeypatch.setattr(common_rpc, "default_verifier", signer.verifier)
    return signer


@pytest.fixture
def service(run_container, signer):
    from portfolio.service import PortfolioService

    return run_container(PortfolioService, as_service="portfolio")


@pytest.fixture
def rpc(provisioned, service):
    from nameko.standalone.rpc import ClusterRpcProxy

    with ClusterRpcProxy({"AMQP_URI": provisioned.amqp_uri("gateway")}, timeout=60) as cluster:
        yield cluster.portfolio


@pytest.fixture
def publish(provisioned):
    publishers = {}
    envelope = EventEnvelope()

    def send(source, event_type, data, *, event_id=None, occurred_at=None):
        if source not in publishers:
            publishers[source] = kombu_publisher(provisioned.amqp_uri(source))
        body = {
            "event_id": event_id or str(uuid.uuid4()),
            "event_type": event_type,
            "source": source,
            "occurred_at": occurred_at or dt.datetime.now(dt.UTC),
            "request_id": None,
            "user_id": data.get("user_id"),
            "data": data,
        }
        payload = envelope.dump(body)
        publishers[source](source, event_type, payload)
        return payload

    return send


@pytest.fixture
def portfolio_db(provisioned):
    engine = make_engine(provisioned.database_url("portfolio"), pool_size=2)
    yield engine
    engine.dispose()


def outbox_count(engine, user_id, event_type):
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM outbox WHERE event_type = :t AND payload->>'user_id' = :u"),
            {"t": event_type, "u": user_id},
        ).scalar()


def holdings_payload(user_id, *, ira_reported_quantity="10"):
    """A brokerage with a long-term VTI loss and a short-term BND loss, and an IRA that bought
    VTI ten days ago (a wash sale for the brokerage VTI lot that would be lost permanently)."""
    return {
        "user_id": user_id,
        "item_id": f"item-{user_id}",
        "accounts": [
            {"account_id": f"{user_id}-brk", "name": "Brokerage", "type": "investment",
             "subtype": "brokerage", "mask": "1111"},
            {"account_id": f"{user_id}-ira", "name": "IRA", "type": "investment",
             "subtype": "ira", "mask": "2222"},
        ],
        "securities": [
            {"security_id": "sec-vti", "ticker": "VTI", "name": "Vanguard Total Stock Market ETF",
             "type": "etf", "close_price": "200.00", "close_price_as_of": day(0)},
            {"security_id": "sec-bnd", "ticker": "BND", "name": "Vanguard Total Bond Market ETF",
             "type": "etf", "close_price": "70.00", "close_price_as_of": day(-6)},
            {"security_id": "sec-cash", "ticker": "CUR:USD", "name": "US Dollar", "type": "cash",
             "close_price": "1.00", "close_price_as_of": None},
        ],
        "holdings": [
            {"account_id": f"{user_id}-brk", "security_id": "sec-vti", "quantity": "100",
             "cost_basis": "25000.00", "institution_value": "20000.00"},
            {"account_id": f"{user_id}-brk", "security_id": "sec-bnd", "quantity": "201",
             "cost_basis": "15072.00", "institution_value": "14070.00"},
            {"account_id": f"{user_id}-brk", "security_id": "sec-cash", "quantity": "150.25",
             "cost_basis": "150.25", "institution_value": "150.25"},
            {"account_id": f"{user_id}-ira", "security_id": "sec-vti",
             "quantity": ira_reported_quantity, "cost_basis": "2050.00",
             "institution_value": "2000.00"},
        ],
        "investment_transactions": [
            {"investment_transaction_id": f"{user_id}-t0", "account_id": f"{user_id}-brk",
             "security_id": None, "date": day(-500), "type": "cash", "subtype": "deposit",
             "quantity": "0", "price": "1", "amount": "-45000.00", "fees": "0"},
            {"investment_transaction_id": f"{user_id}-t1", "account_id": f"{user_id}-brk",
             "security_id": "sec-vti", "date": day(-400), "type": "buy", "subtype": "buy",
             "quantity": "100", "price": "250.00", "amount": "25000.00", "fees": "0"},
            {"investment_transaction_id": f"{user_id}-t2", "account_id": f"{user_id}-brk",
             "security_id": "sec-bnd", "date": day(-200), "type": "buy", "subtype": "buy",
             "quantity": "200", "price": "75.00", "amount": "15000.00", "fees": "0"},
            {"investment_transaction_id": f"{user_id}-t3", "account_id": f"{user_id}-brk",
             "security_id": "sec-bnd", "date": day(-100), "type": "buy",
             "subtype": "dividend reinvestment", "quantity": "1", "price": "72.00",
             "amount": "72.00", "fees": "0"},
            {"investment_transaction_id": f"{user_id}-t4", "account_id": f"{user_id}-ira",
             "security_id": "sec-vti", "date": day(-10), "type": "buy", "subtype": "buy",
             "quantity": "10", "price": "205.00", "amount": "2050.00", "fees": "0"},
            {"investment_transaction_id": f"{user_id}-t5", "account_id": f"{user_id}-brk",
             "security_id": None, "date": day(-5), "type": "cash", "subtype": "deposit",
             "quantity": "0", "price": "1", "amount": "-5000.00", "fees": "0"},
        ],
    }  # fmt: skip


def balances_payload(user_id, brokerage, checking="5000.00", credit="1200.00"):
    return {
        "user_id": user_id,
        "item_id": f"item-{user_id}",
        "accounts": [
            {"account_id": f"{user_id}-chk", "type": "depository", "subtype": "checking",
             "name": "Checking", "mask": "0001", "current": checking, "available": checking,
             "limit": None, "iso_currency_code": "USD"},
            {"account_id": f"{user_id}-cc", "type": "credit", "subtype": "credit card",
             "name": "Card", "mask": "0002", "current": credit, "available": None,
             "limit": "5000.00", "iso_currency_code": "USD"},
            {"account_id": f"{user_id}-brk", "type": "investment", "subtype": "brokerage",
             "name": "Brokerage", "mask": "1111", "current": brokerage, "available": None,
             "limit": None, "iso_currency_code": "USD"},
        ],
    }  # fmt: skip


@pytest.fixture
def user(signer):
    user_id = f"u-{uuid.uuid4().hex[:12]}"
    return user_id, signer.sign(user_id, scopes=SCOPES)


def ingested(rpc, token, predicate=lambda h: h["accounts"]):
    return wait_until(lambda: (h := rpc.list_holdings(token)) and predicate(h) and h)


def test_holdings_synced_builds_lots_flags_mismatch_and_is_idempotent(
    rpc, publish, user, portfolio_db, provisioned
):
    user_id, token = user
    payload = holdings_payload(user_id, ira_reported_quantity="12")
    envelope = publish("aggregation", "holdings_synced", payload)
    holdings = ingested(rpc, token)
    assert holdings, "holdings_synced was not ingested"
    by_acct = {a["account_id"]: a for a in holdings["accounts"]}
    assert by_acct[f"{user_id}-brk"]["tax_type"] == "taxable"
    assert by_acct[f"{user_id}-ira"]["tax_type"] == "traditional_ira"
    brk = {p["ticker"]: p for p in by_acct[f"{user_id}-brk"]["positions"]}
    assert brk["VTI"]["quantity"] == "100.00" and not brk["VTI"]["mismatch"]
    # the reinvested dividend opened its own lot
    assert [lot["quantity"] for lot in brk["BND"]["lots"]] == ["200.00", "1.00"]
    assert brk["BND"]["cost_basis"] == "15072.00"
    assert brk["VTI"]["lots"][0]["term"] == "long"
    assert brk["CUR:USD"]["market_value"] == "150.25" and not brk["CUR:USD"]["mismatch"]
    # BND's close is six days old: flagged stale (default 3 days)
    assert brk["BND"]["price"]["stale"] is True and "BND" in holdings["stale_prices"]
    assert brk["VTI"]["price"]["stale"] is False
    # the quotes came through the Redis cache, under this deployment's prefix, with a TTL
    import redis

    cache = redis.Redis.from_url(provisioned.redis_url)
    key = f"{provisioned.db_prefix}portfolio:price:provider:VTI"
    assert cache.get(key) is not None and 0 < cache.ttl(key) <= 900
    ira = by_acct[f"{user_id}-ira"]["positions"][0]
    assert ira["mismatch"] is True and holdings["mismatches"] == 1
    [issue] = ira["issues"]
    assert issue["field"] == "quantity"
    assert (Decimal(issue["ours"]), Decimal(issue["reported"])) == (10, 12)

    # replay of the same event and a fresh event with the same data change nothing
    publish("aggregation", "holdings_synced", payload, event_id=envelope["event_id"])
    publish("aggregation", "holdings_synced", payload)
    with portfolio_db.connect() as conn:
        count = lambda: conn.execute(  # noqa: E731
            text("SELECT count(*) FROM inbox WHERE handler LIKE '%on_holdings_synced'"
                 " AND event_id = :e"), {"e": envelope["event_id"]}).scalar()  # fmt: skip
        assert count() == 1
    time.sleep(1.5)
    again = rpc.list_holdings(token)
    assert again["accounts"] == holdings["accounts"]
    with portfolio_db.connect() as conn:
        lots = conn.execute(
            text("SELECT count(*) FROM tax_lots WHERE user_id = :u"), {"u": user_id}
        ).scalar()
        txns = conn.execute(
            text("SELECT count(*) FROM investment_transactions WHERE user_id = :u"),
            {"u": user_id},
        ).scalar()
    assert (lots, txns) == (4, 6)


def test_allocation_drift_event_and_target_sources(rpc, publish, user, portfolio_db):
    user_id, token = user
    publish("aggregation", "holdings_synced", holdings_payload(user_id))
    assert ingested(rpc, token)
    report = rpc.allocation(token)
    assert report["target_source"] == "default"
    classes = {c["asset_class"]: c for c in report["classes"]}
    # VTI 110 x 200 = 22,000 and BND 201 x 70 = 14,070 -> us_stocks 61.0%
    assert report["total_value"] == "36070.00"
    assert Decimal(classes["us_stocks"]["current_weight"]) == pytest.approx(
        Decimal("0.609925"), abs=Decimal("0.000001")
    )
    total = sum(abs(Decimal(c["drift"])) for c in report["classes"]) / 2
    assert Decimal(report["total_drift"]) == pytest.approx(total, abs=Decimal("0.000002"))
    assert report["rebalance_needed"] is True
    assert wait_until(lambda: outbox_count(portfolio_db, user_id, "drift_detected") == 1)

    publish("users", "risk_profile_updated", {"user_id": user_id, "risk_score": 3,
                                              "horizon_years": 5})  # fmt: skip
    assert wait_until(lambda: rpc.allocation(token)["target_source"] == "risk_profile")
    weights = {"us_stocks": "0.6", "us_bonds": "0.4"}
    rpc.set_target_allocation(token, {"weights": weights, "band": "0.05"})
    manual = rpc.allocation(token)
    assert manual["target_source"] == "manual" and Decimal(manual["band"]) == Decimal("0.05")
    assert Decimal(manual["total_drift"]) < Decimal("0.02")
    assert manual["rebalance_needed"] is False
    with pytest.raises(ValidationFailed) as exc:
        rpc.set_target_allocation(token, {"weights": {"us_stocks": "0.6", "us_bonds": "0.3"}})
    assert "sum to 1" in str(exc.value.extra)
    with pytest.raises(ValidationFailed):
        rpc.set_target_allocation(token, {"weights": {"us_stocks": "1.2", "us_bonds": "-0.2"}})

    plan = rpc.rebalance_plan(token, {"band": "0.005"})
    assert plan["rebalance_needed"] is True
    sells = [t for t in plan["trades"] if t["side"] == "sell"]
    assert sells and all(t["asset_class"] == "us_stocks" for t in sells)
    assert Decimal(plan["estimated_tax"]) <= 0  # only loss lots are sold
    with pytest.raises(StepUpRequired):
        rpc.mark_rebalance_executed(token, {"plan_id": plan["plan_id"]})


def test_tlh_scan_blocks_wash_sale_from_ira_and_timer_emits_once(
    rpc, publish, user, portfolio_db, service
):
    from nameko.testing.services import entrypoint_hook

    user_id, token = user
    publish("aggregation", "holdings_synced", holdings_payload(user_id))
    assert ingested(rpc, token)
    rpc.set_tax_profile(token, {"short_term_rate": "0.32", "long_term_rate": "0.15"})
    report = rpc.tlh_scan(token)
    assert [(h["ticker"], h["term"]) for h in report["harvests"]] == [("BND", "short")]
    harvest = report["harvests"][0]
    assert harvest["loss"] == "1000.00" and harvest["replacement"] == "BIV"
    blocked = {b["ticker"]: b["reason"] for b in report["blocked"]}
    assert "VTI" in blocked and "permanently" in blocked["VTI"] and "-ira" in blocked["VTI"]
    assert Decimal(report["estimated_benefit"]) > 0
    assert report["tax_profile"]["short_term_rate"] == "0.32"
    assert "BND" in report["stale_prices"]

    with entrypoint_hook(service, "daily_scan") as scan:
        scan()
        scan()
    assert outbox_count(portfolio_db, user_id, "tlh_opportunity") == 1
    with portfolio_db.connect() as conn:
        data = conn.execute(
            text("SELECT payload->'data' FROM outbox WHERE event_type = 'tlh_opportunity' "
                 "AND payload->>'user_id' = :u"), {"u": user_id}).scalar()  # fmt: skip
    assert data["estimated_benefit"] == report["estimated_benefit"]
    assert [lot["ticker"] for lot in data["lots"]] == ["BND"]
    assert outbox_count(portfolio_db, user_id, "drift_detected") == 1


def test_net_worth_counts_liabilities_and_returns_side_by_side(rpc, publish, user):
    user_id, token = user
    publish("aggregation", "holdings_synced", holdings_payload(user_id))
    assert ingested(rpc, token)
    now = dt.datetime.now(dt.UTC)
    publish("aggregation", "balances_updated", balances_payload(user_id, "30000.00"),
            occurred_at=now - dt.timedelta(days=10))  # fmt: skip
    publish("aggregation", "balances_updated", balances_payload(user_id, "36000.00", credit="800"),
            occurred_at=now)  # fmt: skip

    def points():
        out = rpc.net_worth(token, {"start": day(-12), "end": day(0), "interval": "week"})
        return out if out["points"][-1]["assets"] == "41000.00" else None

    result = wait_until(points)
    assert result, "balances were not ingested"
    first, middle, last = result["points"]
    assert first["date"] == day(-12) and first["net"] == "0.00"
    assert middle["date"] == day(-5)
    assert (middle["assets"], middle["liabilities"]) == ("35000.00", "1200.00")
    assert middle["net"] == "33800.00"
    assert last["liabilities"] == "800.00" and last["net"] == "40200.00"
    assert last["by_type"]["credit"] == "800.00"

    r = rpc.returns(token, {"start": day(-10), "end": day(0), "account_ids": [f"{user_id}-brk"]})
    # 30,000 -> 36,000 with a 5,000 deposit on day -5
    assert Decimal(r["simple"]) == pytest.approx(
        Decimal(1000) / Decimal(35000), abs=Decimal("1e-6")
    )
    assert Decimal(r["time_weighted"]) == pytest.approx(
        Decimal(1000) / Decimal(35000), abs=Decimal("1e-6")
    )
    assert r["money_weighted_annual"] is not None and Decimal(r["money_weighted_annual"]) > 0
    assert day(-5) in r["approximated_days"]
    assert set(r["formulas"]) == {"simple", "time_weighted", "money_weighted"}
    with pytest.raises(NotFound):
        rpc.returns(token, {"start": day(-10), "end": day(0), "account_ids": ["someone-else"]})
    with pytest.raises(ValidationFailed):
        rpc.net_worth(token, {"start": day(0), "end": day(-3)})


def test_goal_crud_projection_validation_and_bola(rpc, publish, user, signer):
    user_id, token = user
    other = signer.sign(f"u-{uuid.uuid4().hex[:12]}", scopes=SCOPES)
    publish("aggregation", "balances_updated", balances_payload(user_id, "20000.00"))
    assert wait_until(
        lambda: (
            rpc.net_worth(token, {"start": day(0), "end": day(0)})["points"][0]["assets"] != "0.00"
        )
    )
    body = {
        "kind": "house",
        "name": "Down payment",
        "target_amount": "60000.00",
        "target_date": day(365 * 5),
        "monthly_contribution": "500.00",
        "contribution_growth": "0.02",
        "linked_account_ids": [f"{user_id}-brk"],
        "allocation": {"us_stocks": "0.5", "us_bonds": "0.5"},
        "idempotency_key": "goal-1",
    }
    goal = rpc.create_goal(token, body)
    assert rpc.create_goal(token, body)["id"] == goal["id"]  # idempotent
    assert goal["target_amount"] == "60000.00" and goal["glide_path"] is False
    assert [g["id"] for g in rpc.list_goals(token)] == [goal["id"]]
    updated = rpc.update_goal(token, {"goal_id": goal["id"], "monthly_contribution": "700"})
    assert updated["monthly_contribution"] == "700.00" and updated["name"] == "Down payment"

    proj = rpc.goal_projection(token, {"goal_id": goal["id"], "paths": 2000, "seed": 7,
                                       "success_probability": 0.8})  # fmt: skip
    assert proj["starting_balance"] == "20000.00" and proj["years"] == 5
    assert len(proj["percentiles"]) == 5
    for row in proj["percentiles"]:
        assert Decimal(row["p10"]) <= Decimal(row["p50"]) <= Decimal(row["p90"])
    assert 0 < proj["success_probability"] < 1 and proj["success_std_error"] > 0
    assert Decimal(proj["required_monthly_contribution"]) > 0
    again = rpc.goal_projection(token, {"goal_id": goal["id"], "paths": 2000, "seed": 7,
                                        "success_probability": 0.8})  # fmt: skip
    assert again["percentiles"] == proj["percentiles"]  # seeded: reproducible
    hist = rpc.goal_projection(token, {"goal_id": goal["id"], "mode": "historical"})
    assert hist["paths"] == 2023 - 1928 + 1 - 5 + 1
    fat = rpc.goal_projection(token, {"goal_id": goal["id"], "mode": "fat_tailed", "paths": 1000})
    assert fat["mode"] == "fat_tailed"

    # user B sees nothing of user A's goal
    for call in (
        lambda: rpc.get_goal(other, {"goal_id": goal["id"]}),
        lambda: rpc.update_goal(other, {"goal_id": goal["id"], "name": "mine"}),
        lambda: rpc.delete_goal(other, {"goal_id": goal["id"]}),
        lambda: rpc.goal_projection(other, {"goal_id": goal["id"]}),
    ):
        with pytest.raises(NotFound):
            call()
    assert rpc.list_goals(other) == []
    with pytest.raises(NotFound):
        rpc.create_goal(other, {**body, "idempotency_key": None,
                                "linked_account_ids": [f"{user_id}-brk"]})  # fmt: skip

    # 422s: negative amount, past date, allocation not summing to one
    for bad in (
        {"target_amount": "-5"},
        {"monthly_contribution": "-1"},
        {"target_date": day(-1)},
        {"allocation": {"us_stocks": "0.7", "us_bonds": "0.2"}},
        {"allocation": {"gold": "1"}},
        {"kind": "yacht"},
        {"target_amount": 100.5},
        {"target_date": "2031-02-30"},
        {"monthly_withdrawal": "1000.00", "retirement_years": 20},  # not a retirement goal
    ):
        with pytest.raises(ValidationFailed):
            rpc.create_goal(token, {**body, "idempotency_key": None, **bad})

    with pytest.raises(ValidationFailed) as exc:  # impossible date on a read, too
        rpc.net_worth(token, {"start": "2025-13-01", "end": day(0)})
    assert "start" in exc.value.extra["errors"]

    # a retirement goal: contributions to the date, then 25 years of withdrawals
    retire = rpc.create_goal(token, {"kind": "retirement", "name": "Retire",
                                     "target_amount": "1.00", "target_date": day(365 * 10),
                                     "initial_amount": "250000.00",
                                     "monthly_contribution": "1000.00",
                                     "monthly_withdrawal": "2500.00", "retirement_years": 25,
                                     "allocation": {"us_stocks": "0.6", "us_bonds": "0.4"}})  # fmt: skip
    assert (retire["monthly_withdrawal"], retire["retirement_years"]) == ("2500.00", 25)
    proj = rpc.goal_projection(token, {"goal_id": retire["id"], "paths": 1000, "seed": 1,
                                       "success_probability": 0.9})  # fmt: skip
    assert proj["success_definition"] == "never running out"
    assert (proj["years"], proj["years_to_goal"]) == (35, 10)
    assert proj["required_contribution_probability"] >= 0.9
    assert proj["required_contribution_std_error"] > 0
    with pytest.raises(ValidationFailed):  # withdrawals need a duration
        rpc.update_goal(token, {"goal_id": retire["id"], "retirement_years": 0})
    rpc.delete_goal(token, {"goal_id": retire["id"]})

    assert rpc.delete_goal(token, {"goal_id": goal["id"]})["deleted"] is True
    with pytest.raises(NotFound):
        rpc.get_goal(token, {"goal_id": goal["id"]})


def test_optimize_reports_and_refuses_infeasible_bounds(rpc, user):
    _, token = user
    result = rpc.optimize(token, {"asset_classes": ["us_stocks", "intl_developed", "us_bonds"],
                                  "objective": "max_sharpe", "class_bounds":
                                  {"us_bonds": [0.2, None]}})  # fmt: skip
    assert sum(result["weights"].values()) == pytest.approx(1.0, abs=Decimal("1e-6"))
    assert result["weights"]["us_bonds"] >= 0.2 - 1e-9
    assert result["sharpe"] > 0 and result["volatility"] > 0
    frontier = rpc.optimize(token, {"tickers": ["VTI", "SCHB", "BND"],
                                    "objective": "efficient_risk", "target": 0.1})  # fmt: skip
    assert frontier["volatility"] == pytest.approx(0.1, abs=Decimal("1e-6"))
    with pytest.raises(ValidationFailed) as exc:
        rpc.optimize(token, {"asset_classes": ["us_stocks", "us_bonds"],
                             "objective": "min_volatility", "bounds": [0, 0.4]})  # fmt: skip
    assert "bounds" in exc.value.extra["errors"]
    with pytest.raises(ValidationFailed):
        rpc.optimize(token, {"tickers": ["NOPE", "VTI"], "objective": "max_sharpe"})
    with pytest.raises(ValidationFailed):
        rpc.optimize(token, {"asset_classes": ["us_stocks", "us_bonds"],
                             "objective": "efficient_return"})  # fmt: skip


def test_rebalance_execution_needs_step_up_and_is_owned(rpc, publish, user, signer):
    user_id, token = user
    publish("aggregation", "holdings_synced", holdings_payload(user_id))
    assert ingested(rpc, token)
    rpc.set_target_allocation(token, {"weights": {"us_stocks": "0.6", "us_bonds": "0.4"}})
    plan = rpc.rebalance_plan(token, {"new_cash": "1000", "cash_account_id": f"{user_id}-brk"})
    buys = [t for t in plan["trades"] if t["side"] == "buy"]
    assert buys and all(t["account_id"] == f"{user_id}-brk" for t in buys)
    fresh = signer.sign(user_id, scopes=SCOPES, amr=("pwd", "otp"))
    stranger = signer.sign("u-stranger", scopes=SCOPES, amr=("pwd", "otp"))
    with pytest.raises(NotFound):
        rpc.mark_rebalance_executed(stranger, {"plan_id": plan["plan_id"]})
    done = rpc.mark_rebalance_executed(fresh, {"plan_id": plan["plan_id"]})
    assert done["plan_id"] == plan["plan_id"]
    with pytest.raises(Conflict):
        rpc.mark_rebalance_executed(fresh, {"plan_id": plan["plan_id"]})
    with pytest.raises(ValidationFailed):
        rpc.rebalance_plan(token, {"new_cash": "-5"})


def test_export_disconnect_and_erasure(rpc, publish, user, signer, portfolio_db):
    """Account export (read scope + recent second factor), ``item_removed`` for one of two
    accounts, then ``user_deleted``: every row goes and a late holdings event is ignored."""
    user_id, token = user
    strong = signer.sign(user_id, scopes=SCOPES, amr=("pwd", "otp"))
    payload = holdings_payload(user_id)
    publish("aggregation", "holdings_synced", payload)
    assert ingested(rpc, token, lambda h: len(h["accounts"]) == 2)
    goal = rpc.create_goal(
        token,
        {
            "kind": "custom",
            "name": "Boat",
            "target_amount": "30000.00",
            "target_date": day(365 * 3),
            "monthly_contribution": "300.00",
            "linked_account_ids": [f"{user_id}-brk", f"{user_id}-ira"],
            "allocation": {"us_stocks": "0.6", "us_bonds": "0.4"},
        },
    )
    with pytest.raises(StepUpRequired):
        rpc.export_user_data(token)
    export = rpc.export_user_data(strong)
    assert {a["account_id"] for a in export["accounts"]} == {f"{user_id}-brk", f"{user_id}-ira"}
    assert export["tax_lots"] and export["goals"][0]["id"] == goal["id"]
    assert all("user_id" not in row for rows in export.values() for row in rows)

    publish(
        "aggregation",
        "item_removed",
        {"user_id": user_id, "item_id": payload["item_id"], "account_ids": [f"{user_id}-ira"]},
    )
    assert wait_until(
        lambda: (
            [a["account_id"] for a in rpc.export_user_data(strong)["accounts"]]
            == [f"{user_id}-brk"]
        )
    )
    after = rpc.export_user_data(strong)
    assert {lot["account_id"] for lot in after["tax_lots"]} == {f"{user_id}-brk"}
    assert after["goals"][0]["linked_account_ids"] == [f"{user_id}-brk"]

    deleted = publish("users", "user_deleted", {"user_id": user_id})

    def erased():
        with portfolio_db.connect() as conn:
            return conn.execute(
                text("SELECT 1 FROM erased_users WHERE user_id = :u"), {"u": user_id}
            ).first()

    assert wait_until(erased), deleted["event_id"]
    assert all(rows == [] for rows in rpc.export_user_data(strong).values())
    late = publish("aggregation", "holdings_synced", holdings_payload(user_id))
    with portfolio_db.connect() as conn:
        assert wait_until(
            lambda: conn.execute(
                text("SELECT 1 FROM inbox WHERE event_id = :e"), {"e": late["event_id"]}
            ).first()
        )
    assert all(rows == [] for rows in rpc.export_user_data(strong).values())
