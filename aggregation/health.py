"""Connection health per item, and the service's counters (the ``metrics`` RPC)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter


def connection_health(item, *, now: dt.datetime, sync_interval: float) -> dict:
    """Plain health summary of one item row (any object with the Item attributes)."""
    last_error = None
    if item.error_code:
        last_error = {
            "code": item.error_code,
            "message": item.error_message,
            "at": item.error_at.isoformat().replace("+00:00", "Z") if item.error_at else None,
        }
    stale = item.provider == "plaid" and (
        item.last_synced_at is None
        or (now - item.last_synced_at).total_seconds() > 2 * sync_interval
    )
    return {
        "status": item.status,
        "last_synced_at": item.last_synced_at,
        "last_attempt_at": item.last_attempt_at,
        "last_sync_ms": item.last_sync_ms,
        "last_error": last_error,
        "transactions_last_sync": item.transactions_last_sync,
        "transactions_total": item.transactions_total,
        "stale": bool(stale),
    }


class Counters:
    """Thread-safe in-process counters (reset when the process restarts)."""

    def __init__(self) -> None:
        self._counts: Counter = Counter()
        self._lock = threading.Lock()

    def inc(self, name: str, by: int = 1) -> None:
        if by < 0:
            raise ValueError("counters only go up")
        with self._lock:
            self._counts[name] += by

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))
