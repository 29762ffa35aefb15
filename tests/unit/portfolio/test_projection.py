"""Monte Carlo and historical projections."""

import numpy as np
import pytest

from portfolio import reference
from portfolio.errors import InvalidInput
from portfolio.projection import (
    Assumptions,
    Plan,
    assumptions_for,
    historical,
    project,
    required_contribution,
    simulate,
    simulate_reference,
)

A = Assumptions(
    expected_return=0.07, volatility=0.15, inflation=0.025, inflation_vol=0.01, fee=0.0025
)


@pytest.mark.parametrize("dist", ["normal", "student_t"])
def test_fast_simulation_is_identical_to_reference_on_same_seed(dist):
    plan = Plan(
        50_000,
        12,
        monthly_contribution=500,
        contribution_growth=0.03,
        retire_after_years=8,
        monthly_withdrawal=2500,
    )
    a = Assumptions(0.06, 0.14, distribution=dist)
    real_f, alive_f = simulate(plan, a, paths=800, seed=7)
    real_r, alive_r = simulate_reference(plan, a, paths=800, seed=7)
    assert np.array_equal(real_f, real_r)
    assert np.array_equal(alive_f, alive_r)
    assert (~alive_f).any() and alive_f.any()  # both outcomes present: the check is not vacuous


@pytest.mark.parametrize("dist", ["normal", "student_t"])
def test_glide_path_simulation_is_identical_to_reference_and_uses_each_years_params(dist):
    plan = Plan(50_000, 6, monthly_contribution=500, retire_after_years=4, monthly_withdrawal=900)
    path = ((0.09, 0.20), (0.08, 0.17), (0.07, 0.14), (0.06, 0.11), (0.05, 0.08), (0.04, 0.06))
    a = Assumptions(0.0, 0.0, distribution=dist, path=path)
    real_f, alive_f = simulate(plan, a, paths=600, seed=3)
    real_r, alive_r = simulate_reference(plan, a, paths=600, seed=3)
    assert np.array_equal(real_f, real_r) and np.array_equal(alive_f, alive_r)
    # a constant path equals the plain assumptions; a different path changes the outcome
    flat = Assumptions(0.07, 0.14, distribution=dist)
    same = Assumptions(0.0, 0.0, distribution=dist, path=((0.07, 0.14),) * 6)
    assert np.array_equal(simulate(plan, flat, paths=600, seed=3)[0],
                          simulate(plan, same, paths=600, seed=3)[0])  # fmt: skip
    assert not np.array_equal(real_f, simulate(plan, flat, paths=600, seed=3)[0])
    with pytest.raises(InvalidInput, match="per year"):
        simulate(plan, Assumptions(0.0, 0.0, path=path[:3]))


def test_reproducible_and_seed_sensitive():
    plan = Plan(10_000, 5, monthly_contribution=100)
    a = project(plan, A, paths=500, seed=1)
    b = project(plan, A, paths=500, seed=1)
    c = project(plan, A, paths=500, seed=2)
    assert np.array_equal(a.p50, b.p50) and not np.array_equal(a.p50, c.p50)


def test_zero_volatility_matches_closed_form():
    a = Assumptions(expected_return=0.06, volatility=0.0, inflation=0.0, inflation_vol=0.0, fee=0.0)
    plan = Plan(1000.0, 2, monthly_contribution=100.0)
    real, _ = simulate(plan, a, paths=3, seed=0)
    g = 1.06 ** (1 / 12)
    expected = 1000.0 * g**24 + 100.0 * sum(g**k for k in range(24))
    assert np.allclose(real[-1], expected, rtol=1e-12)


def test_mean_growth_matches_assumption():
    a = Assumptions(
        expected_return=0.07, volatility=0.18, inflation=0.0, inflation_vol=0.0, fee=0.0
    )
    real, _ = simulate(Plan(1.0, 10), a, paths=20_000, seed=3)
    assert abs(real[-1].mean() / 1.07**10 - 1) < 0.03  # arithmetic mean compounds at 7%


