"""Plaid webhook verification (the ``Plaid-Verification`` JWT).

Steps (Plaid's documented procedure): read ``kid`` and ``alg`` from the unverified JWT header;
refuse anything but ES256; fetch the JWK for ``kid`` from /webhook_verification_key/get
(cached per kid; refetched once for an unknown kid); verify the signature; refuse an ``iat``
older than five minutes (or more than a minute in the future); compare ``request_body_sha256``
with the SHA-256 of the exact raw body in constant time. Any failure raises
:class:`common.errors.Unauthenticated` (the gateway answers 401).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping

import jwt

from common.errors import Unauthenticated

MAX_AGE_SECONDS = 5 * 60
FUTURE_SKEW_SECONDS = 60
KEY_CACHE_SECONDS = 24 * 3600
MAX_BODY_BYTES = 1_048_576


class WebhookKeyCache:
    """JWKs by kid. ``fetch(kid)`` returns the JWK dict or raises."""

    def __init__(
        self,
        fetch: Callable[[str], dict],
        *,
        ttl: float = KEY_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._keys: dict[str, tuple[float, object]] = {}
        self._lock = threading.Lock()
        self.fetches = 0

    def key_for(self, kid: str):
        now = self._clock()
        with self._lock:
            cached = self._keys.get(kid)
            if cached is not None and now - cached[0] < self._ttl:
                return cached[1]
        self.fetches += 1
        try:
            jwk = self._fetch(kid)
        except Exception:
            raise Unauthenticated("The webhook was signed with an unknown key") from None
        if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
            raise Unauthenticated("The webhook verification key is not an ES256 key")
        if jwk.get("expired_at"):
            raise Unauthenticated("The webhook verification key has expired")
        key = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(jwk))
        with self._lock:
            self._keys[kid] = (now, key)
        return key


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup (HTTP header names are case-insensitive)."""
    wanted = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == wanted:
            return value if isinstance(value, str) else None
    return None


def verify_webhook(
    headers: Mapping[str, str],
    body: str | bytes,
    keys: WebhookKeyCache,
    *,
    now: float | None = None,
) -> dict:
    """Verify a Plaid webhook; returns the parsed JSON payload or raises Unauthenticated."""
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    if len(raw) > MAX_BODY_BYTES:
        raise Unauthenticated("The webhook body is too large")
    token = header_value(headers, "Plaid-Verification")
    if not token:
        raise Unauthenticated("The webhook is not signed")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthenticated("The webhook signature is malformed") from None
    if header.get("alg") != "ES256":
        raise Unauthenticated("The webhook signature uses a refused algorithm")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise Unauthenticated("The webhook signature names no key")
    key = keys.key_for(kid)
    try:
        claims = jwt.decode(
            token,
            key=key,
            algorithms=["ES256"],
            options={"require": ["iat"], "verify_iat": False, "verify_exp": False},
        )
    except jwt.PyJWTError:
        raise Unauthenticated("The webhook signature is invalid") from None
    now = time.time() if now is None else now
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise Unauthenticated("The webhook signature has no valid iat")
    if now - iat > MAX_AGE_SECONDS:
        raise Unauthenticated("The webhook signature is too old")
    if iat - now > FUTURE_SKEW_SECONDS:
        raise Unauthenticated("The webhook signature is dated in the future")
    claimed = claims.get("request_body_sha256")
    if not isinstance(claimed, str):
        raise Unauthenticated("The webhook signature has no body hash")
    actual = hashlib.sha256(raw).hexdigest()
    if not hmac.compare_digest(claimed.lower().encode(), actual.encode()):
        raise Unauthenticated("The webhook body does not match its signature")
    try:
        payload = json.loads(raw)
    except ValueError:
        raise Unauthenticated("The webhook body is not JSON") from None
    if not isinstance(payload, dict):
        raise Unauthenticated("The webhook body is not a JSON object")
    return payload
