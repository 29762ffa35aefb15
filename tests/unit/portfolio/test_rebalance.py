"""Drift and tax-aware rebalancing."""

import datetime as dt
from decimal import Decimal as D

import pytest

from portfolio.allocation import equity_share, glide_path, target_allocation
from portfolio.errors import InvalidInput
from portfolio.lots import AccountType, InvestmentTransaction, Lot, RealizedGain, TxKind
from portfolio.rebalance import drift, plan_rebalance
from portfolio.tlh import TaxRates

TODAY = dt.date(2024, 6, 15)
RATES = TaxRates(D("0.35"), D("0.15"))
ACCTS = {"tax": AccountType.TAXABLE, "ira": AccountType.TRADITIONAL_IRA}
PRICES = {"VTI": D(100), "SCHB": D(50), "ITOT": D(100), "BND": D(50), "BIV": D(50), "IUSB": D(50)}
TARGET = {"us_stocks": D("0.6"), "us_bonds": D("0.4")}


def lot(id, ticker, qty, basis, acquired=dt.date(2020, 1, 2), acct="tax"):
    return Lot(id, acct, ticker, D(qty), D(basis), acquired, opened_by=id)


def test_drift_is_half_the_sum_of_absolute_differences():
    dr = drift({"a": D(70), "b": D(30)}, {"a": D("0.6"), "b": D("0.4")})
    assert dr.per_class == {"a": D("0.1"), "b": D("-0.1")}
    assert dr.total == D("0.1")
    dr = drift({"a": D(50), "b": D(25), "c": D(25)}, {"a": D("0.5"), "b": D("0.5")})
    assert dr.total == D("0.25")
    with pytest.raises(InvalidInput, match="sum to 1"):
        drift({"a": D(1)}, {"a": D("0.9")})
    with pytest.raises(InvalidInput, match="negative"):
        drift({"a": D(-1)}, {"a": D(1)})


def test_within_band_only_new_cash_is_invested_in_underweight_class():
    lots = [lot("s", "VTI", "61", "5000"), lot("b", "BND", "78", "3900")]  # 6100 / 3900 -> drift 1%
    p = plan_rebalance(lots, PRICES, ACCTS, TARGET, today=TODAY, rates=RATES, cash={"tax": D(1000)})
    assert not p.rebalanced
    buys = [(t.ticker, t.amount) for t in p.trades]
    assert buys[0][0] == "BND" and buys[0][1] == D(500)  # bonds short by 500 of 11,000 x 40%
    assert sum(t.amount for t in p.trades) <= D(1000)
    assert p.drift_after.total < p.drift_before.total


def test_sells_cheapest_tax_lots_first():
    # stocks 9000 (target 6000 of 10000): sell 3000.  Lot order by tax cost per dollar:
    lots = [
        lot("st_gain", "VTI", "10", "500", acquired=dt.date(2024, 3, 1)),  # ST gain
        lot("lt_gain", "VTI", "20", "1000"),  # LT gain
        lot("lt_loss", "VTI", "20", "2400"),  # LT loss
        lot("st_loss", "VTI", "10", "1300", acquired=dt.date(2024, 2, 1)),  # ST loss
        lot("ira", "VTI", "30", "100", acct="ira"),  # gain, but tax-free in the IRA
        lot("bonds", "BND", "20", "1000"),
    ]
    p = plan_rebalance(lots, PRICES, ACCTS, TARGET, today=TODAY, rates=RATES)
    sells = [t for t in p.trades if t.side == "sell"]
    assert [t.lot_id for t in sells] == ["st_loss", "lt_loss"]
    assert sells[0].estimated_tax == D("-105.00")  # -300 x 35%
    assert sells[1].estimated_tax == D("-60.00")  # -400 x 15%
    assert sum(t.amount for t in sells) == D(3000)
    buys = [t for t in p.trades if t.side == "buy"]
    assert {t.ticker for t in buys} == {"BND"} and {t.account_id for t in buys} == {"tax"}
    assert p.drift_after.total < D("0.001")


def test_prefers_tax_advantaged_account_for_gains():
    lots = [
        lot("lt_gain", "VTI", "40", "1000"),
        lot("ira", "VTI", "50", "100", acct="ira"),
        lot("b", "BND", "20", "1000"),
    ]
    p = plan_rebalance(lots, PRICES, ACCTS, TARGET, today=TODAY, rates=RATES)
    sells = [t for t in p.trades if t.side == "sell"]
    assert sells[0].lot_id == "ira" and sells[0].estimated_tax == 0
    buys = [t for t in p.trades if t.side == "buy"]
    assert buys and all(t.account_id == "ira" for t in buys)


def test_never_creates_a_wash_sale():
    lots = [
        lot("loss", "VTI", "50", "6000"),  # loss lot
        lot("gain", "SCHB", "80", "2000"),  # gain lot in same class (4000 value)
        lot("b", "BND", "20", "1000"),
    ]
    recent = [
        InvestmentTransaction(
            "p", "ira", "VTI", TODAY - dt.timedelta(days=5), TxKind.BUY, D(1), D(100)
        )
    ]
    p = plan_rebalance(lots, PRICES, ACCTS, TARGET, today=TODAY, rates=RATES, history=recent)
    sold = {t.lot_id for t in p.trades if t.side == "sell"}
    assert "loss" not in sold and "gain" in sold
    # and never buys back something sold at a loss in the last 30 days
    lots2 = [lot("s", "VTI", "30", "2000"), lot("b", "BIV", "20", "1000")]
    loss_sale = RealizedGain(
        "x",
        "tax",
        "BND",
        D(1),
        D(40),
        D(60),
        dt.date(2023, 1, 1),
        TODAY - dt.timedelta(days=3),
        True,
        "s",
    )
    p2 = plan_rebalance(
        lots2, PRICES, ACCTS, TARGET, today=TODAY, rates=RATES, realized=[loss_sale]
    )
    assert {t.ticker for t in p2.trades if t.side == "buy"} == {"BIV"}


