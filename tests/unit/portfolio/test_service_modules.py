"""Unit tests for the service-level plain modules: ingestion, prices, net worth, returns inputs,
goals, scans and boundary schemas (no broker, no database)."""

import datetime as dt
from decimal import Decimal

import pytest
from marshmallow import ValidationError

from portfolio import (
    goals,
    holdings_ingest,
    networth,
    prices,
    projection,
    scan,
    schemas,
    valuations,
)
from portfolio.errors import InvalidInput
from portfolio.lots import AccountType, ReportedHolding, TxKind

D = Decimal
TODAY = dt.date(2025, 6, 2)  # a Monday


# --- holdings_ingest --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("type_", "subtype", "expected"),
    [
        ("investment", "brokerage", AccountType.TAXABLE),
        ("investment", "ira", AccountType.TRADITIONAL_IRA),
        ("investment", "roth", AccountType.ROTH_IRA),
        ("investment", "401k", AccountType.K401),
        ("investment", "403b", AccountType.K401),
        ("investment", "hsa", AccountType.HSA),
        ("investment", "sep ira", AccountType.TRADITIONAL_IRA),
        ("investment", None, AccountType.TAXABLE),
        ("depository", "checking", None),
        ("credit", "credit card", None),
    ],
)
def test_tax_type_maps_plaid_subtypes(type_, subtype, expected):
    assert holdings_ingest.tax_type(type_, subtype) == expected


def test_credit_and_loan_are_liabilities():
    assert [holdings_ingest.account_kind(t) for t in ("credit", "loan", "depository")] == [
        "liability",
        "liability",
        "asset",
    ]


def txn(i, acct, sec, date, type_, subtype, qty, price, amount=None, fees="0"):
    return {
        "investment_transaction_id": f"t{i}",
        "account_id": acct,
        "security_id": sec,
        "date": dt.date.fromisoformat(date),
        "type": type_,
        "subtype": subtype,
        "quantity": D(qty),
        "price": D(price),
        "amount": D(amount if amount is not None else str(D(qty) * D(price))),
        "fees": D(fees),
    }


TICKERS = {"s-vti": "VTI", "s-bnd": "BND"}


def test_lot_transactions_reinvestment_is_a_purchase_and_sell_quantity_positive():
    raw = [
        txn(1, "a", "s-vti", "2024-01-02", "buy", "buy", "10", "200"),
        txn(2, "a", "s-vti", "2024-03-24", "buy", "dividend reinvestment", "0.5", "210"),
        txn(3, "a", "s-vti", "2024-04-01", "sell", "sell", "-4", "220", "-880"),
        txn(4, "a", None, "2024-04-02", "cash", "deposit", "0", "1", "-100"),
        txn(5, "a", "s-vti", "2024-05-01", "fee", "account fee", "0", "0", "25"),
    ]
    out = holdings_ingest.lot_transactions(raw, TICKERS)
    assert [(t.id, t.kind, t.quantity) for t in out] == [
        ("t1", TxKind.BUY, D(10)),
        ("t2", TxKind.DIVIDEND_REINVEST, D("0.5")),
        ("t3", TxKind.SELL, D(4)),
    ]
    assert all(t.ticker == "VTI" for t in out)


def test_price_falls_back_to_amount_over_quantity():
    [t] = holdings_ingest.lot_transactions(
        [txn(1, "a", "s-bnd", "2024-01-02", "buy", "buy", "4", "0", "300", fees="2")], TICKERS
    )
    assert t.price == D(298) / 4 and t.fees == 2


def test_oversold_history_is_clipped_and_reported():
    raw = [
        txn(1, "a", "s-vti", "2024-01-02", "buy", "buy", "5", "200"),
        txn(2, "a", "s-vti", "2024-02-02", "sell", "sell", "-8", "210"),
        txn(3, "a", "s-bnd", "2024-02-02", "sell", "sell", "-1", "70"),
    ]
    txs, issues = holdings_ingest.clip_oversold(holdings_ingest.lot_transactions(raw, TICKERS))
    assert [(t.id, t.quantity) for t in txs] == [("t1", D(5)), ("t2", D(5))]
    assert len(issues) == 2 and "exceeds" in issues[0]["detail"]


