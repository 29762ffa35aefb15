"""MPT optimiser: agreement with PyPortfolioOpt (cvxpy), KKT optimality, and bad input."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from sklearn.covariance import ledoit_wolf

from portfolio import mpt, qp
from portfolio.errors import InfeasibleConstraints, InvalidCovariance, InvalidInput

pypfopt = pytest.importorskip("pypfopt")
from pypfopt import EfficientFrontier, objective_functions  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "portfolio_readme_example", Path(__file__).with_name("readme_example.py")
)
readme_example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(readme_example)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")
WEIGHT_TOL = 1e-4
OBJ_TOL = 1e-6


def random_problem(n, seed):
    """Five years of daily factor-model returns -> (annual mu, Ledoit-Wolf covariance)."""
    rng = np.random.default_rng(seed)
    T = 1260
    factors = rng.normal(0, 0.006, (T, 3))
    loadings = rng.normal(1, 0.5, (3, n))
    R = factors @ loadings + rng.normal(0, 0.012, (T, n)) + rng.normal(0.0004, 0.0004, n)
    return R.mean(0) * 252, ledoit_wolf(R)[0] * 252


def ppo(mu, S, bounds, method, *args, l2=0.0, **kw):
    ef = EfficientFrontier(mu, S, weight_bounds=bounds)
    if l2:
        ef.add_objective(objective_functions.L2_reg, gamma=l2)
    getattr(ef, method)(*args, **kw)
    return (
        np.array([ef.weights[i] for i in range(len(mu))])
        if isinstance(ef.weights, dict)
        else np.asarray(ef.weights)
    )


def sharpe(w, mu, S, rf=0.0):
    return (mu @ w - rf) / np.sqrt(w @ S @ w)


CASES = [
    (5, 0, (0, 1)),
    (10, 1, (0, 0.3)),
    (20, 2, (0, 0.2)),
    (50, 3, (0, 0.1)),
    (120, 4, (0, 0.05)),
    (200, 5, (0, 0.2)),
]


@pytest.mark.parametrize(("n", "seed", "bounds"), CASES)
def test_min_volatility_matches_pypfopt(n, seed, bounds):
    mu, S = random_problem(n, seed)
    w = mpt.min_volatility(mu, S, bounds=bounds)
    ref = ppo(mu, S, bounds, "min_volatility")
    assert np.max(np.abs(w - ref)) < WEIGHT_TOL
    assert abs(w @ S @ w - ref @ S @ ref) < OBJ_TOL
    assert w @ S @ w <= ref @ S @ ref + 1e-12  # we are never worse
    assert np.isclose(w.sum(), 1.0, atol=1e-12)
    assert np.all(w >= bounds[0] - 1e-12) and np.all(w <= bounds[1] + 1e-12)


@pytest.mark.parametrize(("n", "seed", "bounds"), CASES)
def test_max_sharpe_matches_pypfopt(n, seed, bounds):
    mu, S = random_problem(n, seed)
    w = mpt.max_sharpe(mu, S, bounds=bounds, risk_free_rate=0.02)
    ref = ppo(mu, S, bounds, "max_sharpe", risk_free_rate=0.02)
    assert np.max(np.abs(w - ref)) < WEIGHT_TOL
    assert abs(sharpe(w, mu, S, 0.02) - sharpe(ref, mu, S, 0.02)) < OBJ_TOL
    assert sharpe(w, mu, S, 0.02) >= sharpe(ref, mu, S, 0.02) - 1e-12


@pytest.mark.parametrize(("n", "seed", "bounds"), CASES[:5])
def test_quadratic_utility_and_targets_match_pypfopt(n, seed, bounds):
    mu, S = random_problem(n, seed)
    w = mpt.max_quadratic_utility(mu, S, risk_aversion=3.0, bounds=bounds)
    ref = ppo(mu, S, bounds, "max_quadratic_utility", 3.0)
    assert np.max(np.abs(w - ref)) < WEIGHT_TOL
    util = lambda x: mu @ x - 1.5 * x @ S @ x  # noqa: E731
    assert abs(util(w) - util(ref)) < OBJ_TOL

    w_min = mpt.min_volatility(mu, S, bounds=bounds)
    vol_target = 1.25 * np.sqrt(w_min @ S @ w_min)
    w = mpt.efficient_risk(mu, S, vol_target, bounds=bounds)
    ref = ppo(mu, S, bounds, "efficient_risk", vol_target)
    assert np.max(np.abs(w - ref)) < WEIGHT_TOL
    assert abs(mu @ w - mu @ ref) < OBJ_TOL
    assert np.sqrt(w @ S @ w) <= vol_target + 1e-10

    w_max = mpt.max_sharpe(mu, S, bounds=bounds)
    ret_target = float(0.5 * (mu @ w_min + mu @ w_max))
    w = mpt.efficient_return(mu, S, ret_target, bounds=bounds)
    ref = ppo(mu, S, bounds, "efficient_return", ret_target)
    assert np.max(np.abs(w - ref)) < WEIGHT_TOL
    assert abs(w @ S @ w - ref @ S @ ref) < OBJ_TOL
    assert mu @ w >= ret_target - 1e-10


@pytest.mark.parametrize("gamma", [0.1, 1.0])
def test_l2_regularisation_matches_pypfopt(gamma):
    mu, S = random_problem(20, 7)
    for method, kwargs in [("min_volatility", {}), ("max_sharpe", {})]:
        w = getattr(mpt, method)(mu, S, bounds=(0, 1), l2_gamma=gamma, **kwargs)
        ref = ppo(mu, S, (0, 1), method, l2=gamma, **kwargs)
        assert np.max(np.abs(w - ref)) < WEIGHT_TOL
    w = mpt.max_quadratic_utility(mu, S, risk_aversion=2.5, bounds=(0, 0.3), l2_gamma=gamma)
    ref = ppo(mu, S, (0, 0.3), "max_quadratic_utility", 2.5, l2=gamma)
    assert np.max(np.abs(w - ref)) < WEIGHT_TOL
    target = float(np.mean(mu))
    w = mpt.efficient_return(mu, S, target, bounds=(0, 0.3), l2_gamma=gamma)
    ref = ppo(mu, S, (0, 0.3), "efficient_return", target, l2=gamma)
    assert np.max(np.abs(w - ref)) < WEIGHT_TOL
    w0 = mpt.max_sharpe(mu, S)
    w1 = mpt.max_sharpe(mu, S, l2_gamma=gamma)
    assert np.sum(w1 > 1e-4) >= np.sum(w0 > 1e-4)  # L2 spreads the weights


def test_per_asset_bounds_and_shorting():
    mu, S = random_problem(15, 11)
    bounds = [(0.02, 0.3)] * 5 + [(0.0, 0.15)] * 5 + [(-0.1, 0.25)] * 5
    for method in ("min_volatility", "max_sharpe"):
        w = getattr(mpt, method)(mu, S, bounds=bounds)
        ref = ppo(mu, S, bounds, method)
        assert np.max(np.abs(w - ref)) < WEIGHT_TOL


def test_asset_class_group_bounds_match_pypfopt_sector_constraints():
    mu, S = random_problem(12, 13)
    mapper = {i: ("eq" if i < 6 else "bd" if i < 10 else "re") for i in range(12)}
    lower, upper = {"eq": 0.3, "bd": 0.2}, {"eq": 0.5, "re": 0.05}
    groups = [
        mpt.GroupBound([i for i in range(12) if mapper[i] == "eq"], 0.3, 0.5),
        mpt.GroupBound([i for i in range(12) if mapper[i] == "bd"], 0.2, None),
        mpt.GroupBound([i for i in range(12) if mapper[i] == "re"], None, 0.05),
    ]
    for method, args in [("min_volatility", ()), ("max_sharpe", ()), ("efficient_risk", (0.2,))]:
        w = getattr(mpt, method)(mu, S, *args, bounds=(0, 0.4), groups=groups)
        ef = EfficientFrontier(mu, S, weight_bounds=(0, 0.4))
        ef.add_sector_constraints(mapper, lower, upper)
        getattr(ef, method)(*args)
        ref = (
            np.array([ef.weights[i] for i in range(12)])
            if isinstance(ef.weights, dict)
            else np.asarray(ef.weights)
        )
        assert np.max(np.abs(w - ref)) < WEIGHT_TOL, method
        assert 0.3 - 1e-9 <= w[:6].sum() <= 0.5 + 1e-9
        assert w[10:].sum() <= 0.05 + 1e-9


def test_solution_satisfies_kkt_conditions():
    mu, S = random_problem(40, 17)
    lo, hi = np.zeros(40), np.full(40, 0.1)
    w = mpt.min_volatility(mu, S, bounds=(0, 0.1))
    grad = 2 * S @ w
    free = (w > 1e-9) & (w < 0.1 - 1e-9)
    nu = -np.mean(grad[free])  # budget multiplier
    r = grad + nu
    assert np.allclose(r[free], 0, atol=1e-10)
    assert np.all(r[w <= lo + 1e-9] >= -1e-10)  # at lower bound: increasing w would not help
    assert np.all(r[w >= hi - 1e-9] <= 1e-10)


def test_primal_active_set_fallback_agrees_with_pdas():
    mu, S = random_problem(30, 19)
    prob = qp.Problem(H=S, lo=np.zeros(30), hi=np.full(30, 0.15), A=np.ones((1, 30)), b=np.ones(1))
    x1, _ = qp.solve(prob, mu / 4.0)
    x2, _ = qp.solve(prob, mu / 4.0, method="primal")
    assert np.max(np.abs(x1 - x2)) < 1e-10


def test_efficient_frontier_is_monotone():
    mu, S = random_problem(10, 23)
    pts = mpt.efficient_frontier(mu, S, points=8, bounds=(0, 0.5))
    rets = [p.expected_return for p in pts]
    vols = [p.volatility for p in pts]
    assert all(b >= a - 1e-12 for a, b in zip(rets, rets[1:], strict=False))
    assert all(b >= a - 1e-12 for a, b in zip(vols, vols[1:], strict=False))
    assert np.isclose(rets[-1], np.sort(mu)[-2:].mean(), atol=1e-6)  # two best at 50% each


# --------------------------------------------------------------------------- README example


def test_readme_example_procedure_matches_pypfopt_side_by_side():
    """mean_historical_return, sample_cov, max_sharpe, clean_weights, portfolio_performance and
    DiscreteAllocation(greedy, $10,000) on the same 20-ticker table (readme_example.py)."""
    df = readme_example.readme_like_prices()
    assert df.shape[1] == 20 and df.isna().any().sum() == 6
    ref, ours = readme_example.pypfopt_readme(df), readme_example.nestegg_readme(df)
    assert np.allclose(ours["mu"], ref["mu"], rtol=0, atol=1e-12)
    assert np.allclose(ours["cov"], ref["cov"], rtol=0, atol=1e-12)
    # cleaned weights: same cut-off and 5-decimal rounding; a raw difference of ~1e-6 may
    # round one step apart, hence 1e-5
    assert np.max(np.abs(ours["weights"] - ref["weights"])) <= 1e-5 + 1e-12
    assert set(np.flatnonzero(ours["weights"])) == set(np.flatnonzero(ref["weights"]))
    assert 2 <= np.count_nonzero(ours["weights"]) < 20  # a real max-Sharpe corner, not 1/N
    for a, b in zip(ours["performance"], ref["performance"], strict=True):
        assert abs(a - b) < OBJ_TOL
    assert ours["shares"] == ref["shares"] and sum(ours["shares"].values()) > 0
    assert abs(ours["leftover"] - ref["leftover"]) < 0.01
    assert 0 <= ours["leftover"] < 10_000


def test_clean_weights_like_pypfopt():
    w = np.array([0.5, 0.00009, -0.00005, 0.123456789, 0.376543211 - 0.00004])
    assert mpt.clean_weights(w).tolist() == [0.5, 0.0, 0.0, 0.12346, 0.37650]
    assert mpt.clean_weights(w, rounding=None)[3] == w[3]
    with pytest.raises(InvalidInput, match="rounding"):
        mpt.clean_weights(w, rounding=0)


# --------------------------------------------------------------------------- bad input


def test_non_psd_covariance_is_refused_with_clear_error_or_repaired():
    mu = np.array([0.05, 0.06, 0.07])
    S = np.array([[0.04, 0.05, 0.0], [0.05, 0.04, 0.0], [0.0, 0.0, 0.09]])  # eigenvalue -0.01
    with pytest.raises(InvalidCovariance, match="not positive definite") as err:
        mpt.min_volatility(mu, S)
    assert err.value.field == "cov"
    w = mpt.min_volatility(mu, S, fix_covariance=True)
    assert np.isclose(w.sum(), 1.0) and np.all(w >= -1e-12)


def test_singular_covariance_is_refused():
    x = np.array([0.1, 0.2, 0.3])
    S = np.outer(x, x)  # rank one
    with pytest.raises(InvalidCovariance):
        mpt.max_sharpe(np.array([0.05, 0.06, 0.07]), S)


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        ((0, 0.2), "upper bounds sum to 0.6"),
        ((0.4, 1), "lower bounds sum to 1.2"),
        ([(0.5, 0.2)] * 3, "lower bound"),
    ],
)
def test_infeasible_bounds_raise(bounds, message):
    mu, S = random_problem(3, 1)
    with pytest.raises(InfeasibleConstraints, match=message):
        mpt.max_sharpe(mu, S, bounds=bounds)


def test_infeasible_group_constraints_raise():
    mu, S = random_problem(4, 1)
    groups = [mpt.GroupBound([0, 1], 0.8, None), mpt.GroupBound([2, 3], 0.5, None)]
    with pytest.raises(InfeasibleConstraints, match="group"):
        mpt.min_volatility(mu, S, bounds=(0, 0.5), groups=groups)


def test_other_bad_inputs():
    mu, S = random_problem(4, 1)
    with pytest.raises(InvalidInput, match="NaN"):
        mpt.min_volatility(np.array([0.1, np.nan, 0.1, 0.1]), S)
    with pytest.raises(InvalidCovariance, match="4x4"):
        mpt.min_volatility(mu, S[:3, :3])
    with pytest.raises(InvalidInput, match="exceed the risk-free rate"):
        mpt.max_sharpe(mu, S, risk_free_rate=1.0)
    with pytest.raises(InfeasibleConstraints, match="above the highest expected return"):
        mpt.efficient_return(mu, S, 5.0)
    with pytest.raises(InfeasibleConstraints, match="below the minimum volatility"):
        mpt.efficient_risk(mu, S, 0.001)
    with pytest.raises(InvalidInput, match="risk_aversion"):
        mpt.max_quadratic_utility(mu, S, risk_aversion=0)
    with pytest.raises(InvalidInput, match="expected 4"):
        mpt.min_volatility(mu, S, bounds=[(0, 1)] * 3)


def test_efficient_risk_above_max_returns_max_return_portfolio():
    mu, S = random_problem(6, 2)
    w = mpt.efficient_risk(mu, S, 5.0, bounds=(0, 0.5))
    best_two = np.argsort(mu)[-2:]
    assert np.allclose(w[best_two], 0.5, atol=1e-9)
