"""Polling for asynchronous effects (events relayed, processes started), without fixed sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float = 30.0, interval: float = 0.1) -> T:
    """The first truthy value of ``predicate()``; after ``timeout`` seconds its last (falsy)
    value, so ``assert wait_until(...)`` fails with nothing waited for in vain."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