def test_rebuild_reconciles_and_flags_mismatches_both_ways():
    raw = [
        txn(1, "brk", "s-vti", "2024-01-02", "buy", "buy", "10", "200"),
        txn(2, "brk", "s-bnd", "2024-01-03", "buy", "buy", "5", "70"),
    ]
    txs = holdings_ingest.lot_transactions(raw, TICKERS)
    types = {"brk": AccountType.TAXABLE}
    reported = [
        ReportedHolding("brk", "VTI", D(10), D(2000)),
        ReportedHolding("brk", "BND", D(6), D(420)),
        ReportedHolding("brk", "VEA", D(3), None),
    ]
    cash = [ReportedHolding("brk", "CUR:USD", D("12.5"), D("12.5"))]
    rebuilt = holdings_ingest.rebuild(txs, types, reported, cash=cash)
    rows = {p.ticker: p for p in rebuilt.positions}
    assert not rows["VTI"].mismatch
    assert {i["field"] for i in rows["BND"].issues} == {"quantity", "cost_basis"}
    assert rows["VEA"].mismatch and rows["VEA"].quantity == 0
    assert not rows["CUR:USD"].mismatch and rows["CUR:USD"].quantity == D("12.5")


def test_rebuild_applies_a_wash_sale_in_synced_history_to_the_replacement_lot():
    # brokerage: 10 VTI bought at 250, sold at 200 (loss 500); a dividend reinvested in the
    # IRA 10 days later buys 1 share (lost for good) and the brokerage buys 5 back 20 days later
    raw = [
        txn(1, "brk", "s-vti", "2024-01-02", "buy", "buy", "10", "250"),
        txn(2, "brk", "s-vti", "2024-03-01", "sell", "sell", "-10", "200", "-2000"),
        txn(3, "ira", "s-vti", "2024-03-11", "buy", "dividend reinvestment", "1", "205"),
        txn(4, "brk", "s-vti", "2024-03-21", "buy", "buy", "5", "210"),
    ]
    types = {"brk": AccountType.TAXABLE, "ira": AccountType.TRADITIONAL_IRA}
    reported = [
        ReportedHolding("brk", "VTI", D(5), D(1050)),  # the broker ignores the wash sale
        ReportedHolding("ira", "VTI", D(1), D(205)),
    ]
    rebuilt = holdings_ingest.rebuild(
        holdings_ingest.lot_transactions(raw, TICKERS), types, reported
    )
    [sale] = rebuilt.book.realized
    assert sale.wash_sale_disallowed == D(300)  # 6 of 10 shares replaced x $50
    assert rebuilt.book.permanently_disallowed == D(50)  # the IRA share
    [brk_lot] = rebuilt.book.open_lots("brk")
    assert brk_lot.cost_basis == D(1050) + D(250)  # 5 shares x $50 deferred into the basis
    assert brk_lot.acquired < dt.date(2024, 3, 21)  # holding period tacked on
    rows = {(p.account_id, p.ticker): p for p in rebuilt.positions}
    brk = rows[("brk", "VTI")]
    assert brk.mismatch and brk.issues[0]["field"] == "cost_basis"
    assert D(brk.issues[0]["difference"]) == D(250)  # flagged, not hidden
    assert not rows[("ira", "VTI")].mismatch


def test_rebuild_ignores_transactions_of_unknown_accounts():
    raw = [txn(1, "elsewhere", "s-vti", "2024-01-02", "buy", "buy", "1", "1")]
    rebuilt = holdings_ingest.rebuild(
        holdings_ingest.lot_transactions(raw, TICKERS), {"brk": AccountType.TAXABLE}, []
    )
    assert rebuilt.positions == []


