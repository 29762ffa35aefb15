import numpy as np
import pytest

from transactions.categorizer.evaluate import (
    evaluation_report,
    expected_calibration_error,
    format_report,
)

CLASSES = ["FOOD_AND_DRINK_COFFEE", "FOOD_AND_DRINK_GROCERIES", "TRAVEL_FLIGHTS"]


def test_ece_zero_when_confidence_matches_accuracy():
    confidence = np.array([0.8] * 10)
    correct = np.array([1] * 8 + [0] * 2)
    assert expected_calibration_error(confidence, correct) == pytest.approx(0.0)


def test_ece_of_overconfident_predictions():
    assert expected_calibration_error(np.array([0.9, 0.9]), np.array([0, 0])) == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("confidence", "correct", "message"),
    [([], [], "no predictions"), ([1.2], [1], r"\[0, 1\]"), ([0.5, 0.5], [1], "same shape")],
)
def test_ece_bad_input(confidence, correct, message):
    with pytest.raises(ValueError, match=message):
        expected_calibration_error(np.array(confidence), np.array(correct))


def test_report_primary_accuracy_counts_right_primary_wrong_detailed():
    y_true = ["FOOD_AND_DRINK_COFFEE", "FOOD_AND_DRINK_COFFEE", "TRAVEL_FLIGHTS", "TRAVEL_FLIGHTS"]
    probabilities = np.array([[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8], [0.6, 0.3, 0.1]])
    report = evaluation_report(y_true, probabilities, CLASSES, min_confidence=0.75)
    assert report["accuracy_detailed"] == 0.5
    assert report["accuracy_primary"] == 0.75
    assert report["coverage"] == 0.5 and report["accuracy_detailed_covered"] == 1.0
    assert report["per_category"]["TRAVEL_FLIGHTS"] == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": pytest.approx(0.6667, abs=1e-4),
        "support": 2,
    }
    text = format_report(report, "demo")
    assert "accuracy primary  0.750" in text and "TRAVEL_FLIGHTS" in text


def test_report_shape_mismatch_and_empty():
    with pytest.raises(ValueError, match="shape"):
        evaluation_report(["TRAVEL_FLIGHTS"], np.ones((1, 2)), CLASSES)
    with pytest.raises(ValueError, match="no rows"):
        evaluation_report([], np.ones((0, 3)), CLASSES)
