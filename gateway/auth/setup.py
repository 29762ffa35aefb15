"""Wire the identity layer into ``create_app``: token issuer, Redis store, audit, routes."""

from __future__ import annotations

from flask import Flask

from gateway.auth import extension
from gateway.auth.config import AuthConfig, load_auth_config
from gateway.auth.storage import AuthStore, RedisBackend


def redis_store(settings) -> AuthStore:
    import redis

    client = redis.Redis.from_url(
        settings.redis_url, socket_timeout=1.0, socket_connect_timeout=1.0
    )
    return AuthStore(RedisBackend(client))


def init_app(
    app: Flask,
    *,
    settings,
    rpc,
    store: AuthStore | None = None,
    config: AuthConfig | None = None,
    issuer=None,
) -> extension.AuthExtension:
    config = config or load_auth_config()
    ext = extension.init_app(
        app,
        settings=settings,
        rpc=rpc,
        store=store or redis_store(settings),
        config=config,
        issuer=issuer,
    )
    return ext
