"""Configuration from environment variables (twelve-factor) with defaults that work locally.

Every setting has one environment variable; nothing else is read. Per-service secrets that the
local runner generates (database and broker passwords) live in the state directory
(``$NESTEGG_STATE_DIR/credentials.json``, mode 0600, never committed).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

SERVICES: tuple[str, ...] = (
    "users",
    "aggregation",
    "transactions",
    "portfolio",
    "recommender",
    "notifier",
)
REPO_ROOT = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_int(name: str, default: int) -> int:
    raw = env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def env_float(name: str, default: float) -> float:
    raw = env(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


def state_dir() -> Path:
    """Where generated local state lives (keys, passwords, logs). Created 0700 on demand."""
    path = Path(env("NESTEGG_STATE_DIR", str(REPO_ROOT / ".nestegg")))
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _require_service(service: str) -> None:
    if service not in SERVICES and service != "gateway":
        raise ValueError(f"unknown service {service!r}; expected one of {SERVICES + ('gateway',)}")


@dataclass(frozen=True)
class Settings:
    """The process-wide settings. Build with :func:`load`."""

    env: str = "dev"
    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_admin_dsn: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    db_prefix: str = "nestegg_"
    amqp_host: str = "127.0.0.1"
    amqp_port: int = 5672
    amqp_vhost: str = "nestegg"
    amqp_admin_uri: str = "pyamqp://guest:guest@127.0.0.1:5672/"
    rabbit_api_uri: str = "http://guest:guest@127.0.0.1:15672"
    redis_url: str = "redis://127.0.0.1:6379/0"
    rpc_timeout: float = 5.0
    max_workers: int = 10
    outbox_interval: float = 1.0
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    max_body_bytes: int = 1_048_576
    jwt_issuer: str = "http://127.0.0.1:8000"
    jwt_audience: str = "nestegg-api"
    trusted_proxies: int = 0
    extra: dict = field(default_factory=dict)

    def database_name(self, service: str) -> str:
        _require_service(service)
        return f"{self.db_prefix}{service}"

    def database_role(self, service: str) -> str:
        _require_service(service)
        return f"{self.db_prefix}{service}"

    def database_url(self, service: str) -> str:
        """DSN the service uses: its own role on its own database."""
        override = env(f"NESTEGG_{service.upper()}_DATABASE_URL")
        if override:
            return override
        from common.credentials import secret_for

        password = secret_for(f"db:{self.database_role(service)}")
        return (
            f"postgresql+psycopg2://{self.database_role(service)}:{quote(password, safe='')}"
            f"@{self.pg_host}:{self.pg_port}/{self.database_name(service)}"
        )

    def broker_user(self, service: str) -> str:
        """Broker users are global in RabbitMQ, so their names carry the deployment prefix."""
        _require_service(service)
        return f"{self.db_prefix.rstrip('_')}-{service}"

    def amqp_uri(self, service: str) -> str:
        """AMQP URI with the service's own broker user, on the project's vhost."""
        override = env(f"NESTEGG_{service.upper()}_AMQP_URI") or env("NESTEGG_AMQP_URI")
        if override:
            return override
        from common.credentials import secret_for

        password = secret_for(f"amqp:{self.broker_user(service)}")
        return (
            f"pyamqp://{self.broker_user(service)}:{quote(password, safe='')}"
            f"@{self.amqp_host}:{self.amqp_port}/{quote(self.amqp_vhost, safe='')}"
        )


def _remembered_admin_dsn() -> str:
    """The admin DSN scripts/ensure-infra.sh found working, else loopback as postgres."""
    remembered = Path(env("NESTEGG_STATE_DIR", str(REPO_ROOT / ".nestegg"))) / "pg_admin_dsn"
    if remembered.exists() and remembered.read_text().strip():
        return remembered.read_text().strip()
    return "postgresql://postgres@127.0.0.1:5432/postgres"


def load() -> Settings:
    return Settings(
        env=env("NESTEGG_ENV", "dev"),
        pg_host=env("NESTEGG_PG_HOST", "127.0.0.1"),
        pg_port=env_int("NESTEGG_PG_PORT", 5432),
        pg_admin_dsn=env("NESTEGG_PG_ADMIN_DSN") or _remembered_admin_dsn(),
        db_prefix=env("NESTEGG_DB_PREFIX", "nestegg_"),
        amqp_host=env("NESTEGG_AMQP_HOST", "127.0.0.1"),
        amqp_port=env_int("NESTEGG_AMQP_PORT", 5672),
        amqp_vhost=env("NESTEGG_AMQP_VHOST", "nestegg"),
        amqp_admin_uri=env("NESTEGG_AMQP_ADMIN_URI", "pyamqp://guest:guest@127.0.0.1:5672/"),
        rabbit_api_uri=env("NESTEGG_RABBIT_API_URI", "http://guest:guest@127.0.0.1:15672"),
        redis_url=env("NESTEGG_REDIS_URL", "redis://127.0.0.1:6379/0"),
        rpc_timeout=env_float("NESTEGG_RPC_TIMEOUT", 5.0),
        max_workers=env_int("NESTEGG_MAX_WORKERS", 10),
        outbox_interval=env_float("NESTEGG_OUTBOX_INTERVAL", 1.0),
        gateway_host=env("NESTEGG_GATEWAY_HOST", "127.0.0.1"),
        gateway_port=env_int("NESTEGG_GATEWAY_PORT", 8000),
        max_body_bytes=env_int("NESTEGG_MAX_BODY_BYTES", 1_048_576),
        jwt_issuer=env("NESTEGG_JWT_ISSUER", "http://127.0.0.1:8000"),
        jwt_audience=env("NESTEGG_JWT_AUDIENCE", "nestegg-api"),
        trusted_proxies=env_int("NESTEGG_TRUSTED_PROXIES", 0),
    )
