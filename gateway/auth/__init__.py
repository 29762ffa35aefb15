"""The gateway's identity layer: bearer auth, the OAuth 2.0 authorization server, MFA and
identity routes, rate limits. See docs/identity.md."""

from gateway.auth.bearer import require_auth

__all__ = ["require_auth"]