def test_percentiles_are_ordered_and_in_todays_dollars():
    p = project(Plan(100_000, 30, monthly_contribution=1000, goal=1_000_000), A, paths=2000, seed=0)
    assert np.all(p.p10 <= p.p50) and np.all(p.p50 <= p.p90)
    assert p.p50.shape == (30,)
    no_inflation = Assumptions(0.07, 0.15, inflation=0.0, inflation_vol=0.0)
    deflated = project(Plan(100_000, 30), A, paths=2000).p50[-1]
    assert project(Plan(100_000, 30), no_inflation, paths=2000).p50[-1] > 1.5 * deflated
    assert 0 < p.success_probability < 1
    assert p.success_std_error == pytest.approx(
        np.sqrt(p.success_probability * (1 - p.success_probability) / 2000)
    )


def test_fat_tails_have_heavier_left_tail_than_normal():
    plan = Plan(100.0, 1)
    n = simulate(plan, Assumptions(0.07, 0.2, fee=0.0, inflation_vol=0.0), paths=40_000, seed=5)[0][
        -1
    ]
    t = simulate(
        plan,
        Assumptions(0.07, 0.2, fee=0.0, inflation_vol=0.0, distribution="student_t", t_df=3.5),
        paths=40_000,
        seed=5,
    )[0][-1]
    log_n, log_t = np.log(n), np.log(t)
    assert abs(np.std(log_t) / np.std(log_n) - 1) < 0.1  # same volatility of log returns
    assert np.percentile(log_t, 0.1) < np.percentile(log_n, 0.1)  # heavier left tail
    kurt = lambda x: np.mean((x - x.mean()) ** 4) / np.var(x) ** 2  # noqa: E731
    assert kurt(log_t) > kurt(log_n) + 1


def test_retirement_success_falls_with_higher_withdrawals():
    def prob(w):
        return project(
            Plan(1_000_000, 30, retire_after_years=0, monthly_withdrawal=w), A, paths=2000, seed=0
        ).success_probability

    assert prob(3000) > prob(5000) > prob(8000)


def test_required_contribution_hits_target_probability():
    plan = Plan(20_000, 20, goal=400_000)
    c = required_contribution(plan, A, 0.8, paths=2000, seed=4, tolerance=1.0)
    from dataclasses import replace

    at = project(replace(plan, monthly_contribution=c), A, paths=2000, seed=4).success_probability
    below = project(
        replace(plan, monthly_contribution=c - 2.0), A, paths=2000, seed=4
    ).success_probability
    assert at >= 0.8 > below
    assert required_contribution(Plan(1_000_000, 20, goal=1000), A, 0.5, paths=500) == 0.0


def test_historical_replay_counts_cycles_and_uses_shipped_table():
    h = reference.historical_returns()
    assert h.years[0] == 1928 and h.years[-1] == 2023
    p = historical(Plan(750_000, 30, retire_after_years=0, monthly_withdrawal=35_000 / 12), 0.6)
    assert p.paths == 96 - 30 + 1
    assert 0.5 < p.success_probability <= 1.0
    all_stock = historical(Plan(1.0, 1), 1.0, fee=0.0)
    # one-year cycles: real growth of the S&P 500 in the median year
    real = (1 + h.stocks) / (1 + h.inflation)
    assert all_stock.p50[0] == pytest.approx(np.percentile(real, 50), rel=1e-9)


def test_assumptions_for_allocation():
    a = assumptions_for({"us_stocks": 0.6, "us_bonds": 0.4})
    ref = reference.load()
    assert a.expected_return == pytest.approx(0.6 * 0.07 + 0.4 * 0.042)
    cov = ref.covariance(["us_stocks", "us_bonds"])
    assert a.volatility == pytest.approx(np.sqrt(np.array([0.6, 0.4]) @ cov @ np.array([0.6, 0.4])))


def test_bad_inputs():
    with pytest.raises(InvalidInput, match="initial_balance"):
        project(Plan(-1, 10), A)
    with pytest.raises(InvalidInput, match="years"):
        project(Plan(1, 0), A)
    with pytest.raises(InvalidInput, match="distribution"):
        project(Plan(1, 1), Assumptions(0.05, 0.1, distribution="cauchy"))
    with pytest.raises(InvalidInput, match="t_df"):
        project(Plan(1, 1), Assumptions(0.05, 0.1, distribution="student_t", t_df=2))
    with pytest.raises(InvalidInput, match="history"):
        historical(Plan(1, 97), 0.5)
    with pytest.raises(InvalidInput, match="target_probability"):
        required_contribution(Plan(1, 5, goal=10), A, 1.0)
    with pytest.raises(InvalidInput, match="sum to 1"):
        assumptions_for({"us_stocks": 0.5})
