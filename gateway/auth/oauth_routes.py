"""The public OAuth endpoints: ``/oauth/authorize`` (sign-in page), ``/oauth/token``,
``/oauth/revoke`` (RFC 7009), ``/.well-known/oauth-authorization-server`` (RFC 8414) and
``/.well-known/jwks.json``.

The gateway keeps no browser session: every ``/oauth/authorize`` asks for the password (and the
second factor for enrolled users), so ``prompt=login`` — what a client sends to re-authenticate
for step-up — is always honoured. The sign-in attempt lives in Redis for ``login_state_ttl``
seconds, keyed by an HttpOnly cookie; the form carries a CSRF token bound to that state and
posts back to the exact authorization request URL it was served for.
"""

from __future__ import annotations

import hmac
import secrets

from authlib.oauth2.rfc6749.errors import OAuth2Error
from flask import current_app, jsonify, request

from common.errors import DomainError, Locked, Unauthenticated, ValidationFailed
from gateway import rpc
from gateway.auth import login_page
from gateway.auth.bearer import EXTENSION
from gateway.auth.oauth_server import AuthUser
from gateway.body import accepts
from gateway.openapi import ApiBlueprint

blp = ApiBlueprint(
    "oauth", __name__, description="OAuth 2.0 authorization server (RFC 6749, 7636, 7009, 8414)"
)
COOKIE = "nestegg_login"
COOKIE_PATH = "/oauth/authorize"
FORM_TYPE = "application/x-www-form-urlencoded"
CLIENT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"]
MFA_CODE_REQUIRED = "mfa_code_required"
REDIRECTABLE_ERRORS = frozenset({"unsupported_response_type", "invalid_scope", "access_denied"})


def _ext():
    return current_app.extensions[EXTENSION]


def _server():
    return _ext().extra["server"]


def _validated_grant():
    """(grant, None) for a valid authorization request, else (None, response): a redirect to
    the client only when Authlib validated its redirect URI and the error is about what the
    client may ask for (response type, scope); malformed requests (PKCE missing or ``plain``,
    duplicate parameters) get an error page (security reference D2: 400)."""
    server = _server()
    try:
        grant = server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        if getattr(error, "redirect_uri", None) and error.error in REDIRECTABLE_ERRORS:
            return None, server.handle_error_response(None, error)
        return None, login_page.error_page(
            error.error, error.description or "The authorization request is invalid."
        )
    return grant, None


def _consent_scopes(grant) -> list[str]:
    client = grant.request.client
    return [] if client.first_party else sorted((grant.request.scope or "").split())


def _page(state: dict, grant, status: int, **context):
    return login_page.login_page(
        status,
        client_name=grant.request.client.name,
        action=request.path + "?" + state["query"],
        csrf_token=state["csrf"],
        step="code" if state.get("mfa_challenge") else "password",
        consent_scopes=_consent_scopes(grant),
        redirect_uri=grant.request.payload.redirect_uri,
        **context,
    )


@blp.route("/oauth/authorize", methods=["GET", "POST"])
@blp.doc(
    summary="Authorization endpoint (HTML sign-in page)",
    description="Authorization code flow with PKCE (S256 only). GET shows the sign-in form; "
    "POST (form-encoded, CSRF-protected) signs in and redirects to the client with `code` "
    "and `state`. Send `prompt=login` to re-authenticate for step-up.",
)
@accepts(FORM_TYPE)
def authorize():
    grant, error = _validated_grant()
    if error is not None:
        return error
    if request.method == "GET":
        return _start(grant)
    return _finish(grant)


def _start(grant):
    ext = _ext()
    login_id = secrets.token_urlsafe(32)
    state = {
        "query": request.query_string.decode("utf-8", "replace"),
        "csrf": secrets.token_urlsafe(32),
    }
    ext.store.save_login(login_id, state, ext.config.login_state_ttl)
    response = _page(state, grant, 200)
    response.set_cookie(
        COOKIE,
        login_id,
        max_age=ext.config.login_state_ttl,
        httponly=True,
        secure=request.is_secure,
        samesite="Lax",
        path=COOKIE_PATH,
    )
    return response


def _end(login_id: str, response):
    _ext().store.end_login(login_id)
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