# --- prices -----------------------------------------------------------------------------------
class FakeRedis:
    def __init__(self):
        self.data, self.ttl, self.down = {}, {}, False

    def mget(self, keys):
        if self.down:
            raise ConnectionError("down")
        return [self.data.get(k) for k in keys]

    def pipeline(self):
        return self

    def set(self, key, value, ex):
        self.data[key], self.ttl[key] = value, ex

    def execute(self):
        if self.down:
            raise ConnectionError("down")

    def delete(self, *keys):
        for k in keys:
            self.data.pop(k, None)


class CountingFeed:
    name = "counting"

    def __init__(self):
        self.calls = []

    def closes(self, tickers, today):
        self.calls.append(sorted(tickers))
        return {t: prices.Quote(t, D("10.5"), today, self.name) for t in tickers if t != "NONE"}


def test_cache_serves_repeats_from_redis_with_ttl_and_invalidates():
    redis, feed = FakeRedis(), CountingFeed()
    cached = prices.CachedFeed(feed, redis, ttl=60)
    first = cached.closes(["vti", "NONE"], TODAY)
    second = cached.closes(["VTI"], TODAY)
    assert first == second == {"VTI": prices.Quote("VTI", D("10.5"), TODAY, "counting")}
    assert feed.calls == [["NONE", "VTI"]]
    assert set(redis.ttl.values()) == {60}
    cached.invalidate(["VTI"])
    cached.closes(["VTI"], TODAY)
    assert feed.calls[-1] == ["VTI"]


def test_cache_outage_falls_through_to_the_feed():
    redis, feed = FakeRedis(), CountingFeed()
    redis.down = True
    out = prices.CachedFeed(feed, redis, ttl=60).closes(["VTI"], TODAY)
    assert out["VTI"].price == D("10.5")


def test_ttl_must_be_positive():
    with pytest.raises(ValueError, match="TTL"):
        prices.CachedFeed(CountingFeed(), FakeRedis(), ttl=0)


def test_provider_feed_and_staleness_flags():
    feed = prices.ProviderCloseFeed(
        lambda tickers: {
            "VTI": (D("200"), TODAY - dt.timedelta(days=1)),
            "BND": (D("70"), TODAY - dt.timedelta(days=5)),
            "OLD": (D("1"), None),
            "BAD": (D("0"), TODAY),
        }
    )
    quotes = feed.closes(["VTI", "BND", "OLD", "BAD"], TODAY)
    assert set(quotes) == {"VTI", "BND", "OLD"}
    table = prices.quote_table(quotes, TODAY, max_age_days=3)
    assert [table[t]["stale"] for t in ("VTI", "BND", "OLD")] == [False, True, True]
    assert table["OLD"]["as_of"] is None


def test_simulated_feed_is_deterministic_positive_and_uses_fridays_close():
    feed = prices.SimulatedFeed()
    saturday = dt.date(2025, 6, 7)
    a = feed.closes(["VTI", "BND", "CUR:USD"], saturday)
    b = prices.SimulatedFeed().closes(["VTI", "BND"], saturday)
    assert a == b and "CUR:USD" not in a
    assert a["VTI"].as_of == dt.date(2025, 6, 6) and a["VTI"].price > 0
    assert a["VTI"].price != a["BND"].price


def test_feed_from_config_refuses_unknown_names(monkeypatch):
    monkeypatch.setenv("NESTEGG_PRICE_FEED", "magic")
    with pytest.raises(ValueError, match="NESTEGG_PRICE_FEED"):
        prices.feed_from_config(lambda t: {})
    monkeypatch.setenv("NESTEGG_PRICE_FEED", "simulated")
    assert prices.feed_from_config(lambda t: {}).name == "simulated"


# --- net worth --------------------------------------------------------------------------------
ACCOUNTS = {
    "chk": networth.AccountInfo("depository", "asset"),
    "cc": networth.AccountInfo("credit", "liability"),
    "loan": networth.AccountInfo("loan", "liability"),
}


def snap(acct, offset, amount):
    return networth.Snapshot(acct, TODAY + dt.timedelta(days=offset), D(amount))


