"""Goal and retirement projections: vectorised Monte Carlo in monthly steps, and historical replay.

Model (month m = 0 .. 12*years - 1, all paths at once):

* Portfolio return: log-normal with the allocation's annual arithmetic mean mu and volatility
  sigma: annual log-return variance s2 = ln(1 + sigma^2 / (1 + mu)^2), mean ln(1 + mu) - s2/2,
  both divided by 12 for a month.  ``distribution="student_t"`` makes the shocks fat-tailed:
  a normal scale mixture z / sqrt(w) with w ~ chi2(df) / df drawn once per path and year, so
  every month's shock is exactly Student-t with ``t_df`` degrees of freedom (scaled to unit
  variance: same mean and volatility) and calm and turbulent years cluster within a year.
* Fees: the balance is multiplied by (1 - fee)^(1/12) each month.
* Inflation: one normal draw per path and year, N(inflation, inflation_vol), applied monthly as
  (1 + i)^(1/12); it deflates balances to today's dollars and indexes withdrawals.
* Cash flows at month end: contributions C (1 + g)^floor(m / 12) until ``retire_after_years``,
  then inflation-indexed withdrawals W x price level.  A path that hits zero stays at zero.

Output: P10/P50/P90 of the real (today's dollars) balance at each year end; the probability of
success (goal: real balance at the horizon >= goal; retirement: never running out) with its
binomial standard error sqrt(p (1 - p) / n); and the monthly contribution that reaches a chosen
success probability, found by bisection on common random numbers (same seed for every trial).

``simulate_reference`` is the straightforward month-by-month NumPy loop; ``simulate`` draws the
same random stream in one block and must give identical results (tests check it; the benchmark
compares speed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from portfolio import reference
from portfolio.errors import InvalidInput


@dataclass(frozen=True)
class Assumptions:
    expected_return: float  # annual arithmetic mean, nominal
    volatility: float  # annual
    inflation: float = 0.025
    inflation_vol: float = 0.012
    fee: float = 0.0025  # annual, fraction of assets
    distribution: str = "normal"  # or "student_t"
    t_df: float = 5.0
    # glide path: per projection year (expected_return, volatility), overriding the two above;
    # empty = the same every year
    path: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class Plan:
    initial_balance: float
    years: int
    monthly_contribution: float = 0.0
    contribution_growth: float = 0.0  # annual, nominal
    retire_after_years: int | None = None  # contributions stop, withdrawals start
    monthly_withdrawal: float = 0.0  # today's dollars, inflation-indexed
    goal: float | None = None  # today's dollars at the horizon


@dataclass(frozen=True)
class Projection:
    years: np.ndarray  # 1 .. years
    p10: np.ndarray  # today's dollars at each year end
    p50: np.ndarray
    p90: np.ndarray
    success_probability: float
    success_std_error: float
    paths: int


def _validate(plan: Plan, a: Assumptions | None = None) -> None:
    if plan.initial_balance < 0:
        raise InvalidInput("initial_balance", "must not be negative")
    if not isinstance(plan.years, int) or not 1 <= plan.years <= 100:
        raise InvalidInput("years", "must be an integer from 1 to 100")
    if plan.monthly_contribution < 0 or plan.monthly_withdrawal < 0:
        raise InvalidInput("cash_flow", "contributions and withdrawals must not be negative")
    if plan.contribution_growth <= -1:
        raise InvalidInput("contribution_growth", "must be > -100%")
    if plan.retire_after_years is not None and not 0 <= plan.retire_after_years <= plan.years:
        raise InvalidInput("retire_after_years", "must be between 0 and years")
    if plan.goal is not None and plan.goal < 0:
        raise InvalidInput("goal", "must not be negative")
    if a is not None:
        if a.volatility < 0 or a.inflation_vol < 0:
            raise InvalidInput("volatility", "must not be negative")
        if a.expected_return <= -1:
            raise InvalidInput("expected_return", "must be > -100%")
        if not 0 <= a.fee < 1:
            raise InvalidInput("fee", "must be in [0, 1)")
        if a.distribution not in ("normal", "student_t"):
            raise InvalidInput("distribution", "must be 'normal' or 'student_t'")
        if a.distribution == "student_t" and a.t_df <= 2:
            raise InvalidInput("t_df", "must be > 2 for a finite variance")
        if a.path and len(a.path) < plan.years:
            raise InvalidInput("path", f"needs one (return, volatility) per year ({plan.years})")
        if any(r <= -1 or v < 0 for r, v in a.path):
            raise InvalidInput("path", "returns must be > -100% and volatilities >= 0")


def _monthly_params(a: Assumptions, years: int) -> tuple[np.ndarray, np.ndarray]:
    """Monthly log-return mean and volatility for each projection year."""
    if a.path:
        mu = np.array([r for r, _ in a.path[:years]], dtype=float)
        vol = np.array([v for _, v in a.path[:years]], dtype=float)
    else:
        mu = np.full(years, a.expected_return, dtype=float)
        vol = np.full(years, a.volatility, dtype=float)
    s2 = np.log1p(vol**2 / (1 + mu) ** 2)
    m = np.log1p(mu) - s2 / 2
    return m / 12, np.sqrt(s2 / 12)


def _cash_flows(plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    months = plan.years * 12
    m = np.arange(months)
    retire = plan.years if plan.retire_after_years is None else plan.retire_after_years
    working = m < retire * 12
    contrib = np.where(
        working, plan.monthly_contribution * (1 + plan.contribution_growth) ** (m // 12), 0.0
    )
    withdraw = np.where(working, 0.0, plan.monthly_withdrawal)
    return contrib, withdraw


def _shock_scale(a: Assumptions) -> float:
    return float(np.sqrt((a.t_df - 2) / a.t_df)) if a.distribution == "student_t" else 1.0


def _mixing(rng: np.random.Generator, a: Assumptions, years: int, paths: int) -> np.ndarray | None:
    """sqrt(chi2(df) / df) per path and year for Student-t shocks (None for normal)."""
    if a.distribution != "student_t":
        return None
    return np.sqrt(rng.standard_gamma(a.t_df / 2, (years, paths)) * (2 / a.t_df))


def simulate_reference(plan: Plan, a: Assumptions, *, paths: int = 10_000, seed: int = 0):
    """Straightforward month-by-month loop (the correctness and speed reference)."""
    _validate(plan, a)
    rng = np.random.default_rng(seed)
    mu_m, sd_m = _monthly_params(a, plan.years)
    scale = _shock_scale(a)
    fee_f = (1 - a.fee) ** (1 / 12)
    contrib, withdraw = _cash_flows(plan)
    infl = rng.normal(a.inflation, a.inflation_vol, (plan.years, paths))
    mix = _mixing(rng, a, plan.years, paths)
    balance = np.full(paths, float(plan.initial_balance))
    level = np.ones(paths)
    alive = np.ones(paths, dtype=bool)
    real_year_end = np.empty((plan.years, paths))
    for m in range(plan.years * 12):
        z = rng.standard_normal(paths)
        if mix is not None:
            z = z / mix[m // 12]
        growth = np.exp(mu_m[m // 12] + sd_m[m // 12] * scale * z) * fee_f
        level = level * (1 + infl[m // 12]) ** (1 / 12)
        balance = balance * growth + contrib[m] - withdraw[m] * level
        alive &= balance > 0
        balance = np.where(alive, balance, 0.0)
        if m % 12 == 11:
            real_year_end[m // 12] = balance / level
    return real_year_end, alive


def simulate(plan: Plan, a: Assumptions, *, paths: int = 10_000, seed: int = 0):
    """Vectorised simulation: same random stream and arithmetic as ``simulate_reference``.

    Returns (real balances at each year end, shape (years, paths); survived-all-months mask).
    """
    _validate(plan, a)
    if paths < 1:
        raise InvalidInput("paths", "must be >= 1")
    rng = np.random.default_rng(seed)
    mu_m, sd_m = _monthly_params(a, plan.years)
    scale = _shock_scale(a)
    fee_f = (1 - a.fee) ** (1 / 12)
    contrib, withdraw = _cash_flows(plan)
    infl = rng.normal(a.inflation, a.inflation_vol, (plan.years, paths))
    mix = _mixing(rng, a, plan.years, paths)
    monthly_infl = (1 + infl) ** (1 / 12)
    balance = np.full(paths, float(plan.initial_balance))
    level = np.ones(paths)
    alive = np.ones(paths, dtype=bool)
    real_year_end = np.empty((plan.years, paths))
    has_withdrawals = bool(np.any(withdraw))
    tmp = np.empty(paths)
    shock = sd_m * scale  # per year
    for y in range(plan.years):
        # One year of shocks at a time: the same stream as drawing month by month, but in
        # blocks that stay in cache.
        z = rng.standard_normal((12, paths))
        if mix is not None:
            z /= mix[y]
        z *= shock[y]
        z += mu_m[y]
        growth = np.exp(z, out=z)
        growth *= fee_f
        step = monthly_infl[y]
        for k in range(12):
            m = 12 * y + k
            level = level * step
            np.multiply(balance, growth[k], out=balance)
            balance += contrib[m]
            if has_withdrawals and withdraw[m]:
                np.multiply(level, withdraw[m], out=tmp)
                balance -= tmp
            np.logical_and(alive, balance > 0, out=alive)
            balance *= alive
        np.divide(balance, level, out=real_year_end[y])
    return real_year_end, alive


def _success(plan: Plan, real_year_end: np.ndarray, alive: np.ndarray) -> np.ndarray:
    if plan.goal is not None:
        return (real_year_end[-1] >= plan.goal) & alive
    return alive


def project(plan: Plan, a: Assumptions, *, paths: int = 10_000, seed: int = 0) -> Projection:
    real, alive = simulate(plan, a, paths=paths, seed=seed)
    p10, p50, p90 = np.percentile(real, [10, 50, 90], axis=1)
    ok = _success(plan, real, alive)
    p = float(ok.mean())
    return Projection(
        years=np.arange(1, plan.years + 1),
        p10=p10,
        p50=p50,
        p90=p90,
        success_probability=p,
        success_std_error=float(np.sqrt(p * (1 - p) / paths)),
        paths=paths,
    )


@dataclass(frozen=True)
class RequiredContribution:
    monthly: float  # smallest monthly contribution reaching the target probability
    probability: float  # success probability at ``monthly`` on the paths of the search
    std_error: float  # its binomial standard error sqrt(p (1 - p) / paths)
    paths: int


def bisect_contribution(
    prob, target_probability: float, *, start: float, tolerance: float, maximum: float
) -> tuple[float, float]:
    """(contribution, probability there): the smallest contribution, to ``tolerance``, whose
    ``prob(c)`` reaches the target; ``prob`` must not decrease with c (common random numbers)."""
    p0 = prob(0.0)
    if p0 >= target_probability:
        return 0.0, p0
    lo, hi = 0.0, max(100.0, start)
    p_hi = prob(hi)
    while p_hi < target_probability:
        lo, hi = hi, hi * 2
        if hi > maximum:
            raise InvalidInput(
                "target_probability", "not reachable with contributions up to the maximum"
            )
        p_hi = prob(hi)
    while hi - lo > tolerance:
        mid = 0.5 * (lo + hi)
        p_mid = prob(mid)
        if p_mid >= target_probability:
            hi, p_hi = mid, p_mid
        else:
            lo = mid
    return hi, p_hi


def solve_contribution(
    plan: Plan,
    a: Assumptions,
    target_probability: float,
    *,
    paths: int = 10_000,
    seed: int = 0,
    tolerance: float = 1.0,
    max_contribution: float = 1e6,
) -> RequiredContribution:
    """The monthly contribution whose success probability reaches ``target_probability``, on
    common random numbers (the same seed for every trial), with the probability it reaches on
    those paths and that estimate's sampling error."""
    if not 0 < target_probability < 1:
        raise InvalidInput("target_probability", "must be strictly between 0 and 1")
    if plan.goal is None and plan.monthly_withdrawal == 0:
        raise InvalidInput("goal", "set a goal or retirement withdrawals to define success")

    def prob(c: float) -> float:
        real, alive = simulate(replace(plan, monthly_contribution=c), a, paths=paths, seed=seed)
        return float(_success(plan, real, alive).mean())

    c, p = bisect_contribution(
        prob,
        target_probability,
        start=plan.monthly_contribution,
        tolerance=tolerance,
        maximum=max_contribution,
    )
    return RequiredContribution(c, p, float(np.sqrt(p * (1 - p) / paths)), paths)


