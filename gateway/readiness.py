"""Readiness: the broker, Redis and every service's ``health`` RPC, checked in parallel.

Plain functions over injected clients; each check has its own short timeout and the whole
report is bounded by ``timeout`` plus a small margin, so ``/readyz`` never hangs.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from common.errors import DomainError

OK, DOWN, DEGRADED, TIMEOUT = "ok", "down", "degraded", "timeout"


def _timed(check: Callable[[], str]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        status = check()
    except DomainError as exc:
        status = TIMEOUT if exc.status == 504 else DOWN
    except Exception:
        status = DOWN
    return {"status": status, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


def broker_check(rpc, timeout: float) -> Callable[[], str]:
    def check() -> str:
        rpc.check_broker(timeout=timeout)
        return OK

    return check


def redis_check(client, timeout: float) -> Callable[[], str]:
    def check() -> str:
        if client is None:
            return DOWN
        return OK if client.ping() else DOWN

    return check


def service_check(rpc, service: str, timeout: float) -> Callable[[], str]:
    def check() -> str:
        report = rpc.call(service, "health", timeout=timeout)
        status = report.get("status") if isinstance(report, dict) else None
        return OK if status == OK else DEGRADED

    return check


def readiness_report(
    rpc,
    redis_client,
    services: Iterable[str],
    *,
    timeout: float,
    executor: ThreadPoolExecutor,
) -> dict[str, Any]:
    """``{"status": "ok"|"unavailable", "checks": {name: {"status", "latency_ms"}}}``.

    Check names are ``broker``, ``redis`` and ``service:<name>``. Anything not ``ok`` within
    ``timeout`` (plus a 0.5 s margin for the pool's own bookkeeping) counts as down.
    """
    if timeout <= 0:
        raise ValueError(f"readiness timeout must be positive, got {timeout}")
    checks: dict[str, Callable[[], str]] = {
        "broker": broker_check(rpc, timeout),
        "redis": redis_check(redis_client, timeout),
    }
    for service in services:
        checks[f"service:{service}"] = service_check(rpc, service, timeout)
    # each check runs in a copy of this context, so the request id reaches the RPC calls
    futures = {
        name: executor.submit(contextvars.copy_context().run, _timed, check)
        for name, check in checks.items()
    }
    wait(futures.values(), timeout=timeout + 0.5)
    results = {}
    for name, future in futures.items():
        if future.done():
            results[name] = future.result()
        else:
            future.cancel()
            results[name] = {"status": TIMEOUT, "latency_ms": round(timeout * 1000, 1)}
    ready = all(r["status"] == OK for r in results.values())
    return {"status": "ok" if ready else "unavailable", "checks": results}