def test_net_worth_carries_balances_forward_and_subtracts_liabilities():
    snaps = [
        snap("chk", -3, "1000"),
        snap("cc", -3, "200"),
        snap("chk", -1, "1500"),
        snap("loan", -1, "10000"),
        snap("cc", 0, "-50"),  # overpaid card: an asset
    ]
    out = networth.series(snaps, ACCOUNTS, TODAY - dt.timedelta(days=4), TODAY)
    assert [p["net"] for p in out] == [D(0), D(800), D(800), D(-8700), D(-8450)]
    assert out[-1]["assets"] == D(1550) and out[-1]["liabilities"] == D(10000)
    assert out[-1]["by_type"] == {"credit": D(-50), "depository": D(1500), "loan": D(10000)}


def test_net_worth_points_and_bad_ranges():
    assert networth.points(dt.date(2025, 1, 31), dt.date(2025, 4, 15), "month") == [
        dt.date(2025, 1, 31),
        dt.date(2025, 2, 28),
        dt.date(2025, 3, 31),
        dt.date(2025, 4, 15),
    ]
    with pytest.raises(InvalidInput, match="interval"):
        networth.points(TODAY, TODAY, "hour")
    with pytest.raises(InvalidInput, match="end"):
        networth.points(TODAY, TODAY - dt.timedelta(days=1), "day")
    with pytest.raises(InvalidInput, match="wider interval"):
        networth.points(dt.date(2000, 1, 1), dt.date(2025, 1, 1), "day")


# --- valuations (returns inputs) --------------------------------------------------------------
def test_external_flows_use_plaid_signs_and_skip_dividends():
    raw = [
        {"account_id": "a", "date": TODAY, "type": "cash", "subtype": "deposit", "amount": "-500"},
        {"account_id": "a", "date": TODAY, "type": "cash", "subtype": "withdrawal", "amount": "20"},
        {"account_id": "a", "date": TODAY, "type": "cash", "subtype": "dividend", "amount": "-9"},
        {"account_id": "a", "date": TODAY, "type": "fee", "subtype": "account fee", "amount": "5"},
    ]
    assert [f.amount for f in valuations.external_flows(raw)] == [D(500), D(-20)]


def test_returns_with_a_flow_between_snapshots_are_approximated_and_named():
    snaps = [snap("a", -10, "30000"), snap("a", 0, "36000"), snap("b", -10, "999")]
    flows = [valuations.Flow("a", TODAY - dt.timedelta(days=5), D(5000))]
    report = valuations.compute(snaps, flows, ["a"], TODAY - dt.timedelta(days=10), TODAY)
    r = report.returns
    assert r.simple == (D(1000) / D(35000)).quantize(D("0.000001"))
    assert r.time_weighted == r.simple
    assert report.approximated_days == [TODAY - dt.timedelta(days=5)]
    assert r.money_weighted_annual > r.time_weighted  # annualised over 10 days


def test_returns_start_moves_to_first_snapshot_and_refuses_empty_history():
    snaps = [snap("a", -3, "100"), snap("a", 0, "110")]
    report = valuations.compute(snaps, [], ["a"], TODAY - dt.timedelta(days=30), TODAY)
    assert report.returns.start == TODAY - dt.timedelta(days=3)
    assert report.returns.simple == D("0.1")
    with pytest.raises(InvalidInput, match="no balance history"):
        valuations.compute([], [], ["a"], TODAY - dt.timedelta(days=3), TODAY)
    with pytest.raises(InvalidInput, match="two days"):
        valuations.compute([snap("a", 0, "1")], [], ["a"], TODAY - dt.timedelta(days=3), TODAY)
    with pytest.raises(InvalidInput, match="account_ids"):
        valuations.compute(snaps, [], [], TODAY - dt.timedelta(days=3), TODAY)


# --- goals ------------------------------------------------------------------------------------
GOAL = {
    "target_date": TODAY.replace(year=TODAY.year + 10),
    "target_amount": D(100000),
    "monthly_contribution": D(500),
    "contribution_growth": D("0.02"),
    "allocation": {"us_stocks": "0.6", "us_bonds": "0.4"},
}


