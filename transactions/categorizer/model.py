"""The scikit-learn model: features -> linear SVM -> temperature-scaled probabilities.

``fit_model`` trains ``TransactionFeatures`` and a one-vs-rest ``LinearSVC``. Its decision
scores become probabilities through a softmax with one temperature ``T`` (temperature scaling,
Guo et al. 2017), fitted by minimising the log-loss on a *merchant-disjoint* calibration slice:
the SVM is first fitted without the calibration merchants, ``T`` is fitted on their scores, and
then the SVM is refitted on all rows. Fitting ``T`` on unseen merchants makes the confidence
honest for the case that matters (a merchant the model has not seen), at the cost of being a
little under-confident on well-known merchants. The primary category's probability is the sum
over its detailed categories.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import sklearn
from scipy.optimize import minimize_scalar
from sklearn.model_selection import GroupShuffleSplit
from sklearn.svm import LinearSVC

from transactions.categorizer.features import FeatureRow, TransactionFeatures
from transactions.categorizer.taxonomy import primary_of, validate_detailed

MODEL_FORMAT = 1


@dataclass(frozen=True)
class ModelParams:
    C: float = 0.2  # noqa: N815 - scikit-learn's name
    char_ngrams: tuple[int, int] = (2, 4)
    word_ngrams: tuple[int, int] = (1, 2)
    max_char_features: int = 100_000
    numeric_weight: float = 1.0
    calibration_fraction: float = 0.15
    tol: float = 1e-2
    seed: int = 0

    def __post_init__(self):
        if not self.C > 0:
            raise ValueError(f"C must be positive, got {self.C}")
        if not 0.0 < self.calibration_fraction < 0.5:
            raise ValueError(
                f"calibration_fraction must be in (0, 0.5), got {self.calibration_fraction}"
            )

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Prediction:
    detailed: str
    primary: str
    confidence: float  # calibrated probability of ``detailed``
    primary_confidence: float
    top: list[tuple[str, float]] = field(default_factory=list)  # best detailed first


class CategorizerModel:
    """Fitted features, classifier and temperature, plus what identifies them."""

    def __init__(
        self,
        features: TransactionFeatures,
        classifier: LinearSVC,
        temperature: float,
        params: ModelParams,
        data_hash: str,
        meta: dict,
    ):
        self.features = features
        self.classifier = classifier
        self.temperature = float(temperature)
        self.params = params
        self.data_hash = data_hash
        self.meta = dict(meta)
        self.classes_: np.ndarray = classifier.classes_
        self.primaries_: list[str] = [primary_of(c) for c in self.classes_]
        self._primary_index: dict[str, np.ndarray] = {}
        for i, p in enumerate(self.primaries_):
            self._primary_index.setdefault(p, []).append(i)
        self._primary_index = {k: np.asarray(v) for k, v in self._primary_index.items()}
        self.version = model_version(params, data_hash)

    def decision_scores(self, rows: Sequence[FeatureRow]) -> np.ndarray:
        return self.classifier.decision_function(self.features.transform(list(rows)))

    def predict_proba(self, rows: Sequence[FeatureRow]) -> np.ndarray:
        if len(rows) == 0:
            return np.zeros((0, len(self.classes_)))
        return softmax(self.decision_scores(rows) / self.temperature)

    def predict(self, rows: Sequence[FeatureRow], top_k: int = 3) -> list[Prediction]:
        probabilities = self.predict_proba(rows)
        k = max(top_k, 1)
        order = np.argsort(-probabilities, axis=1)[:, :k]
        out = []
        for row, best_k in zip(probabilities, order, strict=True):
            best = best_k[0]
            primary = self.primaries_[best]
            out.append(
                Prediction(
                    detailed=str(self.classes_[best]),
                    primary=primary,
                    confidence=float(row[best]),
                    primary_confidence=float(row[self._primary_index[primary]].sum()),
                    top=[(str(self.classes_[j]), float(row[j])) for j in best_k],
                )
            )
        return out


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def fit_temperature(scores: np.ndarray, label_index: np.ndarray) -> float:
    """The T > 0 minimising the mean negative log-likelihood of softmax(scores / T)."""
    rows = np.arange(len(label_index))

    def nll(log_t: float) -> float:
        z = scores / np.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(z).sum(axis=1))
        return float(np.mean(log_norm - z[rows, label_index]))

    result = minimize_scalar(nll, bounds=(np.log(1e-3), np.log(1e2)), method="bounded")
    return float(np.exp(result.x))


def model_version(params: ModelParams, data_hash: str) -> str:
    """Version string: format, params and data hash; changes whenever either changes."""
    blob = json.dumps(
        {"format": MODEL_FORMAT, "params": params.to_json(), "sklearn": sklearn.__version__},
        sort_keys=True,
    )
    params_hash = hashlib.sha256(blob.encode()).hexdigest()[:8]
    return f"cat-{params_hash}-{data_hash[:12]}"


def data_fingerprint(rows: Sequence[FeatureRow], labels: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for row, label in zip(rows, labels, strict=True):
        digest.update(f"{row.cache_key()}\t{label}\n".encode())
    return digest.hexdigest()


def _fit_pair(rows, labels, params: ModelParams) -> tuple[TransactionFeatures, LinearSVC]:
    features = TransactionFeatures(
        char_ngrams=params.char_ngrams,
        word_ngrams=params.word_ngrams,
        max_char_features=params.max_char_features,
        numeric_weight=params.numeric_weight,
    ).fit(rows)
    # dual coordinate descent: "auto" switches to the primal solver once rows outnumber features,
    # which on this data is several times slower for the same optimum
    classifier = LinearSVC(C=params.C, tol=params.tol, dual=True, random_state=params.seed)
    classifier.fit(features.transform(rows), labels)
    return features, classifier


def fit_model(
    rows: Sequence[FeatureRow],
    labels: Sequence[str],
    groups: Sequence[str] | None = None,
    params: ModelParams | None = None,
    temperature: float | None = None,
) -> CategorizerModel:
    """Fit on ``rows``; ``groups`` (merchant keys) keep the calibration slice merchant-disjoint.

    Pass ``temperature`` to reuse one fitted earlier (for example by the evaluation model on
    the same data distribution) and skip the calibration fit.
    """
    params = params or ModelParams()
    rows, labels = list(rows), np.asarray(labels)
    if len(rows) != len(labels):
        raise ValueError(f"{len(rows)} rows but {len(labels)} labels")
    if len(rows) == 0:
        raise ValueError("cannot fit a model on no rows")
    for label in set(labels.tolist()):
        validate_detailed(label)
    if len(set(labels.tolist())) < 2:
        raise ValueError("need at least two categories to fit a model")
    groups = np.asarray(groups if groups is not None else [r.text for r in rows])
    if len(groups) != len(rows):
        raise ValueError(f"{len(rows)} rows but {len(groups)} groups")

    n_calibration = 0
    if temperature is None:
        splitter = GroupShuffleSplit(
            n_splits=1, test_size=params.calibration_fraction, random_state=params.seed
        )
        fit_idx, cal_idx = next(splitter.split(rows, labels, groups))
        features, classifier = _fit_pair([rows[i] for i in fit_idx], labels[fit_idx], params)
        known = {c: i for i, c in enumerate(classifier.classes_)}
        cal_idx = np.asarray([i for i in cal_idx if labels[i] in known])
        if len(cal_idx) == 0:
            raise ValueError("the calibration slice has no rows of a known category")
        scores = classifier.decision_function(features.transform([rows[i] for i in cal_idx]))
        temperature = fit_temperature(scores, np.asarray([known[labels[i]] for i in cal_idx]))
        n_calibration = len(cal_idx)
    elif not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")

    features, classifier = _fit_pair(rows, labels, params)
    meta = {
        "n_rows": len(rows),
        "n_classes": len(classifier.classes_),
        "n_calibration_rows": n_calibration,
        "temperature": temperature,
        "sklearn": sklearn.__version__,
    }
    return CategorizerModel(
        features, classifier, temperature, params, data_fingerprint(rows, labels), meta
    )
