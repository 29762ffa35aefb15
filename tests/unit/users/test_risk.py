"""Risk questionnaire scoring: documented bands, min(capacity, tolerance), bad input."""

import itertools

import pytest

from users import risk

BASE = {
    "horizon_years": 30,
    "loss_tolerance": "buy_more",
    "income_stability": "very_stable",
    "experience": "experienced",
}


def test_extremes():
    assert risk.score(BASE) == {"capacity": 10, "tolerance": 10, "risk_score": 10}
    low = {
        "horizon_years": 0,
        "loss_tolerance": "sell_all",
        "income_stability": "unstable",
        "experience": "none",
    }
    assert risk.score(low)["risk_score"] == 1


def test_lower_subscore_governs():
    short = {**BASE, "horizon_years": 2}  # capacity 2 + 1 = 3, tolerance 10
    assert risk.score(short) == {"capacity": 3, "tolerance": 10, "risk_score": 3}
    timid = {**BASE, "loss_tolerance": "sell_some"}  # tolerance 4 + 1 = 5
    assert risk.score(timid)["risk_score"] == 5


@pytest.mark.parametrize(
    ("years", "points"),
    [
        (0, 1),
        (1, 2),
        (2, 2),
        (3, 3),
        (5, 4),
        (7, 5),
        (9, 5),
        (10, 6),
        (15, 7),
        (20, 8),
        (25, 9),
        (60, 9),
    ],
)
def test_horizon_bands(years, points):
    assert risk.horizon_points(years) == points


def test_age_sixty_or_more_lowers_capacity_by_one():
    assert risk.score({**BASE, "age": 59})["capacity"] == 10
    assert risk.score({**BASE, "age": 60})["capacity"] == 9


def test_score_is_monotonic_in_every_answer():
    horizons = [0, 3, 10, 30]
    for h, loss, inc, exp in itertools.product(
        horizons, risk.LOSS_TOLERANCE, risk.INCOME_STABILITY, risk.EXPERIENCE
    ):
        answers = {
            "horizon_years": h,
            "loss_tolerance": loss,
            "income_stability": inc,
            "experience": exp,
        }
        result = risk.score(answers)["risk_score"]
        assert 1 <= result <= 10
        longer = risk.score({**answers, "horizon_years": h + 5})["risk_score"]
        assert longer >= result


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"horizon_years": -1}, "horizon_years"),
        ({"horizon_years": 61}, "horizon_years"),
        ({"horizon_years": 5.5}, "horizon_years"),
        ({"horizon_years": True}, "horizon_years"),
        ({"loss_tolerance": "panic"}, "loss_tolerance"),
        ({"income_stability": None}, "income_stability"),
        ({"experience": "expert"}, "experience"),
        ({"age": 12}, "age"),
    ],
)
def test_bad_answers_raise_clear_errors(change, message):
    with pytest.raises(ValueError, match=message):
        risk.score({**BASE, **change})
