"""The layered categorisation engine; first match wins and every result names its source.

1. ``rule``: the user's rules, in order (``rules.first_matching_rule``);
2. ``correction``: the user's own earlier re-categorisation of the same merchant key;
3. ``model``: the calibrated model, if its confidence reaches ``min_confidence``;
4. ``none``: otherwise the transaction stays uncategorised and carries the model's top
   suggestions instead of a guess.

Input transactions are plain dicts: ``description`` and ``amount`` (Decimal or decimal string;
negative = money out) are required; ``user_id``, ``account_id``, ``payment_channel``
(``online`` / ``in store`` / ``other``) and ``merchant_name`` are optional. Output dicts are
JSON-safe: ``category_primary``, ``category_detailed`` (None when uncategorised),
``confidence`` (0..1), ``source``, ``rule_id``, ``suggestions``, ``merchant_key`` and
``model_version``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from transactions.categorizer.cache import PredictionCache, cache_key
from transactions.categorizer.corrections import lookup_correction
from transactions.categorizer.errors import CategorizerError, InvalidTransaction
from transactions.categorizer.features import (
    FeatureRow,
    amount_bucket,
    normalize_channel,
    parse_amount,
)
from transactions.categorizer.model import CategorizerModel, Prediction
from transactions.categorizer.normalize import clean_description, merchant_key_from_clean
from transactions.categorizer.rules import Rule, RuleView, first_matching_rule, rule_from_dict
from transactions.categorizer.taxonomy import primary_of

log = logging.getLogger(__name__)
DEFAULT_MIN_CONFIDENCE = 0.5
SOURCES = ("rule", "correction", "model", "none")


def _prediction_to_doc(p: Prediction) -> dict[str, Any]:
    return {"d": p.detailed, "c": p.confidence, "pc": p.primary_confidence, "top": p.top}


def _doc_to_prediction(doc: Mapping[str, Any]) -> Prediction:
    return Prediction(
        detailed=doc["d"],
        primary=primary_of(doc["d"]),
        confidence=float(doc["c"]),
        primary_confidence=float(doc["pc"]),
        top=[(str(d), float(c)) for d, c in doc["top"]],
    )


class CategorizationEngine:
    def __init__(
        self,
        model: CategorizerModel | None,
        *,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        top_k: int = 3,
        cache: PredictionCache | None = None,
    ):
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be in [0, 1], got {min_confidence}")
        if top_k < 1:
            raise ValueError("top_k must be at least 1")
        self.model = model
        self.min_confidence = min_confidence
        self.top_k = top_k
        self.cache = cache
        self.stats = {"cache_hits": 0, "cache_misses": 0, "cache_errors": 0}

    @property
    def model_version(self) -> str | None:
        return None if self.model is None else self.model.version

    def categorize(
        self,
        txn: Mapping[str, Any],
        *,
        rules: Sequence[Rule | Mapping[str, Any]] = (),
        corrections: Mapping[str, Mapping[str, str]] | None = None,
    ) -> dict[str, Any]:
        return self.categorize_many([txn], rules=rules, corrections=corrections)[0]

    def categorize_many(
        self,
        txns: Sequence[Mapping[str, Any]],
        *,
        rules: Sequence[Rule | Mapping[str, Any]] = (),
        corrections: Mapping[str, Mapping[str, str]] | None = None,
    ) -> list[dict[str, Any]]:
        """Categorise a batch; raises InvalidTransaction naming the first bad item (1-based)."""
        rule_objs = [r if isinstance(r, Rule) else rule_from_dict(r) for r in rules]
        corrections = corrections or {}
        results: list[dict[str, Any] | None] = [None] * len(txns)
        pending: list[tuple[int, FeatureRow, str]] = []
        for index, txn in enumerate(txns):
            try:
                view, row = self._prepare(txn)
            except CategorizerError as exc:
                raise InvalidTransaction(f"transaction {index + 1}: {exc}") from None
            rule = first_matching_rule(rule_objs, view) if rule_objs else None
            if rule is not None:
                results[index] = self._fixed(rule.category_detailed, "rule", view, rule.id)
                continue
            corrected = lookup_correction(corrections, txn.get("user_id"), view.merchant_key)
            if corrected is not None:
                results[index] = self._fixed(corrected, "correction", view, None)
                continue
            pending.append((index, row, view.merchant_key))
        if pending:
            predictions = self._predict([row for _, row, _ in pending])
            for (index, _, key), prediction in zip(pending, predictions, strict=True):
                results[index] = self._from_model(prediction, key)
        return results  # type: ignore[return-value]

    # -- internals -------------------------------------------------------------------------

    def _prepare(self, txn: Mapping[str, Any]) -> tuple[RuleView, FeatureRow]:
        if not isinstance(txn, Mapping):
            raise InvalidTransaction(f"a transaction must be a mapping, got {type(txn).__name__}")
        if "description" not in txn:
            raise InvalidTransaction("description is required")
        if "amount" not in txn:
            raise InvalidTransaction("amount is required")
        clean = clean_description(txn["description"])
        amount = parse_amount(txn["amount"])
        key = merchant_key_from_clean(clean)
        merchant_name = txn.get("merchant_name")
        merchant = (
            merchant_name.strip().lower()
            if isinstance(merchant_name, str) and merchant_name.strip()
            else clean
        )
        account_id = txn.get("account_id")
        view = RuleView(
            description=" ".join(str(txn["description"]).lower().split()),
            clean=clean,
            merchant=merchant,
            merchant_key=key,
            amount=amount,
            account_id=None if account_id is None else str(account_id),
        )
        row = FeatureRow(
            text=clean,
            sign=(amount > 0) - (amount < 0),
            bucket=amount_bucket(amount),
            channel=normalize_channel(txn.get("payment_channel")),
        )
        return view, row

    def _fixed(self, detailed: str, source: str, view: RuleView, rule_id: str | None) -> dict:
        return {
            "category_primary": primary_of(detailed),
            "category_detailed": detailed,
            "confidence": 1.0,
            "source": source,
            "rule_id": rule_id,
            "suggestions": [],
            "merchant_key": view.merchant_key,
            "model_version": self.model_version,
        }

    def _from_model(self, p: Prediction, key: str) -> dict[str, Any]:
        suggestions = [
            {"category_detailed": d, "category_primary": primary_of(d), "confidence": round(c, 4)}
            for d, c in p.top[: self.top_k]
        ]
        confident = p.confidence >= self.min_confidence
        return {
            "category_primary": p.primary if confident else None,
            "category_detailed": p.detailed if confident else None,
            "confidence": round(p.confidence, 4),
            "source": "model" if confident else "none",
            "rule_id": None,
            "suggestions": [] if confident else suggestions,
            "merchant_key": key,
            "model_version": self.model_version,
        }

    def _predict(self, rows: list[FeatureRow]) -> list[Prediction]:
        if self.model is None:
            raise CategorizerError("no categorisation model is loaded; train one first")
        if self.cache is None:
            return self.model.predict(rows, top_k=self.top_k)
        keys = [cache_key(self.model.version, r.cache_key()) for r in rows]
        try:
            found = self.cache.get_many(set(keys))
        except Exception:  # a cache outage must not stop categorisation
            log.warning("prediction cache read failed", exc_info=True)
            self.stats["cache_errors"] += 1
            found = {}
        missing = [i for i, k in enumerate(keys) if k not in found]
        self.stats["cache_hits"] += len(rows) - len(missing)
        self.stats["cache_misses"] += len(missing)
        fresh: dict[str, dict[str, Any]] = {}
        if missing:
            predicted = self.model.predict([rows[i] for i in missing], top_k=self.top_k)
            for i, p in zip(missing, predicted, strict=True):
                fresh[keys[i]] = _prediction_to_doc(p)
            try:
                self.cache.set_many(fresh)
            except Exception:
                log.warning("prediction cache write failed", exc_info=True)
                self.stats["cache_errors"] += 1
        return [_doc_to_prediction(found.get(k) or fresh[k]) for k in keys]