def test_projection_is_seeded_ordered_and_more_money_means_more_success():
    a = goals.project_goal(GOAL, starting_balance=D(10000), risk_score=None, today=TODAY,
                           paths=1000, seed=3)  # fmt: skip
    b = goals.project_goal(GOAL, starting_balance=D(10000), risk_score=None, today=TODAY,
                           paths=1000, seed=3)  # fmt: skip
    rich = goals.project_goal(GOAL, starting_balance=D(80000), risk_score=None, today=TODAY,
                              paths=1000, seed=3)  # fmt: skip
    assert a == b and a["years"] == 10 and len(a["percentiles"]) == 10
    assert all(r["p10"] <= r["p50"] <= r["p90"] for r in a["percentiles"])
    assert rich["success_probability"] > a["success_probability"]
    assert rich["required_monthly_contribution"] < a["required_monthly_contribution"]
    assert a["allocation_basis"] == "fixed allocation"


def test_glide_path_uses_risk_score_and_default_when_missing():
    g = {**GOAL, "allocation": None}
    with_score = goals.project_goal(g, starting_balance=D(0), risk_score=9, today=TODAY,
                                    paths=500, mode="historical")  # fmt: skip
    default = goals.project_goal(g, starting_balance=D(0), risk_score=None, today=TODAY,
                                 paths=500, mode="fat_tailed")  # fmt: skip
    assert with_score["allocation_basis"] == "glide path, risk score 9"
    assert default["allocation_basis"].endswith("(default)")
    assert sum(with_score["allocation"].values()) == pytest.approx(D(1), abs=D("0.001"))
    assert with_score["paths"] == 96 - 10 + 1


def test_glide_path_steps_equity_down_year_by_year_inside_the_simulation():
    g = {**GOAL, "allocation": None}
    report = goals.project_goal(g, starting_balance=D(10000), risk_score=9, today=TODAY,
                                paths=500, seed=1)  # fmt: skip
    shares = [row["equity_share"] for row in report["glide_path"]]
    assert len(shares) == report["years"] == 10
    assert shares[0] == pytest.approx(0.7) and shares[-1] == pytest.approx(0.25)  # 20% + 5%/yr left
    assert all(b <= a for a, b in zip(shares, shares[1:], strict=False))
    # the simulation uses the glide, not a fixed mix: equal to a run with the same yearly path
    yearly = goals.glide_schedule(9, 10, 10)
    a = projection.glide_assumptions(yearly)
    plan = projection.Plan(10000.0, 10, 500.0, 0.02, goal=100000.0)
    direct = projection.project(plan, a, paths=500, seed=1)
    assert report["success_probability"] == round(direct.success_probability, 6)
    fixed = goals.project_goal({**GOAL, "allocation": {k: str(v) for k, v in
                                report["allocation"].items()}}, starting_balance=D(10000),
                               risk_score=9, today=TODAY, paths=500, seed=1)  # fmt: skip
    assert fixed["glide_path"] is None
    # de-risking lowers the spread of outcomes at the goal date
    last = lambda r: r["percentiles"][-1]["p90"] - r["percentiles"][-1]["p10"]  # noqa: E731
    assert last(report) < last(fixed)


def test_glide_path_in_historical_mode_uses_yearly_stock_shares():
    g = {**GOAL, "allocation": None}
    report = goals.project_goal(g, starting_balance=D(10000), risk_score=9, today=TODAY,
                                mode="historical")  # fmt: skip
    shares = [row["equity_share"] for row in report["glide_path"]]
    plan = projection.Plan(10000.0, 10, 500.0, 0.02, goal=100000.0)
    assert report["success_probability"] == round(
        projection.historical(plan, shares).success_probability, 6
    )
    assert report["success_probability"] != round(
        projection.historical(plan, shares[0]).success_probability, 6
    )


RETIREMENT = {**GOAL, "kind": "retirement", "allocation": {"us_stocks": "0.6", "us_bonds": "0.4"},
              "monthly_withdrawal": D(2500), "retirement_years": 25}  # fmt: skip


