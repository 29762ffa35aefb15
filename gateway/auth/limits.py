"""Rate limits (flask-limiter on Redis), per client IP and per user.

- The client IP is ``request.remote_addr``: the socket peer, or — only when
  ``NESTEGG_TRUSTED_PROXIES`` > 0 — what werkzeug's ``ProxyFix`` took from exactly that many
  ``X-Forwarded-For`` hops. A client rotating ``X-Forwarded-For`` therefore stays in its bucket.
- The user key comes from a *verified* bearer token (never from ``X-User-ID`` or any other
  client header), so nobody can spend another user's budget; requests without a valid token
  fall back to the IP bucket.
- A breach is a 429 problem with ``Retry-After`` (flask-limiter's headers are on).
- Redis down: the limiter raises, and the gateway answers 503 (fail closed) — a sign-in is
  never attempted without its brute-force limit. flask-limiter's in-memory fallback is off.

Other route modules add theirs with ``app.extensions["nestegg.limiter"].limit(...)`` (there is
no global default limit: it would put Redis on the path of every request). Limits are set in
:class:`gateway.auth.config.AuthConfig` (``NESTEGG_LIMIT_*``).
"""

from __future__ import annotations

import logging

from flask import Flask, request
from flask_limiter import Limiter

from common.errors import Unauthenticated
from gateway.auth.bearer import EXTENSION, bearer_token

log = logging.getLogger(__name__)


def client_ip() -> str:
    return request.remote_addr or "unknown"


def user_or_ip() -> str:
    token = bearer_token()
    if token is not None:
        from flask import current_app

        try:
            principal = current_app.extensions[EXTENSION].issuer.verifier.verify(token)
        except Unauthenticated:
            return "ip:" + client_ip()
        return "user:" + principal.user_id
    return "ip:" + client_ip()


def _rules(config) -> dict[str, list[tuple[str, object, list[str] | None]]]:
    """endpoint -> [(limit, key function, methods)]"""
    return {
        "oauth.authorize": [(config.login_limit, client_ip, ["POST"])],
        "oauth.token": [(config.token_limit, client_ip, None)],
        "oauth.revoke": [(config.token_limit, client_ip, None)],
        "identity.Users": [(config.register_limit, client_ip, None)],
        "identity.PasswordReset": [(config.reset_limit, client_ip, None)],
        "identity.PasswordResetConfirm": [(config.reset_limit, client_ip, None)],
        "identity.Totp": [(config.mfa_limit, user_or_ip, None)],
        "identity.TotpConfirm": [(config.mfa_limit, user_or_ip, None)],
        "identity.Password": [(config.mfa_limit, user_or_ip, None)],
        "identity.Me": [(config.api_user_limit, user_or_ip, None)],
        "identity.Export": [(config.mfa_limit, user_or_ip, None)],
        "identity.RiskProfile": [(config.api_user_limit, user_or_ip, None)],
        "identity.SecurityEvents": [(config.api_user_limit, user_or_ip, None)],
        "identity.Logout": [(config.api_user_limit, user_or_ip, None)],
    }


def init_app(app: Flask, config, storage_uri: str) -> Limiter:
    limiter = Limiter(
        client_ip,
        app=app,
        storage_uri=storage_uri,
        headers_enabled=True,
        swallow_errors=False,
        in_memory_fallback_enabled=False,
        key_prefix=config.ratelimit_key_prefix,
        strategy="moving-window",
        enabled=config.ratelimit_enabled,
    )
    for endpoint, rules in _rules(config).items():
        view = app.view_functions.get(endpoint)
        if view is None:
            continue
        for limit, key_func, methods in rules:
            view = limiter.limit(limit, key_func=key_func, methods=methods)(view)
        app.view_functions[endpoint] = view
    return limiter
