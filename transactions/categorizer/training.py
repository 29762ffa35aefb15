"""Training entry points: ``train`` (plain function), ``main_train`` (CLI) and ``load_or_train``.

``train`` splits the shipped corpus *by merchant* (GroupShuffleSplit: no merchant is in both
training and test), fits and evaluates a model on the held-out merchants in the training
template family (A) and in the differently styled family B, then refits on all family-A rows
(plus users' corrections, passed as ``extra_rows``) reusing the fitted temperature. It returns
``(model, report)``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.model_selection import GroupShuffleSplit

from transactions.categorizer.artifacts import (
    LocalArtifactStore,
    load_model,
    save_model,
    store_from_env,
)
from transactions.categorizer.cli import build_train_parser
from transactions.categorizer.corpus_gen import load_corpus
from transactions.categorizer.corrections import corrections_as_training_rows
from transactions.categorizer.errors import ArtifactNotFound, CategorizerError, InvalidTransaction
from transactions.categorizer.evaluate import evaluation_report, format_report
from transactions.categorizer.features import FeatureRow, feature_row
from transactions.categorizer.model import CategorizerModel, ModelParams, fit_model
from transactions.categorizer.normalize import brand_keys, merchant_key
from transactions.categorizer.taxonomy import primary_of, validate_detailed

Progress = Callable[[int, int, str], None]
GOALS = {"accuracy_primary": 0.92, "accuracy_detailed": 0.80}
TOTAL_STEPS = 5


def _featurize(rows: Sequence[Mapping[str, Any]], what: str) -> tuple[list[FeatureRow], list[str]]:
    features, labels = [], []
    for index, row in enumerate(rows, start=1):
        try:
            features.append(
                feature_row(row["description"], row["amount"], row.get("payment_channel"))
            )
            labels.append(validate_detailed(row["category_detailed"]))
        except KeyError as exc:
            raise InvalidTransaction(f"{what} row {index}: missing field {exc}") from None
        except CategorizerError as exc:
            raise InvalidTransaction(f"{what} row {index}: {exc}") from None
    return features, labels


def _breakdown(model, rows, features, labels, idx, key: str) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    values = sorted({rows[i].get(key) or "unknown" for i in idx})
    for value in values:
        sub = [i for i in idx if (rows[i].get(key) or "unknown") == value]
        predictions = model.predict([features[i] for i in sub], top_k=1)
        det = np.mean([p.detailed == labels[i] for p, i in zip(predictions, sub, strict=True)])
        pri = np.mean(
            [p.primary == primary_of(labels[i]) for p, i in zip(predictions, sub, strict=True)]
        )
        out[value] = {
            "n": len(sub),
            "accuracy_detailed": round(float(det), 4),
            "accuracy_primary": round(float(pri), 4),
        }
    return out


def _name(row: Mapping[str, Any]) -> str:
    return row.get("merchant") or merchant_key(row["description"])


def split_groups(rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """The split unit of each row. Brands that share a :func:`brand_keys` key form one unit, so
    no printed variant of a held-out brand is trained on (``SPOTIFY`` / ``SPOTIFY PREMIUM``,
    ``COSTA COFFEE`` / ``COSTA COFFEE IE``, ``WHOLE FOODS MARKET`` / ``WHOLEFDS MKT``). A local
    business (``BAECKEREI WEBER``) is its own unit, joined only with rows of the same name: its
    neighbours with the same trade word are other merchants, and learning that word is the
    point."""
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    names = []
    for row in rows:
        name = "n:" + " ".join(_name(row).upper().split())
        names.append(name)
        if row.get("merchant_type") != "local":
            for key in brand_keys(_name(row)):
                parent[find(key)] = find(name)
    return np.asarray([find(name) for name in names])


def merchant_split(
    rows: Sequence[Mapping[str, Any]],
    *,
    test_size: float = 0.2,
    seed: int = 0,
    groups: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Indices (train A, held-out A, held-out-merchant B, training-merchant B).

    Family-A rows are split by merchant (:func:`split_groups`, or ``groups`` when given) with
    GroupShuffleSplit, so no merchant is on both sides; family-B rows (the held-out template
    style) are never trained on and are divided by whether their merchant was held out.
    """
    families = np.asarray([r.get("family") or "A" for r in rows])
    groups = split_groups(rows) if groups is None else np.asarray(groups)
    labels = np.asarray([r.get("category_detailed") for r in rows])
    a_idx = np.flatnonzero(families == "A")
    if len(a_idx) < 2:
        raise ValueError("need at least two family-A rows to split")
    splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    tr, te = next(splitter.split(a_idx, labels[a_idx], groups[a_idx]))
    held = set(groups[a_idx[te]].tolist())
    b_all = np.flatnonzero(families == "B")
    in_held = np.asarray([groups[i] in held for i in b_all], dtype=bool)
    return a_idx[tr], a_idx[te], b_all[in_held], b_all[~in_held]


