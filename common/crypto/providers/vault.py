"""Key provider backed by HashiCorp Vault / OpenBao Transit (KEK) and KV v2 (named secrets).

* KEK = transit key ``nestegg-kek`` of type ``aes256-gcm96``, ``exportable=false``,
  ``deletion_allowed=false``; it never leaves the server.
* wrap = ``transit/encrypt`` of the DEK, unwrap = ``transit/decrypt``, rotate =
  ``transit/keys/<kek>/rotate``, rewrap = ``transit/rewrap`` (never returns plaintext).
  The server's ciphertext ``vault:v<N>:...`` names the KEK version; it must equal the version in
  the token, so the token header is bound to the key that wrapped the DEK.
* Named secrets (pepper, blind-index keys, JWT key) live in KV v2 under ``<kv_mount>/<prefix>/``
  and are created with check-and-set 0, so two processes racing create one value.
* Every call has a timeout. Unreachable, sealed or failing servers raise
  ``KeyProviderUnavailable``: callers fail closed and write nothing.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import hvac
import hvac.exceptions as hvac_errors
import requests

from common.crypto.errors import DecryptionError, KeyProviderError, KeyProviderUnavailable
from common.crypto.providers.base import DEK_BYTES, KeyProvider, ProviderStatus, check_dek
from common.crypto.token import WrappedKey

T = TypeVar("T")
KEK_TYPE = "aes256-gcm96"
_CIPHERTEXT_RE = re.compile(r"vault:v([1-9][0-9]{0,8}):[A-Za-z0-9+/=]+")
_UNAVAILABLE = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    hvac_errors.VaultDown,
    hvac_errors.InternalServerError,
    hvac_errors.BadGateway,
    hvac_errors.RateLimitExceeded,
    hvac_errors.VaultNotInitialized,
)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class VaultKeyProvider(KeyProvider):
    name = "vault"

    def __init__(
        self,
        addr: str,
        *,
        token: str | None = None,
        role_id: str | None = None,
        secret_id: str | None = None,
        transit_mount: str = "transit",
        kv_mount: str = "secret",
        kv_prefix: str = "nestegg",
        key_name: str = "nestegg-kek",
        approle_mount: str = "approle",
        timeout: float = 5.0,
        verify: bool | str = True,
    ) -> None:
        super().__init__()
        if not addr:
            raise ValueError("Vault address is required (NESTEGG_VAULT_ADDR)")
        if not token and not (role_id and secret_id):
            raise ValueError(
                "Vault needs NESTEGG_VAULT_TOKEN, or NESTEGG_VAULT_ROLE_ID and "
                "NESTEGG_VAULT_SECRET_ID for AppRole"
            )
        if not timeout or timeout <= 0:
            raise ValueError(f"Vault timeout must be a positive number of seconds: {timeout!r}")
        self.addr = addr
        self.transit_mount = transit_mount
        self.kv_mount = kv_mount
        self.kv_prefix = kv_prefix.strip("/")
        self.key_name = key_name
        self._approle = (role_id, secret_id, approle_mount) if role_id and secret_id else None
        self._client = hvac.Client(url=addr, token=token, timeout=timeout, verify=verify)
        if self._approle:
            # hvac falls back to $VAULT_TOKEN / ~/.vault-token; with AppRole we log in instead.
            self._client.token = None
        self._ready = False
        self._ready_lock = threading.Lock()

    def __repr__(self) -> str:  # never show the token
        return f"VaultKeyProvider(addr={self.addr!r}, key={self.key_name!r})"

    # --- plumbing -----------------------------------------------------------------------------
    def _login(self) -> None:
        if self._approle is None:
            raise KeyProviderError("no Vault token and no AppRole credentials")
        role_id, secret_id, mount = self._approle
        self._client.auth.approle.login(role_id=role_id, secret_id=secret_id, mount_point=mount)

    def _call(self, what: str, fn: Callable[[], T], *, relogged: bool = False) -> T:
        try:
            if self._approle and not self._client.token:
                self._login()
            return fn()
        except _UNAVAILABLE as exc:
            raise KeyProviderUnavailable(f"Vault at {self.addr} unavailable during {what}") from exc
        except (hvac_errors.Forbidden, hvac_errors.Unauthorized) as exc:
            if self._approle and not relogged:  # token expired: log in again once
                self._client.token = None
                return self._call(what, fn, relogged=True)
            raise KeyProviderError(f"Vault denied {what} (check the token's policy)") from exc
        except requests.exceptions.RequestException as exc:
            raise KeyProviderUnavailable(f"Vault request for {what} failed") from exc

    def _read_key_or_create(self) -> dict[str, Any]:
        transit = self._client.secrets.transit
        mount = self.transit_mount

        def read_or_create() -> dict[str, Any]:
            try:
                return transit.read_key(self.key_name, mount_point=mount)["data"]
            except hvac_errors.InvalidPath:
                transit.create_key(
                    self.key_name,
                    key_type=KEK_TYPE,
                    exportable=False,
                    allow_plaintext_backup=False,
                    mount_point=mount,
                )
                transit.update_key_configuration(
                    self.key_name, deletion_allowed=False, mount_point=mount
                )
                return transit.read_key(self.key_name, mount_point=mount)["data"]

        data = self._call("read KEK", read_or_create)
        self._check_key_settings(data)
        return data

    def _check_key_settings(self, data: dict[str, Any]) -> None:
        if data.get("type") != KEK_TYPE:
            raise KeyProviderError(f"transit key {self.key_name} must be {KEK_TYPE}")
        if data.get("exportable") or data.get("allow_plaintext_backup"):
            raise KeyProviderError(f"transit key {self.key_name} must not be exportable")
        if data.get("deletion_allowed"):
            raise KeyProviderError(f"transit key {self.key_name} must not allow deletion")

    def _parse_ciphertext(self, ciphertext: str) -> WrappedKey:
        match = _CIPHERTEXT_RE.fullmatch(ciphertext or "")
        if not match:
            raise KeyProviderError("Vault returned an unexpected ciphertext")
        return WrappedKey(provider=self.name, version=int(match.group(1)), blob=ciphertext.encode())

    def _ciphertext_of(self, wrapped: WrappedKey) -> str:
        if wrapped.provider != self.name:
            raise DecryptionError(f"key wrapped by provider {wrapped.provider!r}, this is 'vault'")
        try:
            text = wrapped.blob.decode("ascii")
        except UnicodeDecodeError:
            raise DecryptionError("wrapped DEK is not a Vault ciphertext") from None
        match = _CIPHERTEXT_RE.fullmatch(text)
        if not match or int(match.group(1)) != wrapped.version:
            raise DecryptionError("wrapped DEK does not match the token's KEK version")
        return text

    # --- KEK operations -----------------------------------------------------------------------
    def wrap(self, dek: bytes) -> WrappedKey:
        check_dek(dek)
        if not self._ready:
            self._read_key_or_create_once()
        result = self._call(
            "encrypt",
            lambda: self._client.secrets.transit.encrypt_data(
                self.key_name, plaintext=_b64(dek), mount_point=self.transit_mount
            ),
        )
        return self._parse_ciphertext(result["data"]["ciphertext"])

    def unwrap(self, wrapped: WrappedKey) -> bytes:
        ciphertext = self._ciphertext_of(wrapped)

        def decrypt() -> dict[str, Any]:
            try:
                return self._client.secrets.transit.decrypt_data(
                    self.key_name, ciphertext=ciphertext, mount_point=self.transit_mount
                )
            except hvac_errors.InvalidRequest as exc:  # bad tag, unknown or retired version
                raise DecryptionError("Vault could not decrypt the wrapped DEK") from exc

        result = self._call("decrypt", decrypt)
        try:
            dek = base64.b64decode(result["data"]["plaintext"], validate=True)
        except (binascii.Error, KeyError, TypeError) as exc:
            raise DecryptionError("Vault returned a malformed DEK") from exc
        if len(dek) != DEK_BYTES:
            raise DecryptionError("wrapped DEK has the wrong length")
        return dek

    def rewrap(self, wrapped: WrappedKey) -> WrappedKey:
        ciphertext = self._ciphertext_of(wrapped)

        def rewrap() -> dict[str, Any]:
            try:
                return self._client.secrets.transit.rewrap_data(
                    self.key_name, ciphertext=ciphertext, mount_point=self.transit_mount
                )
            except hvac_errors.InvalidRequest as exc:
                raise DecryptionError("Vault could not rewrap the wrapped DEK") from exc

        result = self._call("rewrap", rewrap)
        return self._parse_ciphertext(result["data"]["ciphertext"])

    def rotate(self) -> int:
        self._read_key_or_create_once()
        self._call(
            "rotate",
            lambda: self._client.secrets.transit.rotate_key(
                self.key_name, mount_point=self.transit_mount
            ),
        )
        return self.current_version()

    def current_version(self) -> int:
        return int(self._read_key_or_create()["latest_version"])

    def status(self) -> ProviderStatus:
        data = self._read_key_or_create()
        return ProviderStatus(
            provider=self.name,
            current_version=int(data["latest_version"]),
            min_decryption_version=int(data["min_decryption_version"]),
            details={
                "addr": self.addr,
                "transit_mount": self.transit_mount,
                "key": self.key_name,
                "type": data.get("type"),
                "exportable": data.get("exportable"),
                "deletion_allowed": data.get("deletion_allowed"),
                "versions": sorted(int(v) for v in data.get("keys", {})),
            },
        )

    def _read_key_or_create_once(self) -> None:
        if self._ready:
            return
        with self._ready_lock:
            if not self._ready:
                try:
                    self._read_key_or_create()
                except KeyProviderError as exc:
                    # A least-privilege service token may not read key metadata: the operator
                    # created the key; encrypt/decrypt still work.
                    if not isinstance(exc.__cause__, hvac_errors.Forbidden):
                        raise
                self._ready = True

    # --- named secrets ------------------------------------------------------------------------
    def _get_or_create_secret(self, name: str, generate: Callable[[], bytes]) -> bytes:
        kv = self._client.secrets.kv.v2
        path = f"{self.kv_prefix}/{name}"

        def read() -> bytes | None:
            try:
                response = kv.read_secret_version(
                    path=path, mount_point=self.kv_mount, raise_on_deleted_version=True
                )
            except hvac_errors.InvalidPath:
                return None
            return base64.b64decode(response["data"]["data"]["value"], validate=True)

        def read_or_create() -> bytes:
            existing = read()
            if existing is not None:
                return existing
            value = generate()
            try:
                kv.create_or_update_secret(
                    path=path, secret={"value": _b64(value)}, cas=0, mount_point=self.kv_mount
                )
            except hvac_errors.InvalidRequest:  # check-and-set lost: someone created it first
                existing = read()
                if existing is None:
                    raise
                return existing
            return value

        return self._call(f"secret {name}", read_or_create)
