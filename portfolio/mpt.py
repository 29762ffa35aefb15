"""Mean-variance (Markowitz) portfolio optimisation on plain NumPy arrays.

The objectives mirror PyPortfolioOpt's ``EfficientFrontier`` (same conventions, so results can be
compared number for number) but run on the exact active-set solver in ``portfolio.qp`` instead of
cvxpy:

* ``min_volatility``            minimise w'Sw
* ``max_sharpe``                maximise (mu'w - rf) / sqrt(w'Sw)
* ``max_quadratic_utility``     maximise mu'w - (delta / 2) w'Sw
* ``efficient_return``          minimise w'Sw subject to mu'w >= target
* ``efficient_risk``            maximise mu'w subject to sqrt(w'Sw) <= target

all subject to sum(w) = 1 and lo <= w <= hi (``bounds`` is one (lo, hi) pair or one pair per
asset; ``None`` means unbounded on that side), optional group (asset-class) bounds, and an
optional L2 penalty gamma * ||w||^2 added to the objective exactly as PyPortfolioOpt's
``objective_functions.L2_reg`` (for max_sharpe it applies in the Cornuejols-Tutuncu variables,
i.e. S -> S + gamma I).

Every function returns a NumPy array of weights.  Estimators of expected returns and covariance live
in ``portfolio.estimators``; discrete share allocation in ``portfolio.discrete``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from portfolio import qp
from portfolio.errors import InfeasibleConstraints, InvalidCovariance, InvalidInput

Bounds = tuple[float | None, float | None] | Sequence[tuple[float | None, float | None]]


@dataclass(frozen=True)
class GroupBound:
    """sum of w[members] within [lower, upper]; e.g. an asset class between 20% and 40%."""

    members: Sequence[int]
    lower: float | None = None
    upper: float | None = None


# --------------------------------------------------------------------------- input checks


def as_vector(values, field: str, n: int | None = None) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise InvalidInput(field, f"expected a 1-D array, got shape {arr.shape}")
    if n is not None and arr.size != n:
        raise InvalidInput(field, f"expected {n} values, got {arr.size}")
    if arr.size == 0:
        raise InvalidInput(field, "must not be empty")
    if not np.all(np.isfinite(arr)):
        raise InvalidInput(field, "contains NaN or infinite values")
    return arr


def check_covariance(cov, n: int | None = None, *, fix: bool = False) -> np.ndarray:
    """Validate a covariance matrix: square, finite, symmetric, positive definite.

    A matrix that is not positive definite is refused with InvalidCovariance unless ``fix=True``;
    then negative and near-zero eigenvalues are lifted to a small positive floor (spectral repair,
    as PyPortfolioOpt's ``fix_nonpositive_semidefinite``, plus a floor so it is invertible).
    """
    S = np.asarray(cov, dtype=float)
    if S.ndim != 2 or S.shape[0] != S.shape[1]:
        raise InvalidCovariance("cov", f"expected a square matrix, got shape {S.shape}")
    if n is not None and S.shape[0] != n:
        raise InvalidCovariance("cov", f"expected {n}x{n} to match mu, got {S.shape}")
    if not np.all(np.isfinite(S)):
        raise InvalidCovariance("cov", "contains NaN or infinite values")
    scale = float(np.max(np.abs(S))) if S.size else 0.0
    if scale == 0.0:
        raise InvalidCovariance("cov", "is all zeros")
    if np.max(np.abs(S - S.T)) > 1e-8 * scale:
        raise InvalidCovariance("cov", "is not symmetric")
    S = 0.5 * (S + S.T)
    try:
        L = np.linalg.cholesky(S)
        if float(np.min(np.diag(L))) ** 2 > 1e-12 * scale:
            return S
    except np.linalg.LinAlgError:
        pass
    evals, evecs = np.linalg.eigh(S)
    if not fix:
        raise InvalidCovariance(
            "cov",
            f"is not positive definite (smallest eigenvalue {evals[0]:.3g}); use a shrinkage "
            "estimator such as Ledoit-Wolf, or pass fix_covariance=True for spectral repair",
        )
    floor = 1e-10 * float(evals[-1])
    fixed = (evecs * np.maximum(evals, floor)) @ evecs.T
    return 0.5 * (fixed + fixed.T)


def parse_bounds(bounds: Bounds, n: int) -> tuple[np.ndarray, np.ndarray]:
    """One (lo, hi) pair for all assets, or one pair per asset; None means unbounded."""
    if bounds is None:
        raise InvalidInput("bounds", "must be a (lo, hi) pair or one pair per asset")
    items = list(bounds)
    if len(items) == 2 and not isinstance(items[0], (tuple, list, np.ndarray)):
        pairs = [tuple(items)] * n
    else:
        pairs = [tuple(p) for p in items]
        if len(pairs) != n:
            raise InvalidInput("bounds", f"expected {n} (lo, hi) pairs, got {len(pairs)}")
    lo = np.array([-np.inf if p[0] is None else float(p[0]) for p in pairs])
    hi = np.array([np.inf if p[1] is None else float(p[1]) for p in pairs])
    if np.any(np.isnan(lo)) or np.any(np.isnan(hi)):
        raise InvalidInput("bounds", "contains NaN")
    if np.any(lo > hi):
        i = int(np.flatnonzero(lo > hi)[0])
        raise InfeasibleConstraints(
            "bounds", f"lower bound {lo[i]:g} > upper bound {hi[i]:g} for asset {i}"
        )
    if np.sum(lo) > 1.0 + 1e-12:
        raise InfeasibleConstraints(
            "bounds", f"lower bounds sum to {np.sum(lo):g} > 1: weights cannot sum to one"
        )
    if np.sum(hi) < 1.0 - 1e-12:
        raise InfeasibleConstraints(
            "bounds", f"upper bounds sum to {np.sum(hi):g} < 1: weights cannot sum to one"
        )
    return lo, hi


def _group_rows(groups: Sequence[GroupBound] | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    rows, rhs = [], []
    for g in groups or ():
        members = np.asarray(list(g.members), dtype=int)
        if members.size == 0 or members.min() < 0 or members.max() >= n:
            raise InvalidInput("groups", f"group members must be asset indices in [0, {n})")
        row = np.zeros(n)
        row[members] = 1.0
        if g.lower is not None and g.upper is not None and g.lower > g.upper:
            raise InfeasibleConstraints(
                "groups", f"group lower bound {g.lower} > upper bound {g.upper}"
            )
        if g.upper is not None:
            rows.append(row)
            rhs.append(float(g.upper))
        if g.lower is not None:
            rows.append(-row)
            rhs.append(-float(g.lower))
    if not rows:
        return np.zeros((0, n)), np.zeros(0)
    return np.array(rows), np.array(rhs)


def _setup(mu, cov, bounds, l2_gamma, groups, fix_covariance, *, l2_scale: float = 1.0):
    mu = as_vector(mu, "mu")
    n = mu.size
    S = check_covariance(cov, n, fix=fix_covariance)
    if l2_gamma < 0 or not np.isfinite(l2_gamma):
        raise InvalidInput("l2_gamma", "must be a finite number >= 0")
    lo, hi = parse_bounds(bounds, n)
    G, h = _group_rows(groups, n)
    H = S + (l2_gamma * l2_scale) * np.eye(n) if l2_gamma else S
    prob = qp.Problem(H=H, lo=lo, hi=hi, A=np.ones((1, n)), b=np.ones(1), G=G, h=h)
    qp.feasible_point(prob)  # raises InfeasibleConstraints with the reason
    return mu, S, prob


def _polish(w: np.ndarray, prob: qp.Problem) -> np.ndarray:
    w = np.clip(w, prob.lo, prob.hi)
    return w


# --------------------------------------------------------------------------- objectives


def min_volatility(
    mu,
    cov,
    *,
    bounds: Bounds = (0.0, 1.0),
    l2_gamma: float = 0.0,
    groups=None,
    fix_covariance=False,
) -> np.ndarray:
    """Weights of the minimum-variance portfolio (mu is only validated, for a uniform signature)."""
    _, _, prob = _setup(mu, cov, bounds, l2_gamma, groups, fix_covariance)
    with qp.single_threaded_blas(prob.n):
        w, _ = qp.solve(prob, np.zeros(prob.n))
    return _polish(w, prob)


def max_quadratic_utility(
    mu,
    cov,
    *,
    risk_aversion: float = 1.0,
    bounds: Bounds = (0.0, 1.0),
    l2_gamma: float = 0.0,
    groups=None,
    fix_covariance=False,
) -> np.ndarray:
    """Maximise mu'w - (risk_aversion / 2) w'Sw - l2_gamma ||w||^2."""
    if not np.isfinite(risk_aversion) or risk_aversion <= 0:
        raise InvalidInput("risk_aversion", "must be a number > 0")
    mu, _, prob = _setup(
        mu, cov, bounds, l2_gamma, groups, fix_covariance, l2_scale=2.0 / risk_aversion
    )
    with qp.single_threaded_blas(prob.n):
        w, _ = qp.solve(prob, mu / risk_aversion)
    return _polish(w, prob)


def max_sharpe(
    mu,
    cov,
    *,
    bounds: Bounds = (0.0, 1.0),
    risk_free_rate: float = 0.0,
    l2_gamma: float = 0.0,
    groups=None,
    fix_covariance=False,
) -> np.ndarray:
    """Tangency portfolio: maximise (mu'w - rf) / sqrt(w'Sw).

    With l2_gamma, S is S + gamma I, as PyPortfolioOpt applies L2_reg in its transformed variables.
    """
    mu, _, prob = _setup(mu, cov, bounds, l2_gamma, groups, fix_covariance)
    if not np.isfinite(risk_free_rate):
        raise InvalidInput("risk_free_rate", "must be finite")
    if np.all(mu <= risk_free_rate):
        raise InvalidInput("mu", "at least one expected return must exceed the risk-free rate")
    H = prob.H

    def coeffs(a, d):
        Ha, Hd = H @ a, H @ d
        return (-(a @ Ha), mu @ a - risk_free_rate - 2.0 * (a @ Hd), mu @ d - d @ Hd)

    with qp.single_threaded_blas(prob.n):
        w, _, _ = qp.frontier_search(prob, np.zeros(prob.n), mu, coeffs)
    if w is None:
        raise InvalidInput(
            "risk_free_rate",
            "no feasible portfolio has an expected return above the risk-free rate",
        )
    return _polish(w, prob)


def efficient_return(
    mu,
    cov,
    target_return: float,
    *,
    bounds: Bounds = (0.0, 1.0),
    l2_gamma: float = 0.0,
    groups=None,
    fix_covariance=False,
) -> np.ndarray:
    """Minimum-variance portfolio with expected return >= target_return."""
    mu, _, prob = _setup(mu, cov, bounds, l2_gamma, groups, fix_covariance)
    if not np.isfinite(target_return):
        raise InvalidInput("target_return", "must be finite")

    def coeffs(a, d):
        return (mu @ a - target_return, mu @ d, 0.0)

    with qp.single_threaded_blas(prob.n):
        w, _, _ = qp.frontier_search(prob, np.zeros(prob.n), mu, coeffs)
    if w is None:
        raise InfeasibleConstraints(
            "target_return",
            f"{target_return:g} is above the highest expected return the constraints allow",
        )
    return _polish(w, prob)


def efficient_risk(
    mu,
    cov,
    target_volatility: float,
    *,
    bounds: Bounds = (0.0, 1.0),
    groups=None,
    fix_covariance=False,
) -> np.ndarray:
    """Maximum-return portfolio with volatility <= target_volatility."""
    mu, S, prob = _setup(mu, cov, bounds, 0.0, groups, fix_covariance)
    if not np.isfinite(target_volatility) or target_volatility <= 0:
        raise InvalidInput("target_volatility", "must be a number > 0")
    target_var = target_volatility**2

    def coeffs(a, d):
        Sa, Sd = S @ a, S @ d
        return (a @ Sa - target_var, 2.0 * (a @ Sd), d @ Sd)

    with qp.single_threaded_blas(prob.n):
        w, t, ws = qp.frontier_search(prob, np.zeros(prob.n), mu, coeffs)
    if w is None:  # even the maximum-return portfolio is below the target risk
        a, _, _, _ = qp.segment(prob, ws, np.zeros(prob.n), mu)
        return _polish(a, prob)
    if t == 0.0 and w @ S @ w > target_var * (1 + 1e-9):
        raise InfeasibleConstraints(
            "target_volatility",
            f"{target_volatility:g} is below the minimum volatility {np.sqrt(w @ S @ w):.6g}",
        )
    return _polish(w, prob)


# --------------------------------------------------------------------------- reporting


@dataclass(frozen=True)
class Performance:
    expected_return: float
    volatility: float
    sharpe: float


def performance(weights, mu, cov, *, risk_free_rate: float = 0.0) -> Performance:
    """Expected return, volatility and Sharpe ratio of a weight vector."""
    w = as_vector(weights, "weights")
    mu = as_vector(mu, "mu", w.size)
    S = np.asarray(cov, dtype=float)
    ret = float(mu @ w)
    vol = float(np.sqrt(max(w @ S @ w, 0.0)))
    return Performance(ret, vol, (ret - risk_free_rate) / vol if vol > 0 else float("nan"))


def clean_weights(weights, *, cutoff: float = 1e-4, rounding: int | None = 5) -> np.ndarray:
    """Weights below ``cutoff`` in absolute value set to zero, the rest rounded to ``rounding``
    decimals (PyPortfolioOpt's ``clean_weights`` convention, for display and discrete
    allocation). The result need not sum to exactly one."""
    w = as_vector(weights, "weights").copy()
    if cutoff < 0:
        raise InvalidInput("cutoff", "must not be negative")
    w[np.abs(w) < cutoff] = 0.0
    if rounding is not None:
        if not isinstance(rounding, int) or rounding < 1:
            raise InvalidInput("rounding", "must be a positive integer")
        w = np.round(w, rounding)
    return w


@dataclass(frozen=True)
class FrontierPoint:
    expected_return: float
    volatility: float
    weights: np.ndarray


def efficient_frontier(
    mu, cov, *, points: int = 20, bounds: Bounds = (0.0, 1.0), groups=None, fix_covariance=False
) -> list[FrontierPoint]:
    """``points`` portfolios evenly spaced in expected return, from the minimum-volatility
    portfolio to the maximum-return portfolio."""
    if points < 2:
        raise InvalidInput("points", "need at least 2 points")
    mu_v, S, prob = _setup(mu, cov, bounds, 0.0, groups, fix_covariance)
    w_min = min_volatility(mu_v, S, bounds=bounds, groups=groups)
    r_min = float(mu_v @ w_min)
    r_max = _max_return(mu_v, prob)
    out = []
    for target in np.linspace(r_min, r_max, points):
        w = (
            w_min
            if target <= r_min
            else efficient_return(
                mu_v,
                S,
                float(min(target, r_max) - 1e-12 * abs(r_max)),
                bounds=bounds,
                groups=groups,
            )
        )
        out.append(FrontierPoint(float(mu_v @ w), float(np.sqrt(w @ S @ w)), w))
    return out


def _max_return(mu: np.ndarray, prob: qp.Problem) -> float:
    from scipy.optimize import linprog

    bnds = [
        (None if not np.isfinite(lo) else lo, None if not np.isfinite(hi) else hi)
        for lo, hi in zip(prob.lo, prob.hi, strict=True)
    ]
    res = linprog(
        -mu,
        A_ub=prob.G if prob.p else None,
        b_ub=prob.h if prob.p else None,
        A_eq=prob.A,
        b_eq=prob.b,
        bounds=bnds,
        method="highs",
    )
    if res.status == 3:
        raise InvalidInput("bounds", "expected return is unbounded: give finite weight bounds")
    if res.status != 0:
        raise InfeasibleConstraints("constraints", "no portfolio satisfies the constraints")
    return float(-res.fun)
