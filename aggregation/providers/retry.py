"""Retries with exponential backoff and full jitter for transient provider failures."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from aggregation.providers.base import ProviderError

T = TypeVar("T")


def backoff_delays(attempts: int, base: float = 0.25, cap: float = 8.0, rng=None) -> list[float]:
    """Pauses before attempts 2..n: uniform in [0, min(cap, base * 2**k)] (full jitter)."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    if base <= 0 or cap <= 0:
        raise ValueError("base and cap must be positive")
    rng = rng or random.Random()
    return [rng.uniform(0, min(cap, base * 2**k)) for k in range(attempts - 1)]


def call_with_retry(
    call: Callable[[], T],
    *,
    attempts: int = 4,
    base: float = 0.25,
    cap: float = 8.0,
    sleep: Callable[[float], None] = time.sleep,
    rng=None,
    on_retry: Callable[[ProviderError, int], None] | None = None,
) -> T:
    """Run ``call``; on a retryable :class:`ProviderError` wait and try again, up to
    ``attempts`` times in all. Non-retryable errors and the last failure propagate."""
    delays = backoff_delays(attempts, base, cap, rng)
    for attempt in range(attempts):
        try:
            return call()
        except ProviderError as exc:
            if not exc.retryable or attempt == attempts - 1:
                raise
            if on_retry is not None:
                on_retry(exc, attempt + 1)
            sleep(delays[attempt])
    raise AssertionError("unreachable")  # pragma: no cover