def test_rebalance_bad_input():
    with pytest.raises(InvalidInput, match="cash"):
        plan_rebalance([], PRICES, ACCTS, TARGET, today=TODAY, rates=RATES, cash={"tax": D(-1)})
    with pytest.raises(InvalidInput, match="positive price"):
        plan_rebalance([lot("x", "VTI", "1", "1")], {}, ACCTS, TARGET, today=TODAY, rates=RATES)
    with pytest.raises(InvalidInput, match="band"):
        plan_rebalance(
            [lot("x", "VTI", "1", "1")], PRICES, ACCTS, TARGET, today=TODAY, rates=RATES, band=D(2)
        )


def test_unclassified_holdings_are_left_alone():
    p = plan_rebalance([lot("x", "VTI", "10", "900"), lot("y", "ZZZZ", "5", "10")], {**PRICES, "ZZZZ": D(3)}, ACCTS, TARGET,
                       today=TODAY, rates=RATES)  # fmt: skip
    assert p.unclassified == ["ZZZZ"]
    assert all(t.ticker != "ZZZZ" for t in p.trades)


# --------------------------------------------------------------------------- target allocation


def test_target_allocation_sums_to_one_and_follows_risk_score():
    for score in range(1, 11):
        w = target_allocation(score, 30)
        assert sum(w.values()) == 1
        assert all(v > 0 for v in w.values())
    eq = [equity_share(s, 30) for s in range(1, 11)]
    assert eq == sorted(eq) and eq[0] == D("0.1") and eq[-1] == D(1)
    assert "munis" in target_allocation(5, 20, use_munis=True)


def test_glide_path_reduces_equity_as_goal_nears():
    path = glide_path(9, 20)
    shares = [s for _, s in path]
    assert path[0] == (20, D("0.9")) and path[-1] == (0, D("0.2"))
    assert all(b <= a for a, b in zip(shares, shares[1:], strict=False))
    assert equity_share(2, 0) == D("0.2") and equity_share(1, 0) == D("0.1")


def test_allocation_bad_input():
    with pytest.raises(InvalidInput, match="1 to 10"):
        target_allocation(11, 5)
    with pytest.raises(InvalidInput, match="negative"):
        target_allocation(5, -1)


def test_whole_share_mode_never_oversells():
    lots = [lot("s", "VTI", "70", "5000"), lot("b", "BND", "60", "3000")]  # 7000 / 3000 of 10000
    p = plan_rebalance(lots, PRICES, ACCTS, TARGET, today=TODAY, rates=RATES, fractional=False)
    sells = [t for t in p.trades if t.side == "sell"]
    assert sells and all(t.quantity == t.quantity.to_integral_value() for t in p.trades)
    assert sum(t.amount for t in sells) <= D(1000)
    assert p.drift_after.total <= D("0.01")


def test_a_class_with_no_quote_gets_a_dollar_amount_buy_not_an_error():
    """A user who holds only stocks: the bond fund has no synced quote yet."""
    lots = [lot("s", "VTI", "100", "9000")]  # 10,000 of stocks, no bonds at all
    no_bond_quote = {"VTI": D(100)}
    p = plan_rebalance(
        lots, no_bond_quote, ACCTS, TARGET, today=TODAY, rates=RATES, cash={"tax": D(1000)}
    )
    bond_buys = [t for t in p.trades if t.side == "buy" and t.asset_class == "us_bonds"]
    assert bond_buys and all(t.quantity is None for t in bond_buys)  # shares set at execution
    assert all(t.amount > 0 and t.amount == t.amount.quantize(D("0.01")) for t in bond_buys)
    assert bond_buys[0].amount == D("1000.00")  # all new cash goes to the underweight class
    assert p.drift_after.total < p.drift_before.total
    priced = [t for t in p.trades if t.quantity is not None]
    assert all(t.ticker == "VTI" for t in priced)


def _buy(id, ticker, days_ago, acct="tax", kind=TxKind.BUY):
    return InvestmentTransaction(
        id, acct, ticker, TODAY - dt.timedelta(days=days_ago), kind, D(1), D(100)
    )


def test_a_recent_lots_own_purchase_does_not_block_its_loss_sale():
    # "new" was bought 10 days ago and is at a loss: selling it is no wash sale by itself
    lots = [
        lot("new", "VTI", "50", "6000", acquired=TODAY - dt.timedelta(days=10)),
        lot("b", "BND", "20", "1000"),
    ]
    p = plan_rebalance(
        lots, PRICES, ACCTS, TARGET, today=TODAY, rates=RATES, history=[_buy("new", "VTI", 10)]
    )
    sells = [t for t in p.trades if t.side == "sell"]
    assert [t.lot_id for t in sells] == ["new"] and sells[0].realized_gain < 0
    # ... but a second purchase of VTI (a dividend reinvested in the IRA) does block it
    history = [_buy("new", "VTI", 10), _buy("drip", "VTI", 3, "ira", TxKind.DIVIDEND_REINVEST)]
    p = plan_rebalance(lots, PRICES, ACCTS, TARGET, today=TODAY, rates=RATES, history=history)
    assert [t for t in p.trades if t.side == "sell"] == []