def _finish(grant):
    ext = _ext()
    login_id = request.cookies.get(COOKIE, "")
    state = ext.store.login(login_id) if 0 < len(login_id) <= 100 else None
    if state is None or state["query"] != request.query_string.decode("utf-8", "replace"):
        return login_page.error_page(
            "login_expired", "This sign-in form has expired; start again from the application."
        )
    if not hmac.compare_digest(request.form.get("csrf_token", "").encode(), state["csrf"].encode()):
        return login_page.error_page("invalid_request", "The form was not valid.", 403)
    server = _server()
    if request.form.get("action") == "deny":
        return _end(login_id, server.create_authorization_response(grant_user=None, grant=grant))
    if _consent_scopes(grant) and request.form.get("consent") != "approve":
        return _page(state, grant, 400, message="Tick “Allow” to let this application in.")
    payload = _credentials(state)
    if payload is None:
        return _page(state, grant, 400, message="Enter your e-mail and password, or a code.")
    context = {"ip": request.remote_addr, "user_agent": request.user_agent.string[:500] or None}
    try:
        result = rpc.call("users", "authenticate", payload, context)
    except Locked as exc:
        response = _page(state, grant, 423, message=exc.detail)
        response.headers["Retry-After"] = str(exc.extra.get("retry_after", 1800))
        return response
    except Unauthenticated as exc:
        if state.get("mfa_challenge"):  # five wrong codes or an expired challenge: start over
            response = _page(
                state,
                grant,
                401,
                message=exc.detail,
                over=True,
                restart_url=request.path + "?" + state["query"],
            )
            return _end(login_id, response)
        return _page(state, grant, 401, message=exc.detail)
    except ValidationFailed:
        return _page(state, grant, 400, message="Check the e-mail, password or code format.")
    except DomainError as exc:
        if exc.code != MFA_CODE_REQUIRED:
            raise
        state["mfa_challenge"] = exc.extra.get("mfa_challenge")
        ext.store.save_login(login_id, state, ext.config.login_state_ttl)
        return _page(
            state, grant, 401, message=exc.detail, attempts_left=exc.extra.get("attempts_left")
        )
    user = AuthUser(
        user_id=result["user_id"],
        amr=list(result["amr"]),
        auth_time=int(result["auth_time"]),
        mfa=bool(result["mfa_enabled"]),
    )
    return _end(login_id, server.create_authorization_response(grant_user=user, grant=grant))


def _credentials(state: dict) -> dict | None:
    form = request.form
    totp = form.get("totp", "").strip() or None
    recovery = form.get("recovery_code", "").strip() or None
    code = {"totp": totp} if totp else ({"recovery_code": recovery} if recovery else {})
    if state.get("mfa_challenge"):
        return {"mfa_challenge": state["mfa_challenge"], **code} if code else None
    email, password = form.get("email", "").strip(), form.get("password", "")
    if not email or not password:
        return None
    return {"email": email, "password": password, **code}


@blp.route("/oauth/token", methods=["POST"])
@blp.doc(
    summary="Token endpoint",
    description="Form-encoded. `grant_type` = `authorization_code` (with `code_verifier`), "
    "`refresh_token` (rotated on every use) or `client_credentials` (confidential clients). "
    'Errors follow RFC 6749 §5.2 (`{"error": ...}`).',
)
@accepts(FORM_TYPE)
def token():
    return _server().create_token_response()


@blp.route("/oauth/revoke", methods=["POST"])
@blp.doc(
    summary="Token revocation (RFC 7009)",
    description="Form-encoded `token` (access or refresh) and optional `token_type_hint`. "
    "Revokes the whole sign-in (refresh family and its access tokens). Always 200 for a "
    "token the client does not own or that is unknown.",
)
@accepts(FORM_TYPE)
def revoke():
    server = _server()
    oauth_request = server.create_oauth2_request(None)
    try:
        client = server.authenticate_client(oauth_request, CLIENT_AUTH_METHODS, "revocation")
    except OAuth2Error as error:
        return server.handle_error_response(oauth_request, error)
    value = request.form.get("token", "")
    if not value or len(value) > 8192:
        return jsonify(error="invalid_request", error_description="Missing 'token'"), 400
    revoke_token(_ext(), value, client.get_client_id())
    return jsonify({})


def revoke_token(ext, value: str, client_id: str | None) -> bool:
    """Revoke a refresh token's family, or an access token and its family. ``client_id``
    None means the token's owner is acting (logout). True when something was revoked."""
    found = ext.store.refresh_family_of(value)
    family_id, user_id, jti = None, None, None
    if found is not None:
        family = ext.store.family(found[0])
        if family is not None and client_id in (None, family["client_id"]):
            family_id, user_id = found[0], family["user_id"]
    else:
        try:
            principal = ext.issuer.verifier.verify(value)
        except Unauthenticated:
            principal = None
        if principal is not None and client_id in (None, principal.client_id):
            jti, user_id = principal.token_id, principal.user_id
            ext.store.deny(jti, int(principal.claims["exp"]))
            family_id = principal.claims.get("sid")
    if family_id:
        ext.store.revoke_family(family_id)
    revoked = bool(family_id or jti)
    if revoked:
        ext.audit.record(
            "token.revoke",
            "success",
            user_id=user_id,
            client_id=client_id,
            ip=request.remote_addr,
            details={"kind": "refresh" if found else "access"},
        )
    return revoked


@blp.route("/.well-known/oauth-authorization-server", methods=["GET"])
@blp.doc(summary="Authorization server metadata (RFC 8414)")
def metadata():
    ext = _ext()
    issuer = ext.issuer.issuer.rstrip("/")
    return jsonify(
        {
            "issuer": ext.issuer.issuer,
            "authorization_endpoint": f"{issuer}/oauth/authorize",
            "token_endpoint": f"{issuer}/oauth/token",
            "revocation_endpoint": f"{issuer}/oauth/revoke",
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
            "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
            "scopes_supported": _server().scopes_supported,
            "prompt_values_supported": ["login"],
            "authorization_response_iss_parameter_supported": False,
        }
    )


@blp.route("/.well-known/jwks.json", methods=["GET"])
@blp.doc(summary="JSON Web Key Set with the access-token signing key")
def jwks():
    response = jsonify(_ext().issuer.jwks())
    return response
