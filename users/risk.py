"""Risk questionnaire -> risk score 1 (most conservative) .. 10 (most aggressive).

The score is the *lower* of two sub-scores, because an investor should take no more risk than
they can afford (capacity) nor more than they can stomach (tolerance) — the usual suitability
rule that when capacity and willingness disagree, the lower one governs.

Capacity (ability to bear losses), from the investment horizon, adjusted for income:

    horizon_years   <1   1-2  3-4  5-6  7-9  10-14  15-19  20-24  25+
    points           1    2    3    4    5     6      7      8     9

    income_stability: unstable -1, stable 0, very_stable +1
    age (optional):   60 or older -1 (less working life left to make up a loss)

Tolerance (willingness), from the reaction to a 20 % drop, adjusted for experience:

    loss_tolerance:  sell_all 2, sell_some 4, hold 7, buy_more 9
    experience:      none -1, some 0, experienced +1

Each sub-score is clamped to 1..10 and ``score = min(capacity, tolerance)``.
"""

from __future__ import annotations

from collections.abc import Mapping

HORIZON_MAX = 60
AGE_MIN, AGE_MAX = 18, 120
LOSS_TOLERANCE = {"sell_all": 2, "sell_some": 4, "hold": 7, "buy_more": 9}
INCOME_STABILITY = {"unstable": -1, "stable": 0, "very_stable": 1}
EXPERIENCE = {"none": -1, "some": 0, "experienced": 1}
_HORIZON_BANDS = ((1, 1), (3, 2), (5, 3), (7, 4), (10, 5), (15, 6), (20, 7), (25, 8))
SENIOR_AGE = 60


def _clamp(value: int) -> int:
    return max(1, min(10, value))


def horizon_points(horizon_years: int) -> int:
    for upper, points in _HORIZON_BANDS:
        if horizon_years < upper:
            return points
    return 9


def _choice(answers: Mapping, key: str, table: Mapping[str, int]) -> int:
    value = answers.get(key)
    if value not in table:
        raise ValueError(f"{key} must be one of {sorted(table)}, got {value!r}")
    return table[value]


def _integer(answers: Mapping, key: str, low: int, high: int, *, required: bool) -> int | None:
    value = answers.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{key} must be a whole number {low}..{high}, got {value!r}")
    return value


def score(answers: Mapping) -> dict:
    """``{"capacity", "tolerance", "risk_score"}`` for the questionnaire ``answers``.

    ``answers``: ``horizon_years`` (0..60), ``loss_tolerance``, ``income_stability``,
    ``experience`` and optionally ``age`` (18..120). Raises ValueError on anything else.
    """
    horizon = _integer(answers, "horizon_years", 0, HORIZON_MAX, required=True)
    age = _integer(answers, "age", AGE_MIN, AGE_MAX, required=False)
    capacity = horizon_points(horizon) + _choice(answers, "income_stability", INCOME_STABILITY)
    if age is not None and age >= SENIOR_AGE:
        capacity -= 1
    tolerance = _choice(answers, "loss_tolerance", LOSS_TOLERANCE) + _choice(
        answers, "experience", EXPERIENCE
    )
    capacity, tolerance = _clamp(capacity), _clamp(tolerance)
    return {"capacity": capacity, "tolerance": tolerance, "risk_score": min(capacity, tolerance)}
