"""The caller's identity inside a service: a gateway-signed access token, verified locally.

Every user-facing RPC receives the caller's access token as an explicit ``principal`` argument
(see DESIGN.md: a pooled proxy cannot vary context data per call). The service verifies the
token itself with the gateway's *public* key and scopes every query by ``Principal.user_id``;
the gateway is not the only guard.

Only asymmetric algorithms are accepted (ES256, RS256 — never ``none`` or HMAC), and ``iss``,
``aud``, ``exp``, ``iat``, ``sub`` and ``jti`` are required. Tokens whose ``typ`` is not
``access`` (refresh tokens, MFA-pending tokens) are refused.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from common.config import env, load, state_dir
from common.errors import Forbidden, StepUpRequired, Unauthenticated

ALLOWED_ALGORITHMS = ("ES256", "RS256")
ACCESS_TOKEN_TYPE = "access"  # noqa: S105 - a token kind, not a secret
STEP_UP_SECONDS = 600
SECOND_FACTORS = frozenset({"otp", "mfa", "recovery", "hwk"})


@dataclass(frozen=True)
class Principal:
    user_id: str
    scopes: frozenset[str]
    auth_time: dt.datetime
    amr: tuple[str, ...]
    token_id: str
    client_id: str | None = None
    claims: Mapping = field(default_factory=dict, repr=False, compare=False)

    def require_scopes(self, *needed: str) -> None:
        missing = [s for s in needed if s not in self.scopes]
        if missing:
            raise Forbidden(
                "The access token lacks a required scope", {"required_scopes": sorted(missing)}
            )

    def has_recent_second_factor(
        self, *, within: int = STEP_UP_SECONDS, now: float | None = None
    ) -> bool:
        now = time.time() if now is None else now
        fresh = now - self.auth_time.timestamp() <= within
        return fresh and any(m in SECOND_FACTORS for m in self.amr)

    def require_step_up(self, *, within: int = STEP_UP_SECONDS) -> None:
        if not self.has_recent_second_factor(within=within):
            raise StepUpRequired(
                "This request needs a second factor within the last "
                f"{within // 60} minutes; sign in again with your authenticator code"
            )


class PrincipalVerifier:
    """Verifies access tokens with one or more public keys (by ``kid``, for key rotation)."""

    def __init__(
        self, public_keys: Mapping[str, object], *, issuer: str, audience: str, leeway: int = 5
    ):
        if not public_keys:
            raise ValueError("at least one public key is required")
        self._keys = dict(public_keys)
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway

    def verify(self, token: object) -> Principal:
        if not isinstance(token, str) or not token or len(token) > 8192:
            raise Unauthenticated("A bearer access token is required")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("The access token is malformed") from None
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise Unauthenticated("The access token uses a refused algorithm")
        key = self._keys.get(header.get("kid")) if header.get("kid") else None
        if key is None and len(self._keys) == 1 and not header.get("kid"):
            key = next(iter(self._keys.values()))
        if key is None:
            raise Unauthenticated("The access token was signed with an unknown key")
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=list(ALLOWED_ALGORITHMS),
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("The access token has expired") from None
        except jwt.PyJWTError:
            raise Unauthenticated("The access token is invalid") from None
        if claims.get("typ", ACCESS_TOKEN_TYPE) != ACCESS_TOKEN_TYPE:
            raise Unauthenticated("Not an access token")
        scope = claims.get("scope", "")
        amr = claims.get("amr") or []
        if not isinstance(scope, str) or not isinstance(amr, list):
            raise Unauthenticated("The access token is invalid")
        auth_time = claims.get("auth_time", claims["iat"])
        return Principal(
            user_id=str(claims["sub"]),
            scopes=frozenset(scope.split()),
            auth_time=dt.datetime.fromtimestamp(int(auth_time), dt.UTC),
            amr=tuple(str(m) for m in amr),
            token_id=str(claims["jti"]),
            client_id=claims.get("client_id"),
            claims=claims,
        )


def public_key_path() -> Path:
    return Path(env("NESTEGG_JWT_PUBLIC_KEY_FILE", str(state_dir() / "jwt_public.pem")))


def load_public_keys() -> dict[str, object]:
    """Public keys from ``NESTEGG_JWT_PUBLIC_KEY`` (PEM) or the key file the gateway publishes.

    The file may hold several PEM blocks, each preceded by a ``# kid: <id>`` line.
    """
    text = env("NESTEGG_JWT_PUBLIC_KEY")
    if text is None:
        path = public_key_path()
        if not path.exists():
            raise Unauthenticated("No token verification key is configured")
        text = path.read_text()
    keys: dict[str, object] = {}
    kid = "default"
    block: list[str] = []
    for line in text.splitlines():
        if line.startswith("# kid:"):
            kid = line.split(":", 1)[1].strip()
            continue
        block.append(line)
        if line.startswith("-----END"):
            keys[kid] = serialization.load_pem_public_key("\n".join(block).encode())
            block = []
    if not keys:
        raise Unauthenticated("No token verification key is configured")
    return keys


_verifier: PrincipalVerifier | None = None
_verifier_mtime: float | None = None


def default_verifier() -> PrincipalVerifier:
    """Process-wide verifier built from config; reloaded when the key file changes."""
    global _verifier, _verifier_mtime
    mtime = None
    if env("NESTEGG_JWT_PUBLIC_KEY") is None and public_key_path().exists():
        mtime = public_key_path().stat().st_mtime
    if _verifier is None or mtime != _verifier_mtime:
        settings = load()
        _verifier = PrincipalVerifier(
            load_public_keys(), issuer=settings.jwt_issuer, audience=settings.jwt_audience
        )
        _verifier_mtime = mtime
    return _verifier


class TokenSigner:
    """Signs access tokens: the gateway with its provider-held key, tests with a fresh one."""

    def __init__(self, private_key=None, *, kid: str | None = None, issuer: str, audience: str):
        self.private_key = private_key or ec.generate_private_key(ec.SECP256R1())
        self.kid = kid or uuid.uuid4().hex[:16]
        self.issuer = issuer
        self.audience = audience

    @property
    def public_key(self):
        return self.private_key.public_key()

    def public_pem(self) -> str:
        pem = self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        return f"# kid: {self.kid}\n{pem}"

    def verifier(self) -> PrincipalVerifier:
        return PrincipalVerifier(
            {self.kid: self.public_key}, issuer=self.issuer, audience=self.audience
        )

    def sign(
        self,
        user_id: str,
        *,
        scopes: Iterable[str] = (),
        amr: Iterable[str] = ("pwd",),
        auth_time: float | None = None,
        lifetime: int = 900,
        client_id: str | None = None,
        extra: Mapping | None = None,
        now: float | None = None,
    ) -> str:
        now = int(time.time() if now is None else now)
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user_id),
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
            "scope": " ".join(sorted(set(scopes))),
            "amr": list(amr),
            "auth_time": int(auth_time if auth_time is not None else now),
            "typ": ACCESS_TOKEN_TYPE,
        }
        if client_id:
            claims["client_id"] = client_id
        if extra:
            claims.update(extra)
        return jwt.encode(claims, self.private_key, algorithm="ES256", headers={"kid": self.kid})


def write_public_key_file(signer: TokenSigner, path: Path | None = None) -> Path:
    path = path or public_key_path()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(signer.public_pem())
    os.replace(tmp, path)
    return path
