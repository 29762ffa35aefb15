"""Goal rules and goal projections on top of ``portfolio.projection``.

A goal (retirement, house, emergency, custom) has a target amount in today's dollars, a future
target date, a monthly contribution growing ``contribution_growth`` a year, the balance it starts
from (its linked accounts' latest balances plus ``initial_amount``) and either a fixed asset-class
allocation or the user's glide path (``portfolio.allocation.target_allocation`` from the risk
score and the years left).

Projection modes: ``normal`` and ``fat_tailed`` (Student-t, df 5) Monte Carlo with the
allocation's capital-market assumptions (``projection.assumptions_for``), or ``historical``
replay of every 1928-2023 cycle (stock share = the allocation's equity share, the rest in
10-year Treasuries). A glide path is represented by its time-average allocation over the
remaining years (the simulation engine holds one allocation per run; stated simplification).

Output: P10/P50/P90 balance per year in today's dollars, the probability of reaching the target
with its standard error sqrt(p(1-p)/n), and the monthly contribution needed to reach the chosen
success probability (bisection on common random numbers for Monte Carlo, on at most
``REQUIRED_PATHS`` paths; on the fixed set of historical cycles for ``historical``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal

from portfolio import allocation, projection, reference
from portfolio.errors import InvalidInput

KINDS = ("retirement", "house", "emergency", "custom")
MODES = ("normal", "fat_tailed", "historical")
CENT = Decimal("0.01")
DEFAULT_RISK_SCORE = 6  # "moderate" when the user has not answered the questionnaire
MAX_PATHS = 20_000
MAX_RETIREMENT_YEARS = 60
REQUIRED_PATHS = 4_000  # the bisection runs ~20 simulations: cap its paths to bound latency


def years_until(target: dt.date, today: dt.date) -> int:
    """Whole projection years to the target date (at least one)."""
    if target <= today:
        raise InvalidInput("target_date", "must be in the future")
    return max(1, math.ceil((target - today).days / 365.25))


def check_weights(weights: Mapping[str, Decimal], field: str = "allocation") -> None:
    ref = reference.load()
    if not weights:
        raise InvalidInput(field, "must name at least one asset class")
    for cls, w in weights.items():
        ref.asset_class(cls)  # unknown class -> InvalidInput
        if w < 0:
            raise InvalidInput(f"{field}.{cls}", "weight must not be negative")
    total = sum(weights.values(), Decimal(0))
    if abs(total - 1) > Decimal("0.0001"):
        raise InvalidInput(field, f"weights must sum to 1 (they sum to {total})")


def glide_average(risk_score: int, years: int) -> dict[str, float]:
    """Time-average of the glide-path allocation over the remaining years."""
    acc: dict[str, float] = {}
    steps = list(range(years, 0, -1))
    for y in steps:
        for cls, w in allocation.target_allocation(risk_score, y).items():
            acc[cls] = acc.get(cls, 0.0) + float(w) / len(steps)
    total = sum(acc.values())
    return {k: v / total for k, v in acc.items()}


def glide_schedule(risk_score: int, years_to_goal: int, total_years: int) -> list[dict]:
    """The glide-path allocation for each projection year: ``years_to_goal`` years left in
    the first year, one fewer each year, and the at-goal allocation after the goal date
    (retirement years)."""
    return [
        {
            cls: float(w)
            for cls, w in allocation.target_allocation(
                risk_score, max(years_to_goal - k, 0)
            ).items()
        }
        for k in range(total_years)
    ]


def equity_share(weights: Mapping[str, float]) -> float:
    ref = reference.load()
    return sum(float(w) for c, w in weights.items() if ref.asset_class(c).kind == "equity")


def _money(x: float) -> Decimal:
    return Decimal(repr(float(x))).quantize(CENT, ROUND_HALF_EVEN)


def _schedule(goal: Mapping, risk_score: int | None, to_goal: int, total: int):
    """(allocation per projection year, basis text, glide path rows or None)."""
    if goal.get("allocation"):
        weights = {k: float(Decimal(v)) for k, v in goal["allocation"].items()}
        return [weights] * total, "fixed allocation", None
    score = risk_score or DEFAULT_RISK_SCORE
    yearly = glide_schedule(score, to_goal, total)
    basis = f"glide path, risk score {score}" + ("" if risk_score else " (default)")
    return yearly, basis, [round(equity_share(w), 4) for w in yearly]


def check_retirement(kind: str, monthly_withdrawal, retirement_years: int) -> None:
    """Withdrawals belong to retirement goals and need both an amount and a duration."""
    withdrawal = Decimal(monthly_withdrawal or 0)
    years = int(retirement_years or 0)
    if withdrawal < 0:
        raise InvalidInput("monthly_withdrawal", "must not be negative")
    if not 0 <= years <= MAX_RETIREMENT_YEARS:
        raise InvalidInput("retirement_years", f"must be from 0 to {MAX_RETIREMENT_YEARS}")
    if withdrawal > 0 and kind != "retirement":
        raise InvalidInput("monthly_withdrawal", "only retirement goals have withdrawals")
    if (withdrawal > 0) != (years > 0):
        raise InvalidInput(
            "retirement_years", "give both a monthly withdrawal and how many years it lasts"
        )


def _plan(goal: Mapping, starting_balance: Decimal, to_goal: int) -> projection.Plan:
    """Accumulation to the goal date; for a retirement goal with a withdrawal, then
    ``retirement_years`` of inflation-indexed withdrawals (success = never running out)."""
    withdrawal = Decimal(goal.get("monthly_withdrawal") or 0)
    retire_years = int(goal.get("retirement_years") or 0)
    check_retirement(goal.get("kind", "retirement"), withdrawal, retire_years)
    spending = withdrawal > 0
    total = to_goal + (retire_years if spending else 0)
    if total > 100:
        raise InvalidInput("retirement_years", "goal date + retirement: at most 100 years")
    return projection.Plan(
        initial_balance=float(starting_balance),
        years=total,
        monthly_contribution=float(goal["monthly_contribution"]),
        contribution_growth=float(goal["contribution_growth"]),
        retire_after_years=to_goal if spending else None,
        monthly_withdrawal=float(withdrawal) if spending else 0.0,
        goal=None if spending else float(goal["target_amount"]),
    )


def project_goal(
    goal: Mapping,
    *,
    starting_balance: Decimal,
    risk_score: int | None,
    today: dt.date,
    mode: str = "normal",
    paths: int = 10_000,
    seed: int = 0,
    success_probability: float = 0.7,
) -> dict:
    """Projection report for one goal (plain data; money as Decimal)."""
    if mode not in MODES:
        raise InvalidInput("mode", f"must be one of {', '.join(MODES)}")
    if not 100 <= paths <= MAX_PATHS:
        raise InvalidInput("paths", f"must be between 100 and {MAX_PATHS}")
    if not 0 < success_probability < 1:
        raise InvalidInput("success_probability", "must be strictly between 0 and 1")
    if starting_balance < 0:
        raise InvalidInput("starting_balance", "must not be negative")
    to_goal = years_until(goal["target_date"], today)
    plan = _plan(goal, starting_balance, to_goal)
    yearly, basis, glide = _schedule(goal, risk_score, to_goal, plan.years)
    if mode == "historical":
        shares = [equity_share(w) for w in yearly]
        result = projection.historical(plan, shares)
        needed = projection.historical_contribution(plan, shares, success_probability)
    else:
        dist = "student_t" if mode == "fat_tailed" else "normal"
        if glide is None:
            assumptions = projection.assumptions_for(yearly[0], distribution=dist)
        else:
            assumptions = projection.glide_assumptions(yearly, distribution=dist)
        result = projection.project(plan, assumptions, paths=paths, seed=seed)
        needed = projection.solve_contribution(
            plan, assumptions, success_probability, paths=min(paths, REQUIRED_PATHS), seed=seed
        )
    first_year = today.year
    return {
        "mode": mode,
        "years": plan.years,
        "years_to_goal": to_goal,
        "paths": result.paths,
        "seed": seed if mode != "historical" else None,
        "starting_balance": starting_balance,
        "allocation_basis": basis,
        "allocation": {
            k: Decimal(repr(v)).quantize(Decimal("0.0001")) for k, v in yearly[0].items()
        },
        "glide_path": None
        if glide is None
        else [{"year": first_year + k + 1, "equity_share": e} for k, e in enumerate(glide)],
        "success_definition": "never running out"
        if plan.goal is None
        else "real balance at the goal date >= target amount",
        "percentiles": [
            {
                "year": first_year + int(y),
                "p10": _money(p10),
                "p50": _money(p50),
                "p90": _money(p90),
            }
            for y, p10, p50, p90 in zip(
                result.years, result.p10, result.p50, result.p90, strict=True
            )
        ],
        "success_probability": round(result.success_probability, 6),
        "success_std_error": round(result.success_std_error, 6),
        "target_probability": success_probability,
        "required_monthly_contribution": _money(needed.monthly),
        "required_contribution_paths": needed.paths,
        "required_contribution_probability": round(needed.probability, 6),
        "required_contribution_std_error": round(needed.std_error, 6),
        "dollars": "today's dollars (deflated by simulated or historical inflation)",
    }
