"""OAuth client registry (the gateway's authorization server asks the users service).

Redirect URIs are registered exactly (RFC 9700 §2.1: exact string matching), must be
absolute, without fragment or wildcard, and use https — except loopback redirects for native
apps (RFC 8252 §7.3), which must be ``http://127.0.0.1`` or ``http://[::1]``; for those the
port may vary at request time (the gateway does that matching). ``localhost`` is refused
(RFC 8252 §8.3). Confidential clients get a secret shown once and stored as bcrypt over
SHA-256 of the secret.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import secrets
from urllib.parse import urlsplit

import bcrypt
from sqlalchemy import select
from sqlalchemy.orm import Session

from users.models import OAuthClient

LOOPBACK_HOSTS = ("127.0.0.1", "::1")
CLI_CLIENT_ID = "nestegg-cli"


def check_redirect_uri(uri: str) -> str:
    """Return ``uri`` if it may be registered, else raise ValueError saying why."""
    if "*" in uri:
        raise ValueError(f"wildcards are not allowed in redirect URIs: {uri!r}")
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri:
        raise ValueError(f"a redirect URI must not have a fragment: {uri!r}")
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(f"a redirect URI must be an absolute http(s) URL: {uri!r}")
    if parts.username or parts.password:
        raise ValueError(f"a redirect URI must not carry credentials: {uri!r}")
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ValueError(f"a redirect URI has a malformed port: {uri!r}") from None
    host = parts.hostname or ""
    if host == "localhost":
        raise ValueError("use http://127.0.0.1 or http://[::1] instead of localhost (RFC 8252)")
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        raise ValueError(f"only loopback redirect URIs may use http: {uri!r}")
    return uri


def _secret_digest(secret: str) -> bytes:
    return base64.b64encode(hashlib.sha256(secret.encode("utf-8")).digest())


def client_view(client: OAuthClient) -> dict:
    return {
        "client_id": client.client_id,
        "name": client.name,
        "redirect_uris": list(client.redirect_uris),
        "scopes": list(client.scopes),
        "public": client.public,
        "first_party": client.first_party,
    }


def get_client(session: Session, client_id: str) -> OAuthClient | None:
    return session.get(OAuthClient, client_id)


def create_client(session: Session, data: dict, *, cost: int) -> dict:
    """Register a client; returns ``{client_id, client_secret}`` (secret None if public)."""
    uris = [check_redirect_uri(u) for u in data["redirect_uris"]]
    client_id = "ne-" + secrets.token_urlsafe(16)
    secret = None if data["public"] else secrets.token_urlsafe(32)
    session.add(
        OAuthClient(
            client_id=client_id,
            name=data["name"],
            secret_hash=None
            if secret is None
            else bcrypt.hashpw(_secret_digest(secret), bcrypt.gensalt(cost)).decode("ascii"),
            redirect_uris=uris,
            scopes=sorted(set(data["scopes"])),
            public=data["public"],
            first_party=data.get("first_party", False),
        )
    )
    return {"client_id": client_id, "client_secret": secret}


@functools.cache
def _dummy_hash(cost: int) -> bytes:
    return bcrypt.hashpw(_secret_digest(secrets.token_urlsafe(32)), bcrypt.gensalt(cost))


def verify_secret(session: Session, client_id: str, secret: str, *, cost: int) -> bool:
    """Constant work whether or not the client exists; public clients have no secret."""
    client = session.execute(
        select(OAuthClient).where(OAuthClient.client_id == client_id)
    ).scalar_one_or_none()
    stored = client.secret_hash.encode("ascii") if client and client.secret_hash else None
    ok = bcrypt.checkpw(_secret_digest(secret), stored or _dummy_hash(cost))
    return bool(ok and stored)
