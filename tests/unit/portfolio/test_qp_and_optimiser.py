"""Random QPs satisfy KKT exactly; the named optimiser wrapper and shipped reference data."""

import numpy as np
import pytest

from portfolio import qp, reference
from portfolio.errors import InvalidInput
from portfolio.optimiser import optimise, optimise_classes


def kkt_residual(prob, q, x):
    """Largest violation of primal feasibility, stationarity and dual sign conditions."""
    g = prob.H @ x - q
    lo_act = x <= prob.lo + 1e-9
    hi_act = x >= prob.hi - 1e-9
    free = ~(lo_act | hi_act)
    nu = -np.mean(g[free]) if free.any() else 0.0
    r = g + nu
    viol = [abs(x.sum() - 1), np.max(prob.lo - x), np.max(x - prob.hi)]
    viol.append(np.max(np.abs(r[free]), initial=0.0))
    viol.append(np.max(-r[lo_act & ~hi_act], initial=0.0))
    viol.append(np.max(r[hi_act & ~lo_act], initial=0.0))
    return max(viol)


@pytest.mark.parametrize("seed", range(40))
def test_random_box_budget_qps_are_solved_exactly(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 60))
    A = rng.normal(size=(n + 5, n))
    H = A.T @ A / n + 1e-3 * np.eye(n)
    lo = np.where(rng.random(n) < 0.5, rng.uniform(-0.2, 0.05, n), 0.0)
    hi = lo + rng.uniform(0.0, 0.6, n)
    fixed = rng.random(n) < 0.1
    hi[fixed] = lo[fixed]
    movable = ~fixed if (~fixed).any() else np.ones(n, dtype=bool)
    if hi.sum() < 1:
        hi[movable] += (1 - hi.sum()) / movable.sum() + 0.01
    if lo.sum() > 1:
        lo[movable] -= (lo.sum() - 1) / movable.sum() + 0.01
    prob = qp.Problem(H=H, lo=lo, hi=hi, A=np.ones((1, n)), b=np.ones(1))
    q = rng.normal(0, 2, n)
    for method in ("pdas", "primal"):
        x, _ = qp.solve(prob, q, method=method)
        assert kkt_residual(prob, q, x) < 1e-8, method


def test_fixed_variables_lo_equals_hi():
    H = np.diag([1.0, 2.0, 3.0])
    prob = qp.Problem(
        H=H,
        lo=np.array([0.2, 0.0, 0.0]),
        hi=np.array([0.2, 1.0, 1.0]),
        A=np.ones((1, 3)),
        b=np.ones(1),
    )
    x, _ = qp.solve(prob, np.zeros(3))
    assert x[0] == pytest.approx(0.2)
    assert x[1:] == pytest.approx([0.8 * 3 / 5, 0.8 * 2 / 5])


def test_optimise_classes_with_shipped_assumptions_and_class_bounds():
    ids = ["us_stocks", "intl_developed", "emerging", "us_bonds", "tips"]
    rep = optimise_classes(
        ids, "max_sharpe", class_bounds={"us_bonds": (0.25, None)}, risk_free_rate=0.02
    )
    assert sum(rep.weights.values()) == pytest.approx(1.0)
    assert rep.weights["us_bonds"] >= 0.25 - 1e-9
    assert rep.sharpe > 0 and rep.class_weights["us_bonds"] == rep.weights["us_bonds"]
    rep2 = optimise_classes(ids, "efficient_risk", target_volatility=0.10)
    assert rep2.volatility == pytest.approx(0.10, abs=1e-9)


def test_optimise_named_assets_and_errors():
    mu = [0.08, 0.07, 0.04]
    cov = np.diag([0.04, 0.03, 0.005])
    mapping = {"VTI": "eq", "VEA": "eq", "BND": "bd"}
    rep = optimise(
        ["VTI", "VEA", "BND"],
        mu,
        cov,
        "min_volatility",
        asset_class=mapping,
        class_bounds={"eq": (0.5, 0.6)},
    )
    assert 0.5 - 1e-9 <= rep.class_weights["eq"] <= 0.6 + 1e-9
    with pytest.raises(InvalidInput, match="objective"):
        optimise(["a"], [0.1], [[0.01]], "max_return")
    with pytest.raises(InvalidInput, match="no asset belongs"):
        optimise(
            ["VTI", "VEA", "BND"],
            mu,
            cov,
            "min_volatility",
            asset_class=mapping,
            class_bounds={"re": (0, 0.1)},
        )
    with pytest.raises(InvalidInput, match="asset_class"):
        optimise_classes(["crypto"], "min_volatility")


def test_reference_data_is_consistent():
    ref = reference.load()
    S = ref.covariance()
    assert np.all(np.linalg.eigvalsh(S) > 0)
    assert np.allclose(np.diag(S), [a.volatility**2 for a in ref.asset_classes])
    for ac in ref.asset_classes:
        assert len(ac.etfs) == 3 and len(set(ac.etfs)) == 3
        for t in ac.etfs:
            assert ref.class_of(t) == ac.id
            # primary / secondary / tertiary never substantially identical to each other
            assert ref.identical_to(t) & set(ac.etfs) == {t}
    assert ref.identical_to("voo") == ref.identical_to("IVV") and "SPY" in ref.identical_to("VOO")
