"""The identity layer's per-app state: ``app.extensions["nestegg.auth"]``."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import Flask, request

from gateway.auth.audit import AuditRecorder
from gateway.auth.config import AuthConfig
from gateway.auth.storage import AuthStore
from gateway.auth.tokens import AccessTokenIssuer

log = logging.getLogger(__name__)
EXTENSION = "nestegg.auth"


@dataclass
class AuthExtension:
    issuer: AccessTokenIssuer
    store: AuthStore
    config: AuthConfig
    rpc: object
    audit: AuditRecorder
    extra: dict = field(default_factory=dict)

    def session_state(self, user_id: str, token: str) -> dict:
        """``{sessions_valid_after, deleted}`` for the user, from the Redis cache or the users
        service (``get_session_state``, with the caller's own token). Errors propagate: an
        unreachable users service answers 503, never lets the request through."""
        cached = self.store.cached_session_state(user_id)
        if cached is not None:
            return cached
        state = self.rpc.call("users", "get_session_state", token, timeout=2.0)
        state = {
            "sessions_valid_after": state.get("sessions_valid_after"),
            "deleted": bool(state.get("deleted")),
        }
        self.store.cache_session_state(user_id, state, self.config.session_state_ttl)
        return state

    def sessions_ended(self, user_id: str, valid_after: int | None, *, deleted=False) -> None:
        """The gateway learnt of a cut-off (password change, deletion): cache it at once."""
        state = {"sessions_valid_after": valid_after, "deleted": deleted}
        self.store.cache_session_state(
            user_id, state, max(self.config.session_state_ttl, self.config.access_ttl + 60)
        )

    def audit_failure(self, event: str, principal, **details) -> None:
        self.audit.record(
            event,
            "denied",
            user_id=None
            if principal is None or principal.user_id.startswith("client:")
            else principal.user_id,
            ip=request.remote_addr,
            client_id=None if principal is None else principal.client_id,
            details={"path": request.path, "method": request.method, **details},
        )


def init_app(
    app: Flask,
    *,
    settings,
    rpc,
    store: AuthStore,
    config: AuthConfig,
    issuer: AccessTokenIssuer | None = None,
    publish_key: bool = True,
) -> AuthExtension:
    issuer = issuer or AccessTokenIssuer.from_key_provider(settings, lifetime=config.access_ttl)
    if publish_key:
        try:
            issuer.publish_public_key()
        except OSError as exc:  # services then need NESTEGG_JWT_PUBLIC_KEY; say so loudly
            log.error("could not publish the JWT public key: %s", type(exc).__name__)
    ext = AuthExtension(
        issuer=issuer, store=store, config=config, rpc=rpc, audit=AuditRecorder(rpc)
    )
    app.extensions[EXTENSION] = ext
    return ext