def test_retirement_goal_projects_withdrawals_and_success_is_never_running_out():
    r = goals.project_goal(RETIREMENT, starting_balance=D(300000), risk_score=None,
                           today=TODAY, paths=1000, seed=2)  # fmt: skip
    assert (r["years"], r["years_to_goal"]) == (35, 10) and len(r["percentiles"]) == 35
    assert r["success_definition"] == "never running out"
    frugal = goals.project_goal({**RETIREMENT, "monthly_withdrawal": D(1000)},
                                starting_balance=D(300000), risk_score=None, today=TODAY,
                                paths=1000, seed=2)  # fmt: skip
    assert frugal["success_probability"] > r["success_probability"]
    # balances fall once withdrawals start (median, today's dollars)
    p50 = [row["p50"] for row in r["percentiles"]]
    assert max(p50) == max(p50[8:12]) and p50[-1] < p50[10]
    hist = goals.project_goal(RETIREMENT, starting_balance=D(300000), risk_score=None,
                              today=TODAY, mode="historical")  # fmt: skip
    assert hist["paths"] == 96 - 35 + 1 and 0 <= hist["success_probability"] <= 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"monthly_withdrawal": D(100), "retirement_years": 0}, "retirement_years"),
        ({"monthly_withdrawal": D(0), "retirement_years": 20}, "retirement_years"),
        ({"kind": "house"}, "monthly_withdrawal"),
        (
            {"retirement_years": 60, "target_date": TODAY.replace(year=TODAY.year + 45)},
            "retirement_years",
        ),
        ({"retirement_years": 61}, "retirement_years"),
    ],
)
def test_retirement_fields_are_checked(changes, field):
    with pytest.raises(InvalidInput) as exc:
        goals.project_goal({**RETIREMENT, **changes}, starting_balance=D(0), risk_score=None,
                           today=TODAY, paths=100)  # fmt: skip
    assert exc.value.field == field


def test_required_contribution_reports_its_probability_and_sampling_error():
    r = goals.project_goal(GOAL, starting_balance=D(10000), risk_score=None, today=TODAY,
                           paths=2000, seed=5, success_probability=0.8)  # fmt: skip
    assert r["required_contribution_paths"] == 2000
    p, se = r["required_contribution_probability"], r["required_contribution_std_error"]
    assert p >= 0.8 and se == pytest.approx((p * (1 - p) / 2000) ** 0.5, abs=1e-6)
    # the search stops within $1: a dollar less misses the target on the same paths
    a = projection.assumptions_for({"us_stocks": 0.6, "us_bonds": 0.4})
    less = float(r["required_monthly_contribution"]) - 1.0
    real, alive = projection.simulate(
        projection.Plan(10000.0, 10, less, 0.02, goal=100000.0), a, paths=2000, seed=5
    )
    assert ((real[-1] >= 100000.0) & alive).mean() < 0.8


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"mode": "lucky"}, "mode"),
        ({"paths": 10}, "paths"),
        ({"success_probability": 1.0}, "success_probability"),
        ({"starting_balance": D(-1)}, "starting_balance"),
    ],
)
def test_projection_refuses_bad_input(kwargs, field):
    args = {"starting_balance": D(0), "risk_score": None, "today": TODAY, **kwargs}
    with pytest.raises(InvalidInput) as exc:
        goals.project_goal(GOAL, **args)
    assert exc.value.field == field


def test_past_target_date_and_bad_weights_are_refused():
    with pytest.raises(InvalidInput, match="future"):
        goals.years_until(TODAY, TODAY)
    with pytest.raises(InvalidInput, match="sum to 1"):
        goals.check_weights({"us_stocks": D("0.5")})
    with pytest.raises(InvalidInput, match="unknown asset class"):
        goals.check_weights({"gold": D(1)})
    with pytest.raises(InvalidInput, match="negative"):
        goals.check_weights({"us_stocks": D("1.5"), "us_bonds": D("-0.5")})


# --- scan -------------------------------------------------------------------------------------
class Row:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def test_target_sources_in_order_of_precedence():
    manual = Row(weights={"us_stocks": "1"}, band=None)
    risk = Row(risk_score=2, horizon_years=30)
    assert scan.target_for(manual, risk).source == "manual"
    assert scan.target_for(None, risk).source == "risk_profile"
    t = scan.target_for(None, None)
    assert t.source == "default" and sum(t.weights.values()) == 1


