"""Webhooks signed the way Plaid signs them, and their delivery.

Each POST carries a ``Plaid-Verification`` header: a compact JWS (ES256, P-256) whose protected
header names the key (``kid``) and whose claims are ``iat`` (seconds since the epoch) and
``request_body_sha256`` (hex SHA-256 of the exact body bytes). The receiver fetches the public
key with /webhook_verification_key/get, checks the signature, that ``iat`` is recent and that the
body hash matches. Verification itself belongs to the gateway, not to this package.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec

from .ids import digest_int

log = logging.getLogger(__name__)
_P256_ORDER = int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16)


def _b64url_int(value: int) -> str:
    return base64.urlsafe_b64encode(value.to_bytes(32, "big")).decode().rstrip("=")


class WebhookSigner:
    """An ES256 key derived from the server seed (a sandbox key: never use it anywhere real)."""

    def __init__(self, seed: str, created_at: int):
        scalar = digest_int(seed, "webhook-signing-key") % (_P256_ORDER - 1) + 1
        self._key = ec.derive_private_key(scalar, ec.SECP256R1())
        self.kid = str(uuid.UUID(int=digest_int(seed, "webhook-kid") >> 128, version=4))
        self.created_at = created_at

    def jwk(self) -> dict:
        numbers = self._key.public_key().public_numbers()
        return {
            "alg": "ES256",
            "crv": "P-256",
            "kid": self.kid,
            "kty": "EC",
            "use": "sig",
            "x": _b64url_int(numbers.x),
            "y": _b64url_int(numbers.y),
            "created_at": self.created_at,
            "expired_at": None,
        }

    def sign(self, body: bytes, now: float | None = None) -> str:
        claims = {
            "iat": int(time.time() if now is None else now),
            "request_body_sha256": hashlib.sha256(body).hexdigest(),
        }
        return jwt.encode(claims, self._key, algorithm="ES256", headers={"kid": self.kid})


@dataclass
class Delivery:
    url: str
    payload: dict
    body: bytes
    signature: str
    queued_at: datetime
    status: int | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def summary(self) -> dict:
        return {
            "url": self.url,
            "webhook_type": self.payload.get("webhook_type"),
            "webhook_code": self.payload.get("webhook_code"),
            "item_id": self.payload.get("item_id"),
            "queued_at": self.queued_at.isoformat().replace("+00:00", "Z"),
            "status": self.status,
            "error": self.error,
        }


class WebhookDispatcher:
    """Delivers webhooks from one background thread, in order, recording every attempt."""

    def __init__(self, signer: WebhookSigner, timeout_s: float = 5.0):
        self.signer = signer
        self.timeout_s = timeout_s
        self.deliveries: list[Delivery] = []
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def send(self, url: str, payload: dict) -> Delivery:
        body = json.dumps(payload, indent=2).encode()
        delivery = Delivery(url, payload, body, self.signer.sign(body), datetime.now(UTC))
        with self._lock:
            self.deliveries.append(delivery)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="sandbox-webhooks", daemon=True
                )
                self._thread.start()
        self._queue.put(delivery)
        return delivery

    def _run(self) -> None:
        while (delivery := self._queue.get()) is not None:
            try:
                response = requests.post(
                    delivery.url,
                    data=delivery.body,
                    headers={
                        "Content-Type": "application/json",
                        "Plaid-Verification": delivery.signature,
                    },
                    timeout=self.timeout_s,
                )
                delivery.status = response.status_code
            except requests.RequestException as exc:
                delivery.error = type(exc).__name__
                log.warning("webhook delivery to %s failed: %s", delivery.url, type(exc).__name__)
            finally:
                delivery.done.set()

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout_s
        for delivery in list(self.deliveries):
            if not delivery.done.wait(max(0.0, deadline - time.monotonic())):
                return False
        return True

    def close(self) -> None:
        with self._lock:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join(timeout=self.timeout_s + 1)
                self._thread = None


# (webhook_type, webhook_code) pairs /sandbox/item/fire_webhook accepts.
FIREABLE = {
    "TRANSACTIONS": (
        "SYNC_UPDATES_AVAILABLE",
        "DEFAULT_UPDATE",
        "INITIAL_UPDATE",
        "HISTORICAL_UPDATE",
        "TRANSACTIONS_REMOVED",
        "RECURRING_TRANSACTIONS_UPDATE",
    ),
    "HOLDINGS": ("DEFAULT_UPDATE",),
    "INVESTMENTS_TRANSACTIONS": ("DEFAULT_UPDATE", "HISTORICAL_UPDATE"),
    "ITEM": (
        "ERROR",
        "LOGIN_REPAIRED",
        "NEW_ACCOUNTS_AVAILABLE",
        "PENDING_EXPIRATION",
        "PENDING_DISCONNECT",
        "USER_PERMISSION_REVOKED",
        "WEBHOOK_UPDATE_ACKNOWLEDGED",
    ),
}


def resolve_webhook_type(webhook_code: str, webhook_type: str | None) -> str:
    if webhook_type is not None:
        if webhook_code not in FIREABLE.get(webhook_type, ()):
            raise ValueError(f"webhook_code {webhook_code} is not supported for {webhook_type}")
        return webhook_type
    for candidate in ("TRANSACTIONS", "ITEM", "HOLDINGS", "INVESTMENTS_TRANSACTIONS"):
        if webhook_code in FIREABLE[candidate]:
            return candidate
    raise ValueError(f"webhook_code {webhook_code} is not supported")


def payload(webhook_type: str, webhook_code: str, item_id: str, **fields) -> dict:
    """A webhook body with Plaid's common keys; ``fields`` adds the code-specific ones."""
    return {
        "webhook_type": webhook_type,
        "webhook_code": webhook_code,
        "item_id": item_id,
        **fields,
        "environment": "sandbox",
    }
