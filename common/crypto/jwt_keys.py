"""ES256 signing keys: generation, public half, and an RFC 7638 key id."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from common.crypto.token import b64encode


@dataclass(frozen=True, repr=False)
class SigningKeyPair:
    private_pem: bytes
    public_pem: bytes
    kid: str

    def __repr__(self) -> str:  # never print the private key
        return f"SigningKeyPair(kid={self.kid!r})"


def generate_es256_private_pem() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def signing_key_pair(private_pem: bytes) -> SigningKeyPair:
    key = serialization.load_pem_private_key(private_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("the stored JWT signing key is not a P-256 (ES256) private key")
    public = key.public_key()
    public_pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return SigningKeyPair(
        private_pem=private_pem, public_pem=public_pem, kid=jwk_thumbprint(public)
    )


def jwk_thumbprint(public: ec.EllipticCurvePublicKey) -> str:
    """RFC 7638 thumbprint (SHA-256, base64url) of a P-256 public key: a stable ``kid``."""
    numbers = public.public_numbers()
    jwk = {
        "crv": "P-256",
        "kty": "EC",
        "x": b64encode(numbers.x.to_bytes(32, "big")),
        "y": b64encode(numbers.y.to_bytes(32, "big")),
    }
    canonical = json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode("ascii")
    return b64encode(hashlib.sha256(canonical).digest())