def test_allocation_report_drift_is_half_the_absolute_differences():
    from portfolio.lots import Lot

    lots = [
        Lot("l1", "a", "VTI", D(10), D(1000), TODAY, "l1"),
        Lot("l2", "a", "BND", D(10), D(1000), TODAY, "l2"),
        Lot("l3", "a", "ODD", D(1), D(1), TODAY, "l3"),
        Lot("l4", "a", "NOPRICE", D(1), D(1), TODAY, "l4"),
    ]
    target = scan.Target({"us_stocks": D("0.5"), "us_bonds": D("0.5")}, "manual", D("0.03"))
    report = scan.allocation_report(
        lots, {"VTI": D(150), "BND": D(50), "ODD": D(7)}, target
    )  # 1500 vs 500
    assert report["total_drift"] == D("0.25") and report["rebalance_needed"]
    assert report["unclassified"] == {"ODD": D("7.00")} and report["unpriced"] == ["NOPRICE"]
    event = scan.drift_event("u1", report)
    assert event["total_drift"] == "0.250000" and len(event["classes"]) == 2
    calm = scan.allocation_report(lots[:2], {"VTI": D(100), "BND": D(100)}, target)
    assert calm["total_drift"] == 0 and scan.drift_event("u1", calm) is None


def test_tax_situation_defaults_and_this_years_realised_gains():
    from portfolio.lots import RealizedGain

    gains = [
        RealizedGain("l", "a", "VTI", D(1), D(150), D(100), TODAY, TODAY, False, "s"),
        RealizedGain("l", "a", "VTI", D(1), D(90), D(100), TODAY, TODAY, True, "s"),
        RealizedGain("l", "a", "VTI", D(1), D(500), D(100), TODAY, TODAY.replace(year=2024),
                     False, "s"),
    ]  # fmt: skip
    default = scan.tax_situation(None, gains, TODAY)
    assert default.source == "default" and default.rates.short_term == D("0.24")
    assert (default.realized_short, default.realized_long) == (D(50), D(-10))
    stored = Row(short_term_rate=D("0.35"), long_term_rate=D("0.2"), carryforward=D(100),
                 realized_short_term_ytd=D(5), realized_long_term_ytd=D(7),
                 married_filing_separately=True)  # fmt: skip
    s = scan.tax_situation(stored, gains, TODAY)
    assert s.rates.ordinary_offset_limit == 1500 and s.realized_long == D(-3)


def test_fingerprint_ignores_order():
    assert scan.fingerprint(["b", "a"]) == scan.fingerprint(["a", "b"]) != scan.fingerprint(["a"])


# --- schemas ----------------------------------------------------------------------------------
def test_goal_schema_refuses_floats_negatives_past_dates_and_unknown_fields():
    base = {"kind": "house", "name": "x", "target_amount": "100.00",
            "target_date": (dt.date.today() + dt.timedelta(days=400)).isoformat()}  # fmt: skip
    assert schemas.GoalFields().load(base)["monthly_contribution"] == 0
    for bad in (
        {"target_amount": 100.0},
        {"target_amount": "-1"},
        {"target_amount": "1.001"},
        {"target_date": "2001-01-01"},
        {"allocation": {"us_stocks": "0.9"}},
        {"owner": "someone"},
        {"target_date": "2031-02-30"},  # impossible date
        {"monthly_withdrawal": "2000.00", "retirement_years": 20},  # a house goal
        {"kind": "retirement", "monthly_withdrawal": "2000.00"},  # for how long?
        {"kind": "retirement", "monthly_withdrawal": "-5", "retirement_years": 20},
        {"kind": "retirement", "monthly_withdrawal": "5", "retirement_years": 61},
    ):
        with pytest.raises(ValidationError):
            schemas.GoalFields().load({**base, **bad})
    ok = {**base, "kind": "retirement", "monthly_withdrawal": "2000", "retirement_years": 25}
    loaded = schemas.GoalFields().load(ok)
    assert (loaded["monthly_withdrawal"], loaded["retirement_years"]) == (D(2000), 25)
    # a partial update may change one of the two; the stored goal is checked by goal_store
    assert schemas.GoalUpdateIn().load({"goal_id": "g", "monthly_withdrawal": "1"}) == {
        "goal_id": "g",
        "monthly_withdrawal": D(1),
    }


