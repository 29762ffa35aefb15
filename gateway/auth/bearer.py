"""``require_auth``: the bearer-token guard for every authenticated view.

    from gateway.auth import require_auth

    @blp.route("/v1/accounts/<account_id>")
    class Account(MethodView):
        @require_auth("accounts:read")
        def get(self, account_id):
            return rpc.call("aggregation", "get_account", g.access_token, account_id)

Checks, in order (each failure is an RFC 9457 problem and is audited):

1. ``Authorization: Bearer <jwt>`` present -> else 401 ``unauthenticated`` with
   ``WWW-Authenticate: Bearer error="invalid_token"``.
2. The token verifies exactly as services verify it (:class:`common.principal.PrincipalVerifier`
   with the gateway's own public key: ES256/RS256 only, ``iss``, ``aud``, ``exp``, ``typ=access``)
   -> else 401 ``invalid_token``.
3. Its ``jti`` is not on the Redis deny-list (logout, revocation, family revocation) -> else 401.
4. The user still exists and the token's ``auth_time`` is not before the user's
   ``sessions_valid_after`` (password change with "end other sessions", password reset,
   account deletion) -> else 401. The value is cached in Redis for ``session_state_ttl`` s.
5. Every scope named in the decorator is granted -> else 403 ``insufficient_scope``.
6. ``step_up=True``: a second factor (``amr`` has otp/recovery/...) within ``step_up_seconds``
   -> else 403 ``mfa_required`` when the user has no MFA (``mfa`` claim false), otherwise 401
   ``step_up_required`` (sign in again through ``/oauth/authorize?prompt=login``).

On success ``flask.g.principal`` is the :class:`common.principal.Principal` and
``flask.g.access_token`` the raw token, which the view passes as the ``principal`` argument of
every user-facing RPC (services verify it again: the gateway is not the only guard).
The wrapped view carries ``view.auth_required = {"scopes": ..., "step_up": ...}`` so the static
route test can tell authenticated routes from public ones.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from flask import current_app, g, request

from common.errors import DomainError, MfaRequired, StepUpRequired, Unauthenticated
from common.logging import user_id_var
from common.principal import Principal
from gateway import problems

EXTENSION = "nestegg.auth"
MAX_TOKEN_LENGTH = 8192


class InsufficientScope(DomainError):
    status, code, title = 403, "insufficient_scope", "The access token lacks a required scope"


class InvalidToken(Unauthenticated):
    code = "invalid_token"


def _www_authenticate(error: str, description: str | None = None, scope: str | None = None):
    parts = ['Bearer realm="nestegg"', f'error="{error}"']
    if description:
        parts.append('error_description="' + description.replace('"', "'") + '"')
    if scope:
        parts.append(f'scope="{scope}"')
    return ", ".join(parts)


def _refuse(error: DomainError, www_error: str | None, scope: str | None = None):
    headers = {}
    if www_error:
        headers["WWW-Authenticate"] = _www_authenticate(www_error, error.detail, scope)
    return problems.problem_response(error.to_problem(), headers)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    value = value.strip()
    if not value or len(value) > MAX_TOKEN_LENGTH or " " in value:
        return None
    return value


def is_client_subject(principal: Principal) -> bool:
    """Tokens from the client_credentials grant name a client, not a user."""
    return principal.user_id.startswith("client:")


def authenticate(token: str) -> Principal:
    """Verify a bearer token completely (checks 2-4 above); raise Unauthenticated."""
    auth = current_app.extensions[EXTENSION]
    principal = auth.issuer.verifier.verify(token)
    denied, cached = auth.store.token_status(principal.token_id, principal.user_id)
    if denied:
        raise InvalidToken("The access token has been revoked")
    if not is_client_subject(principal):
        state = cached if cached is not None else auth.session_state(principal.user_id, token)
        if state.get("deleted"):
            raise InvalidToken("The account no longer exists")
        valid_after = state.get("sessions_valid_after")
        if valid_after is not None and principal.auth_time.timestamp() < valid_after:
            raise InvalidToken("This session has ended; sign in again")
    return principal


def check_step_up(principal: Principal, within: int, now: float | None = None) -> None:
    if principal.has_recent_second_factor(within=within, now=now):
        return
    if not principal.claims.get("mfa") and not any(
        m in ("otp", "mfa", "recovery", "hwk") for m in principal.amr
    ):
        raise MfaRequired(
            "This request needs a second factor: enrol an authenticator app "
            "(POST /v1/me/mfa/totp), then sign in again with it"
        )
    raise StepUpRequired(
        f"This request needs a second factor within the last {within // 60} minutes; "
        "sign in again (/oauth/authorize with prompt=login)"
    )


def require_auth(*scopes: str, step_up: bool = False) -> Callable:
    needed = tuple(scopes)
    for scope in needed:
        if not isinstance(scope, str) or not scope or " " in scope:
            raise ValueError(f"a scope is a non-empty string without spaces, got {scope!r}")

    def decorate(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            auth = current_app.extensions[EXTENSION]
            token = bearer_token()
            if token is None:
                return _refuse(InvalidToken("A bearer access token is required"), "invalid_token")
            try:
                principal = authenticate(token)
            except Unauthenticated as exc:
                auth.audit_failure("authz.invalid_token", None, reason=exc.detail)
                return _refuse(InvalidToken(exc.detail), "invalid_token")
            missing = sorted(s for s in needed if s not in principal.scopes)
            if missing:
                auth.audit_failure("authz.insufficient_scope", principal, scopes=missing)
                error = InsufficientScope(
                    "The access token lacks a required scope", {"required_scopes": missing}
                )
                return _refuse(error, "insufficient_scope", " ".join(needed))
            if step_up:
                try:
                    check_step_up(principal, auth.config.step_up_seconds, now=time.time())
                except (StepUpRequired, MfaRequired) as exc:
                    auth.audit_failure(f"authz.{exc.code}", principal)
                    www = "insufficient_user_authentication"
                    return _refuse(exc, www if exc.status == 401 else None)
            g.principal = principal
            g.access_token = token
            user_id_var.set(principal.user_id)
            return view(*args, **kwargs)

        guarded.auth_required = {"scopes": needed, "step_up": step_up}
        return guarded

    return decorate


def is_authenticated_view(view) -> bool:
    """True when the view (or a MethodView's every method) is wrapped by require_auth."""
    if getattr(view, "auth_required", None) is not None:
        return True
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return False
    methods = [getattr(view_class, m.lower(), None) for m in (view_class.methods or ())]
    return bool(methods) and all(
        getattr(m, "auth_required", None) is not None for m in methods if m is not None
    )