def required_contribution(
    plan: Plan,
    a: Assumptions,
    target_probability: float,
    *,
    paths: int = 10_000,
    seed: int = 0,
    tolerance: float = 1.0,
    max_contribution: float = 1e6,
) -> float:
    """Smallest monthly contribution (to within ``tolerance`` dollars) whose success
    probability reaches ``target_probability`` (see ``solve_contribution``)."""
    return solve_contribution(
        plan,
        a,
        target_probability,
        paths=paths,
        seed=seed,
        tolerance=tolerance,
        max_contribution=max_contribution,
    ).monthly


def historical_contribution(
    plan: Plan,
    stock_share: float | Sequence[float],
    target_probability: float,
    *,
    tolerance: float = 1.0,
    max_contribution: float = 1e6,
) -> RequiredContribution:
    """``solve_contribution`` over the fixed set of historical cycles."""
    if not 0 < target_probability < 1:
        raise InvalidInput("target_probability", "must be strictly between 0 and 1")

    def prob(c: float) -> float:
        return historical(replace(plan, monthly_contribution=c), stock_share).success_probability

    c, p = bisect_contribution(
        prob,
        target_probability,
        start=plan.monthly_contribution,
        tolerance=tolerance,
        maximum=max_contribution,
    )
    n = historical(plan, stock_share).paths
    return RequiredContribution(c, p, float(np.sqrt(p * (1 - p) / n)), n)


