"""Gateway-only settings (twelve-factor, environment variables with local defaults).

The shared :class:`common.config.Settings` carries the host, port, body limit, proxy hops and
RPC timeout; this module adds the knobs only the gateway has (worker/thread counts, RPC pool
and readiness timeouts) and the gateway's own AMQP URI.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.config import Settings, env, env_float, env_int


def gateway_amqp_uri(settings: Settings) -> str:
    """The gateway's broker URI: its own user ``<prefix>-gateway`` on the project's vhost, with
    the password from ``common.credentials.secret_for("amqp:<user>")``. Exactly what
    ``settings.amqp_uri("gateway")`` builds, including the ``NESTEGG_GATEWAY_AMQP_URI`` and
    ``NESTEGG_AMQP_URI`` overrides."""
    return settings.amqp_uri("gateway")


@dataclass(frozen=True)
class GatewayConfig:
    workers: int = 2
    threads: int = 8
    rpc_pool_size: int = 8
    rpc_checkout_timeout: float = 2.0
    ready_timeout: float = 2.0
    worker_timeout: int = 30
    public_docs: bool = True

    def __post_init__(self):
        for name in ("workers", "threads", "rpc_pool_size", "worker_timeout"):
            if getattr(self, name) < 1:
                raise ValueError(f"gateway {name} must be at least 1, got {getattr(self, name)}")
        for name in ("rpc_checkout_timeout", "ready_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"gateway {name} must be positive, got {getattr(self, name)}")


def load_gateway_config() -> GatewayConfig:
    threads = env_int("NESTEGG_GATEWAY_THREADS", 8)
    return GatewayConfig(
        workers=env_int("NESTEGG_GATEWAY_WORKERS", 2),
        threads=threads,
        # one proxy per request thread: a thread never waits for a proxy another thread holds
        rpc_pool_size=env_int("NESTEGG_GATEWAY_RPC_POOL_SIZE", threads),
        rpc_checkout_timeout=env_float("NESTEGG_GATEWAY_RPC_CHECKOUT_TIMEOUT", 2.0),
        ready_timeout=env_float("NESTEGG_GATEWAY_READY_TIMEOUT", 2.0),
        worker_timeout=env_int("NESTEGG_GATEWAY_WORKER_TIMEOUT", 30),
        public_docs=_env_bool("NESTEGG_GATEWAY_PUBLIC_DOCS", True),
    )


def _env_bool(name: str, default: bool) -> bool:
    raw = env(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be true or false, got {raw!r}")
