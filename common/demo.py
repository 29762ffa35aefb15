"""Demo data for ``nestegg run``: one user with a bank linked in the bundled Plaid sandbox.

Idempotent: the demo user's password is generated once and kept in the state dir
(``demo-user.json``, mode 0600); a second run finds the user and links nothing again. The link
goes through the same RPCs the gateway calls, with an access token that the operator's runner
signs with the gateway's own key (as the gateway would after a sign-in with a second factor),
because the link is a step-up operation. Nothing here runs outside ``nestegg run``.
"""

from __future__ import annotations

import json
import os
import secrets

from common.config import Settings, state_dir
from common.errors import Conflict

DEMO_EMAIL = "demo@nestegg.local"
DEMO_INSTITUTION = "ins_109508"
SCOPES = (
    "profile:read profile:write accounts:read accounts:link accounts:write transactions:read "
    "transactions:write portfolio:read portfolio:write"
)


def demo_credentials() -> dict:
    path = state_dir() / "demo-user.json"
    if path.exists():
        return json.loads(path.read_text())
    creds = {"email": DEMO_EMAIL, "password": "demo " + secrets.token_urlsafe(12)}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(creds, fh)
    return creds


def operator_token(settings: Settings, user_id: str) -> str:
    """An access token signed with the gateway's key, as after a password + TOTP sign-in."""
    from cryptography.hazmat.primitives import serialization

    from common.crypto import get_key_provider
    from common.principal import TokenSigner

    pair = get_key_provider().jwt_signing_key_pair()
    signer = TokenSigner(
        serialization.load_pem_private_key(pair.private_pem, password=None),
        kid=pair.kid,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    return signer.sign(
        user_id,
        scopes=SCOPES.split(),
        amr=("pwd", "otp"),
        lifetime=300,
        client_id="nestegg-cli",
        extra={"mfa": True},
    )


def seed(settings: Settings, call) -> dict:
    """``call(service, method, *args)`` is an RPC function (the runner passes a pool's)."""
    creds = demo_credentials()
    context = {"ip": "127.0.0.1", "user_agent": "nestegg run (demo seed)"}
    try:
        call(
            "users",
            "register",
            {"email": creds["email"], "password": creds["password"], "name": "Demo User"},
            context,
        )
        fresh = True
    except Conflict:
        fresh = False
    auth = call(
        "users", "authenticate", {"email": creds["email"], "password": creds["password"]}, context
    )
    if fresh:
        token = operator_token(settings, auth["user_id"])
        public = call(
            "aggregation",
            "create_sandbox_public_token",
            token,
            {"institution_id": DEMO_INSTITUTION},
        )
        call(
            "aggregation", "exchange_public_token", token, {"public_token": public["public_token"]}
        )
    return {**creds, "linked_now": fresh}
