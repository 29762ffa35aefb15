"""Evaluation report: accuracy (primary and detailed), macro-F1, per-category precision and
recall, expected calibration error, and coverage / accuracy at the confidence threshold.

ECE (Naeini et al. 2015; Guo et al. 2017): split predictions into ``n_bins`` equal-width bins
of top-label confidence, ECE = sum_b (n_b / n) * |accuracy_b - mean confidence_b|.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support

from transactions.categorizer.taxonomy import primary_of


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, n_bins: int = 15
) -> float:
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    if confidence.shape != correct.shape:
        raise ValueError("confidence and correct must have the same shape")
    if len(confidence) == 0:
        raise ValueError("cannot compute ECE of no predictions")
    if np.any((confidence < 0) | (confidence > 1)):
        raise ValueError("confidence values must lie in [0, 1]")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(ece)


def evaluation_report(
    y_true: Sequence[str],
    probabilities: np.ndarray,
    classes: Sequence[str],
    *,
    min_confidence: float = 0.5,
    n_bins: int = 15,
) -> dict[str, Any]:
    """A JSON-safe report of how well ``probabilities`` (rows x classes) predict ``y_true``."""
    y_true = np.asarray(list(y_true))
    probabilities = np.asarray(probabilities)
    if len(y_true) == 0:
        raise ValueError("cannot evaluate on no rows")
    if probabilities.shape != (len(y_true), len(classes)):
        raise ValueError(
            f"probabilities shape {probabilities.shape} != ({len(y_true)}, {len(classes)})"
        )
    classes = np.asarray(list(classes))
    best = probabilities.argmax(axis=1)
    y_pred = classes[best]
    confidence = probabilities[np.arange(len(best)), best]
    correct = y_pred == y_true
    p_true = np.asarray([primary_of(c) for c in y_true])
    p_pred = np.asarray([primary_of(c) for c in y_pred])
    labels = sorted(set(y_true.tolist()))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    covered = confidence >= min_confidence
    per_category = {
        label: {
            "precision": round(float(p), 4),
            "recall": round(float(r), 4),
            "f1": round(float(f), 4),
            "support": int(s),
        }
        for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    }
    return {
        "n": int(len(y_true)),
        "accuracy_detailed": round(float(correct.mean()), 4),
        "accuracy_primary": round(float((p_true == p_pred).mean()), 4),
        "macro_f1_detailed": round(
            float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)), 4
        ),
        "macro_f1_primary": round(
            float(f1_score(p_true, p_pred, average="macro", zero_division=0)), 4
        ),
        "ece": round(expected_calibration_error(confidence, correct, n_bins), 4),
        "mean_confidence": round(float(confidence.mean()), 4),
        "min_confidence": min_confidence,
        "coverage": round(float(covered.mean()), 4),
        "accuracy_detailed_covered": (
            round(float(correct[covered].mean()), 4) if covered.any() else None
        ),
        "per_category": per_category,
    }


def format_report(report: dict[str, Any], title: str = "evaluation", worst: int = 10) -> str:
    lines = [
        f"== {title} (n={report['n']}) ==",
        f"accuracy primary  {report['accuracy_primary']:.3f}   macro-F1 primary  "
        f"{report['macro_f1_primary']:.3f}",
        f"accuracy detailed {report['accuracy_detailed']:.3f}   macro-F1 detailed "
        f"{report['macro_f1_detailed']:.3f}",
        f"ECE {report['ece']:.3f}   mean confidence {report['mean_confidence']:.3f}",
        f"at confidence >= {report['min_confidence']}: coverage {report['coverage']:.3f}, "
        f"detailed accuracy {report['accuracy_detailed_covered']}",
    ]
    ranked = sorted(report["per_category"].items(), key=lambda kv: kv[1]["f1"])[:worst]
    if ranked:
        lines.append(f"weakest {len(ranked)} categories (precision / recall / support):")
        for name, m in ranked:
            lines.append(f"  {name:<60} {m['precision']:.2f} / {m['recall']:.2f} / {m['support']}")
    return "\n".join(lines)
