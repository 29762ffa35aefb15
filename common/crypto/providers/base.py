"""The one interface every key provider implements.

A provider holds the key-encryption keys (KEKs, versioned) and named secrets. It never sees
field plaintext: it only wraps and unwraps 32-byte data keys (DEKs).
"""

from __future__ import annotations

import os
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from common.crypto.jwt_keys import SigningKeyPair, generate_es256_private_pem, signing_key_pair
from common.crypto.token import WrappedKey

DEK_BYTES = 32
_SECRET_NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")
_PURPOSE_RE = re.compile(r"[a-z0-9_]+(?:\.[a-z0-9_]+)*")

PEPPER_NAME = "password-pepper"
JWT_KEY_NAME = "jwt-es256-private-key"


@dataclass(frozen=True)
class ProviderStatus:
    provider: str
    current_version: int
    min_decryption_version: int
    details: dict


def check_secret_name(name: str) -> str:
    if not isinstance(name, str) or not _SECRET_NAME_RE.fullmatch(name):
        raise ValueError(
            "secret name must be 1-100 chars of lowercase letters, digits, '.', '_' or '-': "
            f"{name!r}"
        )
    return name


def check_purpose(purpose: str) -> str:
    if not isinstance(purpose, str) or not _PURPOSE_RE.fullmatch(purpose) or len(purpose) > 80:
        raise ValueError(f"blind-index purpose must look like 'table.column': {purpose!r}")
    return purpose


def check_dek(dek: bytes) -> bytes:
    if not isinstance(dek, bytes) or len(dek) != DEK_BYTES:
        raise ValueError(f"a DEK must be {DEK_BYTES} bytes")
    return dek


class KeyProvider(ABC):
    """KEK operations plus named secrets generated on first use and persisted.

    Subclasses implement the abstract methods; secrets are cached in memory once read (they
    are not rotated by this layer).
    """

    name: str

    def __init__(self) -> None:
        self._secret_cache: dict[str, bytes] = {}
        self._secret_lock = threading.Lock()

    # --- KEK operations -------------------------------------------------------------------
    @abstractmethod
    def wrap(self, dek: bytes) -> WrappedKey:
        """Encrypt ``dek`` under the latest KEK version."""

    @abstractmethod
    def unwrap(self, wrapped: WrappedKey) -> bytes:
        """Decrypt a wrapped DEK; raise ``DecryptionError`` if it is not authentic."""

    @abstractmethod
    def rewrap(self, wrapped: WrappedKey) -> WrappedKey:
        """Re-encrypt a wrapped DEK under the latest KEK version without exposing it."""

    @abstractmethod
    def rotate(self) -> int:
        """Add a KEK version, make it the one new wraps use, and return it."""

    @abstractmethod
    def current_version(self) -> int:
        """The KEK version new wraps use."""

    @abstractmethod
    def status(self) -> ProviderStatus:
        """Versions and settings, for ``nestegg keys status``."""

    @abstractmethod
    def _get_or_create_secret(self, name: str, generate: Callable[[], bytes]) -> bytes:
        """Return secret ``name``, creating it with ``generate()`` exactly once, race-safe."""

    # --- named secrets --------------------------------------------------------------------
    def secret(self, name: str, generate: Callable[[], bytes] | None = None) -> bytes:
        """Secret ``name``; 32 random bytes (or ``generate()``) created on first use."""
        check_secret_name(name)
        with self._secret_lock:
            cached = self._secret_cache.get(name)
        if cached is not None:
            return cached
        value = self._get_or_create_secret(name, generate or _random_32)
        if not isinstance(value, bytes) or not value:
            raise ValueError(f"secret {name!r} must be non-empty bytes")
        with self._secret_lock:
            self._secret_cache[name] = value
        return value

    def password_pepper(self) -> bytes:
        return self.secret(PEPPER_NAME)

    def blind_index_key(self, purpose: str) -> bytes:
        """A separate HMAC key per purpose (``"users.email"``), never shared between purposes."""
        return self.secret(f"blind-index.{check_purpose(purpose)}")

    def jwt_signing_key_pair(self) -> SigningKeyPair:
        """The ES256 (P-256) keypair that signs access tokens, generated on first use."""
        return signing_key_pair(self.secret(JWT_KEY_NAME, generate_es256_private_pem))


def _random_32() -> bytes:
    return os.urandom(32)
