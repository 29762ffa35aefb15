"""Wire the identity layer into ``create_app``: token issuer (public key published for the
services), Redis store, audit, the OAuth server and routes, identity routes, rate limits."""

from __future__ import annotations

import logging

from flask import Flask

from gateway import problems
from gateway.auth import extension, limits, oauth_routes
from gateway.auth.config import AuthConfig, load_auth_config
from gateway.auth.oauth_server import build_server
from gateway.auth.storage import AuthStore, RedisBackend

log = logging.getLogger(__name__)


def redis_store(settings) -> AuthStore:
    import redis

    client = redis.Redis.from_url(
        settings.redis_url, socket_timeout=1.0, socket_connect_timeout=1.0
    )
    return AuthStore(RedisBackend(client))


def _redis_down(exc):
    """Redis is where the deny-list and the limits live: without it, fail closed."""
    log.error("redis unavailable: %s", type(exc).__name__)
    return problems.problem_response(
        problems.problem_body(503, detail="A security dependency is unavailable; try again."),
        {"Retry-After": "5"},
    )


def _page_csp(response):
    """Runs after the security headers: the sign-in page gets its own CSP (its form must be
    allowed to post back and redirect to the client)."""
    csp = getattr(response, "nestegg_csp", None)
    if csp:
        response.headers["Content-Security-Policy"] = csp
    return response


def init_app(
    app: Flask,
    *,
    settings,
    rpc,
    store: AuthStore | None = None,
    config: AuthConfig | None = None,
    issuer=None,
) -> extension.AuthExtension:
    import redis

    import users.errors  # noqa: F401 - registers MfaCodeRequired for RPC deserialisation
    from gateway.api import identity

    config = config or load_auth_config()
    ext = extension.init_app(
        app,
        settings=settings,
        rpc=rpc,
        store=store or redis_store(settings),
        config=config,
        issuer=issuer,
    )
    ext.extra["server"] = build_server(app, ext)
    api = app.extensions["nestegg.api"]
    api.register_blueprint(oauth_routes.blp)
    api.register_blueprint(identity.blp)
    app.after_request_funcs.setdefault(None, []).insert(0, _page_csp)
    app.register_error_handler(redis.exceptions.RedisError, _redis_down)
    app.extensions["nestegg.limiter"] = limits.init_app(
        app, config, config.ratelimit_storage_uri or settings.redis_url
    )
    return ext
