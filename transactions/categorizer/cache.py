"""Prediction cache: model version + model input -> prediction.

The key holds the model version, so a new model never reads an old model's answers (no flush
needed), and the exact model input (cleaned description, amount sign and size bucket, payment
channel), so two transactions share an entry only when the model would answer them the same.
``DictCache`` is an in-process LRU for tests and single processes; ``RedisCache`` shares answers
across service workers (redis at 127.0.0.1:6379 by default, keys under ``nestegg:cat:``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

KEY_PREFIX = "nestegg:cat:"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_TTL_SECONDS = 7 * 24 * 3600


def cache_key(model_version: str, feature_key: str) -> str:
    digest = hashlib.sha256(feature_key.encode("utf-8")).hexdigest()[:32]
    return f"{KEY_PREFIX}{model_version}:{digest}"


class PredictionCache(Protocol):
    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]: ...

    def set_many(self, items: Mapping[str, dict[str, Any]]) -> None: ...


class DictCache:
    """In-process LRU cache."""

    def __init__(self, max_entries: int = 100_000):
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._data: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        found = {}
        for key in keys:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
                found[key] = value
        return found

    def set_many(self, items: Mapping[str, dict[str, Any]]) -> None:
        for key, value in items.items():
            self._data[key] = value
            self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


class RedisCache:
    """Redis-backed cache; values are small JSON documents with a TTL."""

    def __init__(
        self,
        client: Any = None,
        url: str = DEFAULT_REDIS_URL,
        ttl: int = DEFAULT_TTL_SECONDS,
        *,
        key_secret: bytes | None = None,
    ):
        if ttl < 1:
            raise ValueError("ttl must be at least one second")
        if client is None:
            import redis

            client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.client = client
        self.ttl = ttl
        self.key_secret = key_secret

    def _stored_key(self, key: str) -> str:
        """With a secret, the digest part is an HMAC: whoever reads Redis cannot confirm a
        guessed description by hashing it (the model version prefix stays readable)."""
        if self.key_secret is None:
            return key
        prefix = key.rpartition(":")[0]
        mac = hmac.new(self.key_secret, key.encode("utf-8"), hashlib.sha256).hexdigest()[:32]
        return f"{prefix}:{mac}"

    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        keys = list(keys)
        if not keys:
            return {}
        values = self.client.mget([self._stored_key(k) for k in keys])
        return {k: json.loads(v) for k, v in zip(keys, values, strict=True) if v is not None}

    def set_many(self, items: Mapping[str, dict[str, Any]]) -> None:
        if not items:
            return
        pipe = self.client.pipeline(transaction=False)
        for key, value in items.items():
            pipe.set(self._stored_key(key), json.dumps(value, separators=(",", ":")), ex=self.ttl)
        pipe.execute()
