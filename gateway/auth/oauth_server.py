"""The OAuth 2.0 authorization server (Authlib 1.9), configured the strict way.

- Authorization code grant with PKCE, **S256 only**: a request without ``code_challenge``, with
  ``plain`` or without a method is refused (RFC 9700 §2.1.1, ASVS 10.4.6); a wrong verifier is
  ``invalid_grant``.
- Exact redirect-URI matching (:mod:`gateway.auth.redirects`); a mismatch is never redirected
  to (the authorize view shows an error page).
- Codes: 256-bit random, stored as SHA-256 in Redis for ``code_ttl`` (≤ 600 s), taken with an
  atomic GETDEL (single use). A replayed code revokes the tokens issued from it (RFC 6749
  §4.1.2, ASVS 10.4.2).
- Refresh tokens: opaque 256-bit, stored hashed, rotated on every use with an atomic
  compare-and-set; reuse of an old one revokes the whole family (RFC 9700 §4.14.2); a family
  ends ``refresh_absolute_ttl`` after sign-in and whenever the user's sessions were ended.
- ``client_credentials`` for confidential clients (secret checked by the users service).
- No password grant, no implicit flow: they are simply not registered, so Authlib answers
  ``unsupported_grant_type`` / ``unsupported_response_type``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc6749.grants import (
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    RefreshTokenGrant,
)
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask, request

from common.errors import NotFound
from gateway.auth import scopes as scope_rules
from gateway.auth.redirects import redirect_uri_allowed
from gateway.auth.storage import digest

log = logging.getLogger(__name__)
GATEWAY_CLIENT_ID = "nestegg-gateway"
CLIENT_CACHE_SECONDS = 30.0


# --- models ---------------------------------------------------------------------------------
class Client(ClientMixin):
    """An OAuth client as the users service registered it."""

    def __init__(self, view: dict, rpc):
        self.client_id = view["client_id"]
        self.name = view["name"]
        self.redirect_uris = list(view["redirect_uris"])
        self.scopes = list(view["scopes"])
        self.public = bool(view["public"])
        self.first_party = bool(view["first_party"])
        self._rpc = rpc

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None  # redirect_uri is always required (no guessing)

    def get_allowed_scope(self, scope):
        return scope_rules.resolve(scope, self.scopes) or ""

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri_allowed(redirect_uri, self.redirect_uris)

    def check_client_secret(self, client_secret):
        if self.public or not client_secret:
            return False
        return bool(
            self._rpc.call(
                "users",
                "verify_client_secret",
                {"client_id": self.client_id, "client_secret": client_secret},
            )
        )

    def check_endpoint_auth_method(self, method, endpoint):
        if self.public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        allowed = {"authorization_code", "refresh_token"}
        if not self.public:
            allowed.add("client_credentials")
        return grant_type in allowed


@dataclass
class AuthUser:
    """Who signed in, and how (goes into every token of the sign-in)."""

    user_id: str
    amr: list[str]
    auth_time: int
    mfa: bool
    family_id: str | None = None
    rotating_from: str | None = None  # digest of the refresh token being used

    def get_user_id(self):
        return self.user_id


@dataclass
class AuthCode:
    code: str
    data: dict

    def get_redirect_uri(self):
        return self.data["redirect_uri"]

    def get_scope(self):
        return self.data["scope"]

    @property
    def code_challenge(self):
        return self.data.get("code_challenge")

    @property
    def code_challenge_method(self):
        return self.data.get("code_challenge_method")

    def get_auth_time(self):
        return self.data["user"]["auth_time"]

    def get_nonce(self):
        return None


@dataclass
class RefreshRecord:
    family: dict
    token_digest: str
    extra: dict = field(default_factory=dict)

    def check_client(self, client):
        return client.get_client_id() == self.family["client_id"]

    def get_scope(self):
        return self.family["scope"]

    def is_revoked(self):
        return False

    def is_expired(self):
        return False


# --- PKCE -------------------------------------------------------------------------------------
class S256CodeChallenge(CodeChallenge):
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge (S256)")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is supported")
        return super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result):
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'")
        return super().validate_code_verifier(grant, result)


# --- grants -----------------------------------------------------------------------------------
def _ext(grant):
    return grant.server.nestegg


class CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    AUTHORIZATION_CODE_LENGTH = 43  # ~256 bits from authlib's CSPRNG token alphabet

    def save_authorization_code(self, code, request):
        ext = _ext(self)
        user = request.user
        ext.store.save_code(
            code,
            {
                "client_id": request.client.get_client_id(),
                "redirect_uri": request.payload.redirect_uri,
                "scope": request.scope,
                "user": {
                    "user_id": user.user_id,
                    "amr": user.amr,
                    "auth_time": user.auth_time,
                    "mfa": user.mfa,
                },
                "code_challenge": request.payload.data.get("code_challenge"),
                "code_challenge_method": request.payload.data.get("code_challenge_method"),
            },
            ext.config.code_ttl,
        )

    def query_authorization_code(self, code, client):
        ext = _ext(self)
        data = ext.store.take_code(code)
        if data is None:
            family_id = ext.store.redeemed_family(code)
            if family_id is not None:  # replay: revoke what the code produced
                denied = ext.store.revoke_family(family_id)
                ext.audit.record(
                    "token.code_replay",
                    "denied",
                    client_id=client.get_client_id(),
                    ip=request.remote_addr,
                    details={"revoked_access_tokens": len(denied)},
                )
            return None
        if data["client_id"] != client.get_client_id():
            return None
        return AuthCode(code, data)

    def delete_authorization_code(self, authorization_code):
        ext = _ext(self)
        family_id = self.request.user.family_id
        if family_id:
            ext.store.mark_code_redeemed(
                authorization_code.code, family_id, ext.config.code_ttl + ext.config.access_ttl
            )

    def authenticate_user(self, authorization_code):
        return AuthUser(**authorization_code.data["user"])


class RefreshGrant(RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        ext = _ext(self)
        found = ext.store.refresh_family_of(refresh_token)
        if found is None:
            return None
        family_id, token_digest = found
        family = ext.store.family(family_id)
        if family is None or ext.store.is_family_revoked(family_id):
            return None
        if family["current"] != token_digest:  # an old token of the family: stolen or replayed
            denied = ext.store.revoke_family(family_id)
            ext.audit.record(
                "token.refresh_reuse",
                "denied",
                user_id=family.get("user_id"),
                client_id=family.get("client_id"),
                ip=request.remote_addr,
                details={"revoked_access_tokens": len(denied)},
            )
            return None
        return RefreshRecord(family, token_digest)

    def authenticate_user(self, refresh_token):
        ext = _ext(self)
        family = refresh_token.family
        state = session_state_for(ext, family["user_id"])
        valid_after = state.get("sessions_valid_after")
        if state.get("deleted") or (valid_after is not None and family["auth_time"] < valid_after):
            ext.store.revoke_family(family["family_id"])
            raise InvalidGrantError("This sign-in has ended; sign in again")
        return AuthUser(
            user_id=family["user_id"],
            amr=list(family["amr"]),
            auth_time=family["auth_time"],
            mfa=family["mfa"],
            family_id=family["family_id"],
            rotating_from=refresh_token.token_digest,
        )

    def revoke_old_credential(self, refresh_token):
        """Nothing left to do: the token generator swapped the family's current token
        atomically before issuing anything."""


class ClientCredentials(ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


def session_state_for(ext, user_id: str) -> dict:
    """The user's session state, asked with a 60-second gateway token for that user."""
    cached = ext.store.cached_session_state(user_id)
    if cached is not None:
        return cached
    internal = ext.issuer.issue(
        user_id, scope="", amr=[], auth_time=None, client_id=GATEWAY_CLIENT_ID, mfa=False
    )
    return ext.session_state(user_id, internal.token)


