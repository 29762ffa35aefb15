"""Health report shared by every service's ``health`` RPC."""

from __future__ import annotations

import time
from importlib.metadata import PackageNotFoundError, version

from sqlalchemy import text

STARTED = time.monotonic()


def package_version() -> str:
    try:
        return version("nestegg")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


def check_database(engine) -> dict:
    started = time.perf_counter()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


def check_redis(client) -> dict:
    started = time.perf_counter()
    try:
        client.ping()
        return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


def report(service: str, engine, redis_client) -> dict:
    database = check_database(engine)
    cache = check_redis(redis_client)
    return {
        "service": service,
        "version": package_version(),
        "status": "ok" if database["ok"] and cache["ok"] else "degraded",
        "database": database,
        "redis": cache,
        "uptime_seconds": round(time.monotonic() - STARTED, 1),
    }
