"""The routes anyone may call without a token, and which of them are outside the OpenAPI spec.

A static test asserts that every Flask route is either here or authenticated, and that the
Flask routes minus :data:`UNDOCUMENTED` are exactly the OpenAPI paths. Add an endpoint here only
on purpose (the OAuth token and authorize endpoints will be the next ones).
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
}
# public endpoints that are not API operations, so not in the spec
UNDOCUMENTED: frozenset[str] = frozenset({"api-docs.openapi_json", "docs.page", "docs.asset"})

_CONVERTER = re.compile(r"<(?:[a-zA-Z_][a-zA-Z0-9_]*(?:\([^)]*\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>")


def openapi_path(rule: str) -> str:
    """``/users/<int:user_id>`` -> ``/users/{user_id}`` (how flask-smorest writes paths)."""
    return _CONVERTER.sub(r"{\1}", rule)


def is_public(endpoint: str) -> bool:
    return endpoint in PUBLIC_ENDPOINTS