def assumptions_for(weights: dict[str, float], **overrides) -> Assumptions:
    """Portfolio mean and volatility from the shipped capital-market assumptions."""
    ref = reference.load()
    ids = list(weights)
    w = np.array([float(weights[i]) for i in ids])
    if np.any(w < 0) or not np.isclose(w.sum(), 1.0, atol=1e-6):
        raise InvalidInput("weights", "must be non-negative and sum to 1")
    mu = float(ref.expected_returns(ids) @ w)
    vol = float(np.sqrt(w @ ref.covariance(ids) @ w))
    base = {
        "expected_return": mu,
        "volatility": vol,
        "inflation": ref.inflation_expected,
        "inflation_vol": ref.inflation_volatility,
    }
    base.update(overrides)
    return Assumptions(**base)


def glide_assumptions(yearly_weights: list[dict[str, float]], **overrides) -> Assumptions:
    """One allocation per projection year (a glide path) -> Assumptions with a per-year
    (expected return, volatility) path from the shipped capital-market assumptions; inflation
    and the other fields as ``assumptions_for`` the first year's allocation."""
    if not yearly_weights:
        raise InvalidInput("weights", "need at least one year")
    yearly = [assumptions_for(w) for w in yearly_weights]
    path = tuple((a.expected_return, a.volatility) for a in yearly)
    base = replace(yearly[0], path=path)
    return replace(base, **overrides)


