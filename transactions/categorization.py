"""The one place the service talks to the categoriser (``transactions/categorizer/``).

Layers, first answer wins, every result names its ``source``:
``rule`` -> ``correction`` (the user's earlier re-categorisation of the same merchant) ->
``model`` (the trained, calibrated model from the artefact store, when one is there and
confident) -> ``provider`` (Plaid's own ``personal_finance_category``, when valid PFC v2) ->
``none``. Without a trained model the engine's rule and correction layers still apply
(``CategorizationEngine`` with no model only fails when it must predict, so this adapter asks
it for rules/corrections and falls back to the provider category itself).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from transactions.categorizer import taxonomy
from transactions.categorizer.cache import PredictionCache, RedisCache
from transactions.categorizer.corrections import lookup_correction
from transactions.categorizer.engine import CategorizationEngine
from transactions.categorizer.errors import CategorizerError
from transactions.categorizer.normalize import merchant_key as _merchant_key

log = logging.getLogger(__name__)
Memory = Mapping[str, Mapping[str, str]]


def merchant_key(text: str) -> str | None:
    """The categoriser's merchant key of a description or merchant name (None if empty)."""
    try:
        return _merchant_key(text) or None
    except (CategorizerError, ValueError):
        return None


def list_categories() -> list[dict[str, Any]]:
    """The PFC v2 taxonomy: each primary with its detailed categories, in taxonomy order."""
    grouped: dict[str, list[str]] = {p: [] for p in taxonomy.primary_categories()}
    for detailed in taxonomy.detailed_categories():
        grouped[taxonomy.primary_of(detailed)].append(detailed)
    return [{"primary": p, "detailed": d} for p, d in grouped.items()]


def resolve_category(name: str) -> tuple[str, str | None]:
    """(primary, detailed) for a primary or detailed v2 name; ValueError otherwise."""
    if isinstance(name, str) and taxonomy.is_detailed(name):
        return taxonomy.primary_of(name), name
    if isinstance(name, str) and name in taxonomy.primary_categories():
        return name, None
    raise ValueError(f"unknown category {name!r} (not a PFC v2 primary or detailed category)")


def is_primary(name: str) -> bool:
    return name in taxonomy.primary_categories()


def _none(key: str | None) -> dict[str, Any]:
    return {
        "category_primary": None,
        "category_detailed": None,
        "confidence": 0.0,
        "source": "none",
        "merchant_key": key,
    }


def redis_prediction_cache() -> PredictionCache | None:
    """The service's prediction cache: Redis (keys carry the model version, so a new model
    never reads an old answer, and an HMAC of the model input under a key from the key
    provider), unless ``NESTEGG_CATEGORY_CACHE=off``."""
    from common import config

    if config.env("NESTEGG_CATEGORY_CACHE", "redis") == "off":
        return None
    from common.crypto import get_key_provider

    secret = get_key_provider().blind_index_key("transactions.category_cache")
    return RedisCache(url=config.load().redis_url, key_secret=secret)


def off_the_hub(work: Callable[[], Any]) -> Any:
    """Run ``work`` in a real OS thread when eventlet has patched threading (inside a nameko
    service), so the seconds spent unpickling an ~80 MB model do not stall every other
    greenthread: an RPC arriving meanwhile (list my transactions) is still answered."""
    try:
        from eventlet import patcher, tpool
    except ImportError:  # pragma: no cover - eventlet is a nameko dependency
        return work()
    if not patcher.is_monkey_patched("thread"):
        return work()
    return tpool.execute(work)


class Categorizer:
    """Categorises plain transaction dicts: ``description``, ``amount`` (Decimal, negative =
    out), ``user_id`` and optional ``merchant_name``, ``account_id``, ``payment_channel``,
    ``provider_category``."""

    MODEL_RETRY_SECONDS = 60.0

    def __init__(
        self,
        engine: CategorizationEngine | None = None,
        *,
        load_model: bool = True,
        cache_factory: Callable[[], PredictionCache | None] | None = None,
    ):
        self._engine = engine
        self._load_model = load_model and engine is None
        self._cache_factory = cache_factory  # called once, with the first engine (not at import)
        self._cache: PredictionCache | None = None
        self._lock = threading.Lock()
        self._checked_at = 0.0

    def engine(self) -> CategorizationEngine:
        with self._lock:
            stale = (
                self._engine is not None
                and self._engine.model is None
                and self._load_model
                and time.monotonic() - self._checked_at > self.MODEL_RETRY_SECONDS
            )
            if self._engine is None or stale:  # a model trained after start is picked up
                self._checked_at = time.monotonic()
                model = None
                if self._load_model:
                    try:
                        from transactions.categorizer.artifacts import load_model, store_from_env

                        model = off_the_hub(lambda: load_model(store_from_env()))
                    except Exception as exc:  # no trained model yet: rules/corrections/provider
                        log.warning("no categorisation model loaded: %s", type(exc).__name__)
                if self._cache is None and self._cache_factory is not None:
                    self._cache = self._cache_factory()
                self._engine = CategorizationEngine(model, cache=self._cache)
            return self._engine

    def categorize_many(
        self,
        txns: Sequence[Mapping[str, Any]],
        *,
        corrections: Memory | None = None,
        rules: Sequence[Any] = (),
    ) -> list[dict[str, Any]]:
        engine = self.engine()
        corrections = corrections or {}
        if engine.model is not None:
            results = engine.categorize_many(txns, rules=rules, corrections=corrections)
        else:
            results = [self._without_model(engine, t, rules, corrections) for t in txns]
        out = []
        for txn, result in zip(txns, results, strict=True):
            result = dict(result)
            provider = txn.get("provider_category")
            if result["source"] == "none" and provider and taxonomy.is_detailed(provider):
                result.update(
                    category_primary=taxonomy.primary_of(provider),
                    category_detailed=provider,
                    confidence=1.0,
                    source="provider",
                )
            out.append(result)
        return out

    @staticmethod
    def _without_model(engine, txn, rules, corrections) -> dict[str, Any]:
        key = merchant_key(str(txn.get("description") or ""))
        if rules:
            try:
                return engine.categorize(txn, rules=rules, corrections=corrections)
            except CategorizerError:
                pass  # no rule matched and there is no model to ask
        corrected = lookup_correction(corrections, txn.get("user_id"), key) if key else None
        if corrected is not None:
            return {
                "category_primary": taxonomy.primary_of(corrected),
                "category_detailed": corrected,
                "confidence": 1.0,
                "source": "correction",
                "merchant_key": key,
            }
        return _none(key)
