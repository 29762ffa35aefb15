"""The aggregation service's settings, from environment variables with local defaults.

NESTEGG_PLAID_HOST       Plaid API base URL (default http://127.0.0.1:8090, the bundled sandbox)
NESTEGG_PLAID_ENV        sandbox | development | production (default sandbox)
NESTEGG_PLAID_CLIENT_ID  API client id (default: the bundled sandbox's public id)
NESTEGG_PLAID_SECRET     API secret (default: the bundled sandbox's public secret)
NESTEGG_PLAID_TIMEOUT    seconds per provider call (default 10)
NESTEGG_PLAID_RETRIES    attempts per call for rate limits, 5xx and connection errors (default 4)
NESTEGG_PLAID_WEBHOOK    webhook URL registered on new Items (default: none)
NESTEGG_SYNC_INTERVAL    seconds between fallback syncs of an Item (default 3600)
"""

from __future__ import annotations

from dataclasses import dataclass

from common.config import env, env_float, env_int

SANDBOX_CLIENT_ID = "nestegg-sandbox-client"
SANDBOX_SECRET = "nestegg-sandbox-secret"  # noqa: S105 - the bundled sandbox's public key
ENVIRONMENTS = ("sandbox", "development", "production")


@dataclass(frozen=True)
class PlaidSettings:
    host: str = "http://127.0.0.1:8090"
    environment: str = "sandbox"
    client_id: str = SANDBOX_CLIENT_ID
    secret: str = SANDBOX_SECRET
    timeout: float = 10.0
    attempts: int = 4
    webhook: str | None = None
    sync_interval: float = 3600.0

    def __post_init__(self) -> None:
        if self.environment not in ENVIRONMENTS:
            raise ValueError(f"NESTEGG_PLAID_ENV must be one of {ENVIRONMENTS}")
        if not self.host.startswith(("http://", "https://")):
            raise ValueError(f"NESTEGG_PLAID_HOST must be an http(s) URL, got {self.host!r}")
        if self.timeout <= 0:
            raise ValueError("NESTEGG_PLAID_TIMEOUT must be positive")
        if self.attempts < 1:
            raise ValueError("NESTEGG_PLAID_RETRIES must be at least 1")
        if self.sync_interval <= 0:
            raise ValueError("NESTEGG_SYNC_INTERVAL must be positive")

    @property
    def is_sandbox(self) -> bool:
        return self.environment == "sandbox"


def load_plaid_settings() -> PlaidSettings:
    return PlaidSettings(
        host=env("NESTEGG_PLAID_HOST", "http://127.0.0.1:8090"),
        environment=env("NESTEGG_PLAID_ENV", "sandbox"),
        client_id=env("NESTEGG_PLAID_CLIENT_ID", SANDBOX_CLIENT_ID),
        secret=env("NESTEGG_PLAID_SECRET", SANDBOX_SECRET),
        timeout=env_float("NESTEGG_PLAID_TIMEOUT", 10.0),
        attempts=env_int("NESTEGG_PLAID_RETRIES", 4),
        webhook=env("NESTEGG_PLAID_WEBHOOK"),
        sync_interval=env_float("NESTEGG_SYNC_INTERVAL", 3600.0),
    )
