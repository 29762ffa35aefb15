"""Wiring of the RPC client into the Flask app.

The app holds one client in ``app.extensions["nestegg.rpc"]``: by default a
:class:`common.rpc_pool.RpcPool` of started ``ClusterRpcProxy``s on the gateway's own broker
user, built lazily (no broker connection before gunicorn forks). Tests inject any object with
the same small interface (:class:`RpcClient`).
"""

from __future__ import annotations

import warnings
from typing import Any, Protocol

from flask import Flask, current_app

from common.config import Settings
from gateway.config import GatewayConfig, gateway_amqp_uri

EXTENSION = "nestegg.rpc"


class RpcClient(Protocol):
    def call(self, service: str, method: str, *args, timeout: float | None = None, **kwargs) -> Any:
        """Call ``service.method``; raise ``common.errors`` types on failure."""

    def check_broker(self, timeout: float = 2.0) -> None:
        """Raise if the broker cannot be reached within ``timeout`` seconds."""

    def close(self) -> None: ...


def make_pool(settings: Settings, config: GatewayConfig):
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    from common.rpc_pool import RpcPool

    return RpcPool(
        gateway_amqp_uri(settings),
        size=config.rpc_pool_size,
        timeout=settings.rpc_timeout,
        checkout_timeout=config.rpc_checkout_timeout,
    )


def init_app(app: Flask, rpc: RpcClient) -> None:
    app.extensions[EXTENSION] = rpc


def get_rpc() -> RpcClient:
    return current_app.extensions[EXTENSION]


def call(service: str, method: str, *args, timeout: float | None = None, **kwargs) -> Any:
    """Call a service from a view. Failures are typed errors the problem handlers map:
    timeout -> 504, unavailable -> 503, domain errors -> their own status."""
    return get_rpc().call(service, method, *args, timeout=timeout, **kwargs)
