"""Simple, time-weighted and money-weighted returns."""

import datetime as dt
from decimal import Decimal as D

import pytest

from portfolio.errors import InvalidInput
from portfolio.returns import net_worth, period_returns

d = dt.date


def test_no_flows_all_three_agree():
    r = period_returns(
        {d(2023, 1, 1): D(1000), d(2024, 1, 1): D(1100)}, [], d(2023, 1, 1), d(2024, 1, 1)
    )
    assert r.simple == D("0.1") and r.time_weighted == D("0.1")
    assert r.money_weighted_annual == pytest.approx(D("0.1"), abs=D("0.000002"))
    assert r.time_weighted_annual == pytest.approx(D("0.1"), abs=D("0.000002"))


def test_twr_ignores_flow_timing_while_mwr_rewards_it():
    # +50% then -50% with a large deposit just before the fall.
    vals = {d(2023, 1, 1): D(100), d(2023, 7, 1): D(1150), d(2024, 1, 1): D(575)}
    flows = [(d(2023, 7, 1), D(1000))]
    r = period_returns(vals, flows, d(2023, 1, 1), d(2024, 1, 1))
    assert r.time_weighted == D("-0.25")  # 1.5 x 0.5 - 1
    assert r.simple == (D("-525") / D("1100")).quantize(D("0.000001"))  # gain / capital in
    assert r.money_weighted_annual < D("-0.5")  # most money was in for the loss
    # Check the IRR definition: NPV at the solved rate is ~0.
    rate = float(r.money_weighted_annual)
    npv = -100 - 1000 * (1 + rate) ** (-181 / 365) + 575 * (1 + rate) ** (-365 / 365)
    assert abs(npv) < 1e-3


def test_withdrawals_and_range_filtering():
    vals = {
        d(2022, 12, 31): D(90),
        d(2023, 1, 1): D(100),
        d(2023, 3, 1): D(60),
        d(2023, 6, 1): D(70),
    }
    flows = [(d(2022, 12, 31), D(5)), (d(2023, 3, 1), D(-50))]  # the 2022 flow is outside
    r = period_returns(vals, flows, d(2023, 1, 1), d(2023, 6, 1))
    # (60 + 50) / 100 for the withdrawal sub-period, then 70 / 60
    assert r.time_weighted == ((D(110) / D(100)) * (D(70) / D(60)) - 1).quantize(D("0.000001"))
    assert r.time_weighted_annual is None


def test_bad_inputs():
    vals = {d(2023, 1, 1): D(100), d(2023, 6, 1): D(110)}
    with pytest.raises(InvalidInput, match="after start"):
        period_returns(vals, [], d(2023, 6, 1), d(2023, 1, 1))
    with pytest.raises(InvalidInput, match="each flow date"):
        period_returns(vals, [(d(2023, 3, 1), D(10))], d(2023, 1, 1), d(2023, 6, 1))
    with pytest.raises(InvalidInput, match="start and end"):
        period_returns(vals, [], d(2023, 1, 1), d(2023, 7, 1))
    with pytest.raises(InvalidInput, match="negative"):
        period_returns(
            {d(2023, 1, 1): D(-1), d(2023, 6, 1): D(1)}, [], d(2023, 1, 1), d(2023, 6, 1)
        )


def test_net_worth():
    assert net_worth([D("100.50"), D(20)], [D("30.25")]) == D("90.25")
    with pytest.raises(InvalidInput):
        net_worth([D(-1)], [])
