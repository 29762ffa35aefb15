"""Access tokens: ES256 JWTs (RFC 9068 shape) signed with the key provider's keypair.

Claims: ``iss aud sub exp iat nbf jti scope amr auth_time typ=access client_id mfa`` (+ ``sid``,
the refresh family, when the token came from a user sign-in). Services verify them with
:class:`common.principal.PrincipalVerifier` and the public key the gateway publishes at start
(:func:`common.principal.write_public_key_file`); the gateway verifies them with the same class.
Refresh tokens are *not* JWTs: they are opaque random strings (see :mod:`gateway.auth.storage`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives import serialization

from common.crypto.token import b64encode
from common.principal import ACCESS_TOKEN_TYPE, PrincipalVerifier, TokenSigner
from common.principal import write_public_key_file as _write_public_key_file


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    exp: int
    claims: dict


class AccessTokenIssuer:
    """Signs and verifies the gateway's access tokens and publishes the public key."""

    def __init__(self, private_key, *, kid: str, issuer: str, audience: str, lifetime: int = 900):
        if lifetime < 1 or lifetime > 900:
            raise ValueError("access tokens live between 1 and 900 seconds")
        self.private_key = private_key
        self.kid = kid
        self.issuer = issuer
        self.audience = audience
        self.lifetime = lifetime
        self.signer = TokenSigner(private_key, kid=kid, issuer=issuer, audience=audience)
        self.verifier: PrincipalVerifier = self.signer.verifier()

    @classmethod
    def from_key_provider(cls, settings, *, lifetime: int = 900, provider=None):
        from common.crypto import get_key_provider

        pair = (provider or get_key_provider()).jwt_signing_key_pair()
        key = serialization.load_pem_private_key(pair.private_pem, password=None)
        return cls(
            key,
            kid=pair.kid,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            lifetime=lifetime,
        )

    def issue(
        self,
        subject: str,
        *,
        scope: str,
        amr: Iterable[str],
        auth_time: int | None,
        client_id: str,
        mfa: bool,
        sid: str | None = None,
        now: float | None = None,
    ) -> IssuedToken:
        now_s = int(time.time() if now is None else now)
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(subject),
            "iat": now_s,
            "nbf": now_s,
            "exp": now_s + self.lifetime,
            "jti": uuid.uuid4().hex,
            "scope": scope,
            "amr": list(amr),
            "auth_time": int(auth_time if auth_time is not None else now_s),
            "typ": ACCESS_TOKEN_TYPE,
            "client_id": client_id,
            "mfa": bool(mfa),
        }
        if sid:
            claims["sid"] = sid
        token = jwt.encode(
            claims,
            self.private_key,
            algorithm="ES256",
            headers={"kid": self.kid, "typ": "at+jwt"},
        )
        return IssuedToken(token=token, jti=claims["jti"], exp=claims["exp"], claims=claims)

    def jwks(self) -> dict:
        """The JWK Set (RFC 7517) with the public signing key."""
        numbers = self.private_key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "EC",
                    "crv": "P-256",
                    "x": b64encode(numbers.x.to_bytes(32, "big")),
                    "y": b64encode(numbers.y.to_bytes(32, "big")),
                    "kid": self.kid,
                    "use": "sig",
                    "alg": "ES256",
                }
            ]
        }

    def publish_public_key(self, path=None):
        """Write the public key where services read it (``NESTEGG_JWT_PUBLIC_KEY_FILE``),
        only when it changed (services reload their verifier when the file's mtime moves)."""
        from common.principal import public_key_path

        target = path or public_key_path()
        if target.exists() and target.read_text() == self.signer.public_pem():
            return target
        return _write_public_key_file(self.signer, target)