def test_goal_update_is_partial_but_needs_an_id():
    assert schemas.GoalUpdateIn().load({"goal_id": "g", "name": "y"}) == {"goal_id": "g",
                                                                           "name": "y"}  # fmt: skip
    with pytest.raises(ValidationError):
        schemas.GoalUpdateIn().load({"name": "y"})
    with pytest.raises(ValidationError):
        schemas.GoalUpdateIn().load({"goal_id": "g", "idempotency_key": "k"})


def test_optimize_schema_needs_one_universe_and_targets():
    ok = {"asset_classes": ["us_stocks", "us_bonds"], "objective": "max_sharpe"}
    assert schemas.OptimizeIn().load(ok)["objective"] == "max_sharpe"
    for bad in (
        {**ok, "tickers": ["VTI", "BND"]},
        {"objective": "max_sharpe"},
        {**ok, "objective": "efficient_risk"},
        {**ok, "bounds": [0, 0.5, 1]},
        {**ok, "objective": "max_returns"},
    ):
        with pytest.raises(ValidationError):
            schemas.OptimizeIn().load(bad)


def test_holdings_synced_reader_tolerates_extra_fields_but_not_float_money():
    data = {"user_id": "u", "new_field": 1, "holdings": [
        {"account_id": "a", "security_id": "s", "quantity": "1.5", "extra": True}]}  # fmt: skip
    assert schemas.HoldingsSynced().load(data)["holdings"][0]["quantity"] == D("1.5")
    with pytest.raises(ValidationError):
        schemas.HoldingsSynced().load(
            {"user_id": "u", "holdings": [{"account_id": "a", "security_id": "s", "quantity": 1.5}]}
        )


def test_plain_output_trims_decimals_and_formats_dates():
    out = schemas.plain({"a": D("100.00000000"), "b": [D("0.3200")], "d": TODAY, "n": None})
    assert out == {"a": "100.00", "b": ["0.32"], "d": "2025-06-02", "n": None}
    with pytest.raises(ValueError):
        schemas.plain(D("NaN"))
    with pytest.raises(ValueError):
        schemas.plain(dt.datetime(2025, 1, 1))


def test_readers_accept_the_aggregation_contract_shapes():
    from common.contracts import aggregation as contract

    balances = {
        "user_id": "u",
        "item_id": "i",
        "as_of": "2025-06-02T23:30:00Z",
        "accounts": [
            {
                "account_id": "a",
                "type": "credit",
                "subtype": None,
                "name": "Card",
                "mask": None,
                "current": "12.00",
                "available": None,
                "limit": None,
                "iso_currency_code": "USD",
            }
        ],
    }
    assert contract.BalancesUpdated().load(balances)  # the producer's own schema agrees
    loaded = schemas.BalancesUpdated().load(balances)
    assert loaded["as_of"].date() == dt.date(2025, 6, 2)
    txn = {
        "investment_transaction_id": "t",
        "account_id": "a",
        "security_id": None,
        "date": "2025-06-02",
        "name": "FEE",
        "type": None,
        "subtype": None,
        "quantity": None,
        "price": None,
        "amount": None,
        "fees": None,
        "iso_currency_code": "USD",
    }
    holdings = {
        "user_id": "u",
        "item_id": "i",
        "as_of": "2025-06-02T23:30:00Z",
        "accounts": [],
        "securities": [],
        "holdings": [],
        "investment_transactions": [txn],
    }
    assert contract.HoldingsSynced().load(holdings)
    data = schemas.HoldingsSynced().load(holdings)
    assert holdings_ingest.lot_transactions(data["investment_transactions"], {}) == []