# --- tokens ------------------------------------------------------------------------------------
def make_token_generator(ext):
    def generate(
        grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True
    ):
        client_id = client.get_client_id()
        scope = scope or ""
        if user is None:  # client_credentials: the client itself, no refresh token
            # Authlib hands over the *requested* scope here: resolve it against the client
            scope = scope_rules.resolve(scope or None, client.scopes)
            if scope is None:
                raise InvalidScopeError()
            issued = ext.issuer.issue(
                f"client:{client_id}",
                scope=scope,
                amr=[],
                auth_time=None,
                client_id=client_id,
                mfa=False,
            )
            return _token_body(issued, ext.config.access_ttl, scope)
        if user.family_id is None:
            user.family_id = ext.store.create_family(
                {
                    "user_id": user.user_id,
                    "client_id": client_id,
                    "scope": scope,
                    "amr": user.amr,
                    "auth_time": user.auth_time,
                    "mfa": user.mfa,
                },
                absolute_ttl=max(
                    1, user.auth_time + ext.config.refresh_absolute_ttl - int(time.time())
                ),
            )
        refresh = None
        if include_refresh_token:
            refresh = ext.store.new_refresh_token(user.family_id, previous=user.rotating_from)
            if refresh is None:  # lost a race with another use of the same token
                ext.store.revoke_family(user.family_id)
                raise InvalidGrantError("The refresh token was already used")
        issued = ext.issuer.issue(
            user.user_id,
            scope=scope,
            amr=user.amr,
            auth_time=user.auth_time,
            client_id=client_id,
            mfa=user.mfa,
            sid=user.family_id,
        )
        ext.store.add_access_token(user.family_id, issued.jti, issued.exp)
        body = _token_body(issued, ext.config.access_ttl, scope)
        if refresh is not None:
            body["refresh_token"] = refresh
        return body

    return generate