def train(
    corpus_rows: Sequence[Mapping[str, Any]] | None = None,
    *,
    extra_rows: Iterable[Mapping[str, Any]] = (),
    params: ModelParams | None = None,
    test_size: float = 0.2,
    seed: int = 0,
    min_confidence: float = 0.5,
    refit_full: bool = True,
    progress: Progress | None = None,
) -> tuple[CategorizerModel, dict[str, Any]]:
    """Fit, evaluate on held-out merchants, refit on everything; returns (model, report)."""
    if not 0.0 < test_size < 0.5:
        raise ValueError(f"test_size must be in (0, 0.5), got {test_size}")
    params = params or ModelParams(seed=seed)
    step = progress or (lambda done, total, message: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()

    step(0, TOTAL_STEPS, "loading corpus")
    rows = list(corpus_rows) if corpus_rows is not None else load_corpus()
    extra = corrections_as_training_rows(extra_rows)
    features, labels = _featurize(rows, "corpus")
    extra_features, extra_labels = _featurize(extra, "correction")
    all_groups = split_groups([*rows, *extra])
    groups, extra_groups = all_groups[: len(rows)], all_groups[len(rows) :]
    a_idx = np.flatnonzero(np.asarray([(r.get("family") or "A") == "A" for r in rows]))
    timings["load_s"] = time.perf_counter() - started

    step(1, TOTAL_STEPS, "splitting by merchant")
    train_idx, test_idx, b_idx, b_seen_idx = merchant_split(
        rows, test_size=test_size, seed=seed, groups=groups
    )
    test_merchants = set(groups[test_idx].tolist())
    # a correction about a held-out merchant (brand or local) would leak it into the evaluation
    held_keys = {key for i in test_idx for key in brand_keys(_name(rows[i]))}
    extra_idx = [
        j for j, row in enumerate(extra) if not held_keys.intersection(brand_keys(_name(row)))
    ]

    step(2, TOTAL_STEPS, "fitting evaluation model")
    t0 = time.perf_counter()
    fit_rows = [features[i] for i in train_idx] + [extra_features[j] for j in extra_idx]
    fit_labels = [labels[i] for i in train_idx] + [extra_labels[j] for j in extra_idx]
    fit_groups = [groups[i] for i in train_idx] + [extra_groups[j] for j in extra_idx]
    eval_model = fit_model(fit_rows, fit_labels, fit_groups, params)
    timings["fit_evaluation_s"] = time.perf_counter() - t0

    step(3, TOTAL_STEPS, "evaluating on held-out merchants")
    t0 = time.perf_counter()
    classes = list(eval_model.classes_)
    held_out = evaluation_report(
        [labels[i] for i in test_idx],
        eval_model.predict_proba([features[i] for i in test_idx]),
        classes,
        min_confidence=min_confidence,
    )
    timings["predict_rows_per_s"] = len(test_idx) / max(time.perf_counter() - t0, 1e-9)
    other_style = (
        evaluation_report(
            [labels[i] for i in b_idx],
            eval_model.predict_proba([features[i] for i in b_idx]),
            classes,
            min_confidence=min_confidence,
        )
        if len(b_idx)
        else None
    )
    by_type = _breakdown(eval_model, rows, features, labels, test_idx, "merchant_type")
    seen_other_style = (
        _breakdown(eval_model, rows, features, labels, b_seen_idx, "family")
        if len(b_seen_idx)
        else {}
    )

    model = eval_model
    if refit_full:
        step(4, TOTAL_STEPS, "fitting final model on all rows")
        t0 = time.perf_counter()
        model = fit_model(
            [features[i] for i in a_idx] + extra_features,
            [labels[i] for i in a_idx] + extra_labels,
            [groups[i] for i in a_idx] + list(extra_groups),
            params,
            temperature=eval_model.temperature,
        )
        timings["fit_final_s"] = time.perf_counter() - t0
    timings["total_s"] = time.perf_counter() - started
    step(TOTAL_STEPS, TOTAL_STEPS, "done")

    report = {
        "model_version": model.version,
        "evaluation_model_version": eval_model.version,
        "params": params.to_json(),
        "temperature": round(eval_model.temperature, 4),
        "n_corpus_rows": len(rows),
        "n_correction_rows": len(extra),
        "n_train_rows": len(train_idx) + len(extra_idx),
        "n_test_rows": len(test_idx),
        "n_test_merchants": len({_name(rows[i]) for i in test_idx}),
        "n_test_split_units": len(test_merchants),
        "n_train_merchants": len({_name(rows[i]) for i in train_idx}),
        "held_out": held_out,
        "held_out_other_style": other_style,
        "held_out_by_merchant_type": by_type,
        "seen_merchants_unseen_templates": seen_other_style.get("B"),
        "goals": {
            name: {"target": target, "achieved": held_out[name], "met": held_out[name] >= target}
            for name, target in GOALS.items()
        },
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }
    return model, report


def text_progress(stream=None, width: int = 30) -> Progress:
    """A plain-text progress bar callback (no extra dependencies)."""
    stream = stream or sys.stderr
    started = time.perf_counter()

    def show(done: int, total: int, message: str) -> None:
        filled = int(width * done / max(total, 1))
        elapsed = time.perf_counter() - started
        bar = "#" * filled + "-" * (width - filled)
        stream.write(f"\r[{bar}] {done}/{total} {elapsed:6.1f}s {message:<40}")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return show


def format_training_report(report: Mapping[str, Any]) -> str:
    parts = [
        f"model {report['model_version']}  (trained on {report['n_train_rows']} rows, "
        f"{report['n_train_merchants']} merchants; temperature {report['temperature']})",
        format_report(
            report["held_out"],
            f"held-out merchants, training template family "
            f"({report['n_test_merchants']} merchants)",
        ),
    ]
    if report.get("held_out_other_style"):
        parts.append(
            format_report(
                report["held_out_other_style"],
                "held-out merchants, unseen template family B",
                worst=0,
            )
        )
    for kind, m in report.get("held_out_by_merchant_type", {}).items():
        parts.append(
            f"held-out {kind} merchants: n={m['n']} primary {m['accuracy_primary']:.3f} "
            f"detailed {m['accuracy_detailed']:.3f}"
        )
    seen = report.get("seen_merchants_unseen_templates")
    if seen:
        parts.append(
            f"training merchants printed in unseen template family B: n={seen['n']} "
            f"primary {seen['accuracy_primary']:.3f} detailed {seen['accuracy_detailed']:.3f}"
        )
    for name, goal in report["goals"].items():
        mark = "met" if goal["met"] else "NOT met"
        parts.append(f"goal {name} >= {goal['target']}: {goal['achieved']:.3f} ({mark})")
    parts.append("timings: " + ", ".join(f"{k}={v}" for k, v in report["timings"].items()))
    return "\n".join(parts)


def _deployment_corrections(min_users: int) -> list:
    from sqlalchemy.exc import SQLAlchemyError

    from transactions.correction_export import rows_from_deployment

    if min_users < 1:
        raise CategorizerError("--min-users must be at least 1")
    try:
        rows = rows_from_deployment(min_users=min_users)
    except SQLAlchemyError as exc:
        raise CategorizerError(
            f"cannot read corrections from the transactions database: {type(exc).__name__}"
        ) from None
    print(f"folding in {len(rows)} corrected transactions from the deployment")
    return rows


def run_train(args: argparse.Namespace) -> int:
    extra: list = []
    if args.corrections:
        extra = json.loads(args.corrections.read_text())
        if not isinstance(extra, list):
            raise CategorizerError(f"{args.corrections}: expected a JSON list of transactions")
    if args.from_deployment:
        extra = extra + _deployment_corrections(args.min_users)
    model, report = train(
        load_corpus(args.corpus) if args.corpus else load_corpus(),
        extra_rows=extra,
        params=ModelParams(seed=args.seed),
        test_size=args.test_size,
        seed=args.seed,
        min_confidence=args.min_confidence,
        progress=None if args.quiet else text_progress(),
    )
    print(format_training_report(report))
    if args.report_json:
        args.report_json.parent.mkdir(parents=True, exist_ok=True)
        args.report_json.write_text(json.dumps(report, indent=2))
    if not args.no_save:
        store = LocalArtifactStore(args.store_dir) if args.store_dir else store_from_env()
        save_model(store, model, report)
        print(f"saved model {model.version}")
    return 0


def main_train(argv: Sequence[str] | None = None) -> int:
    args = build_train_parser().parse_args(argv)
    try:
        return run_train(args)
    except (CategorizerError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def load_or_train(store=None, *, train_if_missing: bool = True, progress: Progress | None = None):
    """The latest stored model; trains and saves one first if none exists (service start)."""
    store = store or store_from_env()
    try:
        return load_model(store)
    except ArtifactNotFound:
        if not train_if_missing:
            raise
    model, report = train(progress=progress)
    save_model(store, model, report)
    return model
