"""The routes anyone may call without a token, and which of them are outside the OpenAPI spec.

A static test asserts that every Flask route is either here or authenticated, and that the
Flask routes minus :data:`UNDOCUMENTED` are exactly the OpenAPI paths. Add an endpoint here only
on purpose.
"""

from __future__ import annotations

import re

# endpoint -> URL rule
PUBLIC_ENDPOINTS: dict[str, str] = {
    "health.healthz": "/healthz",
    "health.readyz": "/readyz",
    "api-docs.openapi_json": "/openapi.json",
    "docs.page": "/docs",
    "docs.asset": "/docs/assets/<name>",
    # the OAuth 2.0 authorization server (gateway/auth/oauth_routes.py): public by nature
    "oauth.authorize": "/oauth/authorize",
    "oauth.token": "/oauth/token",
    "oauth.revoke": "/oauth/revoke",
    "oauth.metadata": "/.well-known/oauth-authorization-server",
    "oauth.jwks": "/.well-known/jwks.json",
    # sign-up and password reset (gateway/api/identity.py): rate limited per IP
    "identity.Users": "/v1/users",
    "identity.PasswordReset": "/v1/password-reset",
    "identity.PasswordResetConfirm": "/v1/password-reset/confirm",
    # Plaid's webhook (gateway/api/webhooks.py): no bearer token exists for it; the
    # aggregation service verifies its Plaid-Verification signature (ES256, body hash, age)
    "webhooks.PlaidWebhook": "/webhooks/plaid",
}
# public endpoints that are not API operations, so not in the spec
UNDOCUMENTED: frozenset[str] = frozenset({"api-docs.openapi_json", "docs.page", "docs.asset"})

_CONVERTER = re.compile(r"<(?:[a-zA-Z_][a-zA-Z0-9_]*(?:\([^)]*\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>")


def openapi_path(rule: str) -> str:
    """``/users/<int:user_id>`` -> ``/users/{user_id}`` (how flask-smorest writes paths)."""
    return _CONVERTER.sub(r"{\1}", rule)


def is_public(endpoint: str) -> bool:
    return endpoint in PUBLIC_ENDPOINTS