def _token_body(issued, lifetime: int, scope: str) -> dict:
    return {
        "token_type": "Bearer",
        "access_token": issued.token,
        "expires_in": lifetime,
        "scope": scope,
    }


# --- the server ----------------------------------------------------------------------------------
class ClientCache:
    """``users.get_oauth_client`` answers, kept 30 s per process (clients rarely change)."""

    def __init__(self, rpc, ttl: float = CLIENT_CACHE_SECONDS):
        self.rpc = rpc
        self.ttl = ttl
        self._items: dict[str, tuple[float, Client | None]] = {}
        self._lock = threading.Lock()

    def get(self, client_id) -> Client | None:
        if not isinstance(client_id, str) or not client_id or len(client_id) > 64:
            return None
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(client_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        try:
            view = self.rpc.call("users", "get_oauth_client", {"client_id": client_id})
            client = Client(view, self.rpc)
        except NotFound:
            client = None
        with self._lock:
            self._items[client_id] = (now + self.ttl, client)
        return client


def build_server(app: Flask, ext) -> AuthorizationServer:
    clients = ClientCache(ext.rpc)

    def save_token(token, oauth_request):
        user = oauth_request.user
        ext.audit.record(
            "token.issue",
            "success",
            user_id=getattr(user, "user_id", None),
            client_id=oauth_request.client.get_client_id(),
            ip=request.remote_addr,
            details={"grant_type": oauth_request.payload.grant_type, "scope": token.get("scope")},
        )

    server = AuthorizationServer(query_client=clients.get, save_token=save_token)
    server.load_config(app.config)
    server.nestegg = ext
    server.clients = clients
    server.scopes_supported = sorted(set(scope_rules.SCOPES) | set(scope_rules.ALIASES))
    server.register_token_generator("default", make_token_generator(ext))
    server.register_grant(CodeGrant, [S256CodeChallenge(required=True)])
    server.register_grant(RefreshGrant)
    server.register_grant(ClientCredentials)
    return server


def access_token_digest(token: str) -> str:
    return digest(token)
