"""The default key provider: a keyring file at ``$NESTEGG_STATE_DIR/keyring.json`` (0600).

KEK versions are random 256-bit keys. A DEK is wrapped with AES-256-GCM under the current KEK
with a fresh 96-bit nonce and the associated data ``ne1|kek|local|v<N>``, so a wrapped DEK
only opens under the version its token names. Suited to development and single-host setups:
whoever can read the file holds every key (see docs/encryption.md, threat model).
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from common.crypto import keyring_file
from common.crypto.errors import DecryptionError, KeyringError
from common.crypto.providers.base import DEK_BYTES, KeyProvider, ProviderStatus, check_dek
from common.crypto.token import NONCE_BYTES, WrappedKey

KEYRING_FORMAT = "nestegg-keyring/1"
KEYRING_FILENAME = "keyring.json"
KEK_BYTES = 32


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError) as exc:
        raise KeyringError(f"keyring entry {what} is not base64") from exc


def new_keyring() -> dict[str, Any]:
    return {
        "format": KEYRING_FORMAT,
        "kek": {
            "current": 1,
            "versions": {"1": {"key": _b64(os.urandom(KEK_BYTES)), "created_at": _now()}},
        },
        "secrets": {},
    }


def _kek_aad(version: int) -> bytes:
    return f"ne1|kek|local|v{version}".encode("ascii")


class _Keyring:
    """A validated, decoded view of the keyring JSON."""

    def __init__(self, data: dict[str, Any]) -> None:
        if data.get("format") != KEYRING_FORMAT:
            raise KeyringError(f"keyring format must be {KEYRING_FORMAT!r}")
        try:
            kek = data["kek"]
            self.current = int(kek["current"])
            self.keks = {
                int(v): _unb64(entry["key"], f"kek v{v}") for v, entry in kek["versions"].items()
            }
            self.secrets = {
                name: _unb64(entry["value"], f"secret {name}")
                for name, entry in data.get("secrets", {}).items()
            }
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, KeyringError):
                raise
            raise KeyringError("keyring file is missing required fields") from exc
        if self.current not in self.keks:
            raise KeyringError(f"keyring current KEK version {self.current} is missing")
        if any(len(key) != KEK_BYTES for key in self.keks.values()):
            raise KeyringError("every keyring KEK must be 32 bytes")


class LocalKeyProvider(KeyProvider):
    name = "local"

    def __init__(self, state_dir: str | os.PathLike[str]) -> None:
        super().__init__()
        self.path = Path(state_dir) / KEYRING_FILENAME
        self._lock = threading.Lock()
        data = keyring_file.load_or_create(self.path, new_keyring)
        self._keyring = _Keyring(data)
        self._signature = keyring_file.file_signature(self.path)

    # --- keyring state ----------------------------------------------------------------------
    def _refresh(self) -> _Keyring:
        """Reload if another process rotated or added a secret since we last read."""
        signature = keyring_file.file_signature(self.path)
        with self._lock:
            if signature is not None and signature != self._signature:
                self._keyring = _Keyring(keyring_file.read_json(self.path))
                self._signature = signature
            elif signature is None:
                raise KeyringError(f"keyring {self.path} disappeared")
            return self._keyring

    def _update(self, mutate: Callable[[dict[str, Any]], Any]) -> Any:
        data, result = keyring_file.update(self.path, mutate)
        with self._lock:
            self._keyring = _Keyring(data)
            self._signature = keyring_file.file_signature(self.path)
        return result

    # --- KEK operations -----------------------------------------------------------------------
    def current_version(self) -> int:
        return self._refresh().current

    def wrap(self, dek: bytes) -> WrappedKey:
        check_dek(dek)
        keyring = self._refresh()
        return self._wrap_with(keyring, keyring.current, dek)

    @staticmethod
    def _wrap_with(keyring: _Keyring, version: int, dek: bytes) -> WrappedKey:
        nonce = os.urandom(NONCE_BYTES)
        blob = nonce + AESGCM(keyring.keks[version]).encrypt(nonce, dek, _kek_aad(version))
        return WrappedKey(provider=LocalKeyProvider.name, version=version, blob=blob)

    def unwrap(self, wrapped: WrappedKey) -> bytes:
        if wrapped.provider != self.name:
            raise DecryptionError(
                f"key wrapped by provider {wrapped.provider!r}, this provider is 'local'"
            )
        keyring = self._keyring
        if wrapped.version not in keyring.keks:
            keyring = self._refresh()
        key = keyring.keks.get(wrapped.version)
        if key is None:
            raise DecryptionError(f"unknown local KEK version {wrapped.version}")
        blob = wrapped.blob
        if len(blob) != NONCE_BYTES + DEK_BYTES + 16:
            raise DecryptionError("wrapped DEK has the wrong length")
        try:
            dek = AESGCM(key).decrypt(
                blob[:NONCE_BYTES], blob[NONCE_BYTES:], _kek_aad(wrapped.version)
            )
        except InvalidTag:
            raise DecryptionError("wrapped DEK failed authentication") from None
        return dek

    def rewrap(self, wrapped: WrappedKey) -> WrappedKey:
        dek = self.unwrap(wrapped)
        keyring = self._refresh()
        if wrapped.version == keyring.current:
            return wrapped
        return self._wrap_with(keyring, keyring.current, dek)

    def rotate(self) -> int:
        def add_version(data: dict[str, Any]) -> int:
            versions = data["kek"]["versions"]
            new = max(int(v) for v in versions) + 1
            versions[str(new)] = {"key": _b64(os.urandom(KEK_BYTES)), "created_at": _now()}
            data["kek"]["current"] = new
            return new

        return self._update(add_version)

    def status(self) -> ProviderStatus:
        keyring = self._refresh()
        return ProviderStatus(
            provider=self.name,
            current_version=keyring.current,
            min_decryption_version=min(keyring.keks),
            details={"keyring": str(self.path), "versions": sorted(keyring.keks)},
        )

    # --- named secrets ------------------------------------------------------------------------
    def _get_or_create_secret(self, name: str, generate: Callable[[], bytes]) -> bytes:
        existing = self._refresh().secrets.get(name)
        if existing is not None:
            return existing

        def add_secret(data: dict[str, Any]) -> bytes:
            entry = data.setdefault("secrets", {}).get(name)
            if entry is not None:  # another process created it first
                return _unb64(entry["value"], f"secret {name}")
            value = generate()
            data["secrets"][name] = {"value": _b64(value), "created_at": _now()}
            return value

        return self._update(add_secret)
