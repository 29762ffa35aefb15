"""The gateway's Flask app factory.

``create_app(settings=None, rpc=None, *, redis=None, gateway_config=None, auth_store=None,
auth_config=None, token_issuer=None)``: everything is injectable for tests; by default the
settings come from the environment, the RPC client is a
lazily-connecting :class:`common.rpc_pool.RpcPool` on the gateway's broker user and Redis is a
client on ``settings.redis_url``. Later issues add their blueprints with
``api.register_blueprint(...)`` (``app.extensions["nestegg.api"]``) using
:class:`gateway.openapi.ApiBlueprint`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from common import config as cfg
from gateway import body, health, openapi, problems, request_context, security_headers
from gateway import rpc as rpc_wiring
from gateway.config import GatewayConfig, load_gateway_config


def _redis_client(settings: cfg.Settings, timeout: float):
    import redis

    return redis.Redis.from_url(
        settings.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout
    )


def create_app(
    settings: cfg.Settings | None = None,
    rpc: rpc_wiring.RpcClient | None = None,
    *,
    redis=None,
    gateway_config: GatewayConfig | None = None,
    auth_store=None,
    auth_config=None,
    token_issuer=None,
) -> Flask:
    settings = settings or cfg.load()
    gateway_config = gateway_config or load_gateway_config()
    app = Flask(__name__, static_folder=None)
    app.request_class = body.GatewayRequest
    app.json = body.DecimalJSONProvider(app)
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        PROPAGATE_EXCEPTIONS=False,
        TRAP_HTTP_EXCEPTIONS=False,
    )
    app.extensions["nestegg.settings"] = settings

    request_context.init_app(app)  # first: every later hook and handler sees the request id
    body.init_app(app)
    security_headers.init_app(app)

    api = openapi.init_app(app, public_docs=gateway_config.public_docs)
    app.extensions["nestegg.api"] = api
    problems.init_app(app)  # after Api: replaces flask-smorest's JSON error handler

    rpc_wiring.init_app(app, rpc or rpc_wiring.make_pool(settings, gateway_config))
    app.extensions["nestegg.readiness"] = {
        "redis": redis
        if redis is not None
        else _redis_client(settings, gateway_config.ready_timeout),
        "services": cfg.SERVICES,
        "timeout": gateway_config.ready_timeout,
        "executor": ThreadPoolExecutor(
            max_workers=len(cfg.SERVICES) + 2, thread_name_prefix="readyz"
        ),
    }
    api.register_blueprint(health.blp)
    from gateway.auth import setup as auth_setup

    auth_setup.init_app(
        app,
        settings=settings,
        rpc=app.extensions[rpc_wiring.EXTENSION],
        store=auth_store,
        config=auth_config,
        issuer=token_issuer,
    )
    # domain routes (docs/api.md): accounts, transactions, rules, portfolio, the Plaid webhook
    from gateway.api import accounts, portfolio, rules, transactions, webhooks

    for domain in (accounts, transactions, rules, portfolio, webhooks):
        api.register_blueprint(domain.blp)

    if settings.trusted_proxies > 0:
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    return app


def shutdown(app: Flask) -> None:
    """Stop the RPC proxies and the readiness threads (gunicorn ``worker_exit``)."""
    rpc = app.extensions.get(rpc_wiring.EXTENSION)
    if rpc is not None:
        rpc.close()
    auth = app.extensions.get("nestegg.auth")
    if auth is not None:
        auth.audit.close()
    readiness = app.extensions.get("nestegg.readiness")
    if readiness is not None:
        readiness["executor"].shutdown(wait=False, cancel_futures=True)