def historical(
    plan: Plan,
    stock_share: float | Sequence[float],
    *,
    fee: float = 0.0025,
    first_year: int | None = None,
) -> Projection:
    """Replay every historical cycle of ``plan.years`` years from the shipped annual table.

    Each cycle starts in a different year (1928, 1929, ...); the portfolio is rebalanced yearly
    to ``stock_share`` in the S&P 500 (one share, or one per projection year for a glide path)
    and the rest in 10-year Treasuries; inflation is CPI.
    Annual returns are spread evenly over the months ((1 + r)^(1/12)).  Success = share of
    cycles that reach the goal / never run out (as FIRECalc and cFIREsim count it).
    """
    _validate(plan)
    share = np.broadcast_to(np.asarray(stock_share, dtype=float), (plan.years,))
    if np.ndim(stock_share) and np.size(stock_share) != plan.years:
        raise InvalidInput("stock_share", f"give one share or one per year ({plan.years})")
    if np.any(share < 0) or np.any(share > 1):
        raise InvalidInput("stock_share", "must be between 0 and 1")
    h = reference.historical_returns()
    mask = np.ones(h.years.size, dtype=bool) if first_year is None else h.years >= first_year
    stocks, bonds, cpi = h.stocks[mask], h.bonds[mask], h.inflation[mask]
    n_cycles = stocks.size - plan.years + 1
    if n_cycles < 1:
        raise InvalidInput("years", f"longer than the {stocks.size} years of history shipped")
    idx = np.arange(plan.years)[:, None] + np.arange(n_cycles)[None, :]
    port = share[:, None] * stocks[idx] + (1 - share[:, None]) * bonds[idx]  # (years, cycles)
    growth = ((1 + port) ** (1 / 12)) * (1 - fee) ** (1 / 12)
    infl = (1 + cpi[idx]) ** (1 / 12)
    contrib, withdraw = _cash_flows(plan)
    balance = np.full(n_cycles, float(plan.initial_balance))
    level = np.ones(n_cycles)
    alive = np.ones(n_cycles, dtype=bool)
    real = np.empty((plan.years, n_cycles))
    for m in range(plan.years * 12):
        y = m // 12
        level = level * infl[y]
        balance = balance * growth[y] + contrib[m] - withdraw[m] * level
        alive &= balance > 0
        balance = np.where(alive, balance, 0.0)
        if m % 12 == 11:
            real[y] = balance / level
    ok = _success(plan, real, alive)
    p = float(ok.mean())
    p10, p50, p90 = np.percentile(real, [10, 50, 90], axis=1)
    return Projection(
        np.arange(1, plan.years + 1),
        p10,
        p50,
        p90,
        p,
        float(np.sqrt(p * (1 - p) / n_cycles)),
        n_cycles,
    )
