"""Target allocation from a risk score (1-10) and the years left to the goal, with a glide path.

    base equity share  e(score) = 10% + (score - 1) x 10%          (1 -> 10%, 10 -> 100%)
    horizon cap        c(years) = clamp(20% + 5% x years, 20%, 100%)  (0 y -> 20%, >= 16 y -> 100%)
    equity share       = min(e(score), c(years))

so a goal 30 years away is invested at the user's chosen risk, and the equity share steps down
as the goal date nears (the glide path), never below the user's own choice if that is lower.
The equity and bond shares are split across asset classes with fixed house sub-weights
(``EQUITY_MIX``, ``BOND_MIX``); ``use_munis`` replaces taxable bonds by municipal bonds for
high-bracket taxable accounts.  Weights are Decimal and sum to exactly one.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from portfolio.errors import InvalidInput

EQUITY_MIX = {
    "us_stocks": Decimal("0.50"),
    "us_dividend": Decimal("0.10"),
    "intl_developed": Decimal("0.25"),
    "emerging": Decimal("0.10"),
    "us_reits": Decimal("0.05"),
}
BOND_MIX = {"us_bonds": Decimal("0.70"), "tips": Decimal("0.30")}
STEP = Decimal("0.0001")


def _check(risk_score: int, years_to_goal: float) -> None:
    if not isinstance(risk_score, int) or not 1 <= risk_score <= 10:
        raise InvalidInput("risk_score", "must be an integer from 1 to 10")
    if years_to_goal < 0:
        raise InvalidInput("years_to_goal", "must not be negative")


def equity_share(risk_score: int, years_to_goal: float) -> Decimal:
    _check(risk_score, years_to_goal)
    base = Decimal("0.10") * risk_score
    cap = min(
        max(Decimal("0.20") + Decimal("0.05") * Decimal(str(years_to_goal)), Decimal("0.20")),
        Decimal(1),
    )
    return min(base, cap).quantize(STEP, ROUND_HALF_EVEN)


def target_allocation(
    risk_score: int, years_to_goal: float, *, use_munis: bool = False
) -> dict[str, Decimal]:
    """Asset-class weights (Decimal, summing to exactly 1)."""
    eq = equity_share(risk_score, years_to_goal)
    bonds = dict(BOND_MIX)
    if use_munis:
        bonds = {"munis": bonds.pop("us_bonds"), **bonds}
    weights = {k: (v * eq).quantize(STEP, ROUND_HALF_EVEN) for k, v in EQUITY_MIX.items()}
    weights.update({k: (v * (1 - eq)).quantize(STEP, ROUND_HALF_EVEN) for k, v in bonds.items()})
    weights = {k: v for k, v in weights.items() if v > 0}
    residual = Decimal(1) - sum(weights.values(), Decimal(0))
    biggest = max(weights, key=lambda k: weights[k])
    weights[biggest] += residual
    return weights


def glide_path(risk_score: int, years_to_goal: int) -> list[tuple[int, Decimal]]:
    """(years remaining, equity share) for each year from now to the goal date."""
    _check(risk_score, years_to_goal)
    return [(y, equity_share(risk_score, y)) for y in range(int(years_to_goal), -1, -1)]
