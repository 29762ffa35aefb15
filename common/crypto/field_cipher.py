"""The API services use to encrypt one field value for one database cell.

    cipher = FieldCipher(get_key_provider())
    ctx = CipherContext(table="users", column="email", row_id=user_id)
    token = cipher.encrypt("alice@example.com", ctx=ctx)       # store the token
    cipher.decrypt(token, ctx=ctx)                              # -> "alice@example.com"
    cipher.blind_index("users.email", "Alice@Example.com ")    # indexed lookup column

Every call makes a fresh 256-bit DEK and a fresh 96-bit nonce, encrypts with AES-256-GCM under
the cell's associated data, and has the provider wrap the DEK. Any failure to decrypt raises
``DecryptionError``; a provider outage raises ``KeyProviderUnavailable`` before anything can
be written.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from common.crypto.blind_index import blind_index as _blind_index
from common.crypto.blind_index import index_matches
from common.crypto.context import CipherContext
from common.crypto.errors import DecryptionError
from common.crypto.providers.base import DEK_BYTES, KeyProvider
from common.crypto.token import (
    NONCE_BYTES,
    FieldToken,
    parse_token,
    replace_wrapped_key,
    token_prefix,
)


class FieldCipher:
    def __init__(self, provider: KeyProvider) -> None:
        if not isinstance(provider, KeyProvider):
            raise TypeError("FieldCipher needs a KeyProvider")
        self.provider = provider

    # --- encryption -----------------------------------------------------------------------
    def encrypt(self, value: str, *, ctx: CipherContext) -> str:
        if not isinstance(value, str):
            raise TypeError(f"encrypt() takes a str, got {type(value).__name__}; use encrypt_bytes")
        return self.encrypt_bytes(value.encode("utf-8"), ctx=ctx)

    def encrypt_bytes(self, data: bytes, *, ctx: CipherContext) -> str:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"encrypt_bytes() takes bytes, got {type(data).__name__}")
        if not isinstance(ctx, CipherContext):
            raise TypeError("ctx must be a CipherContext")
        dek = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = AESGCM(dek).encrypt(nonce, bytes(data), ctx.associated_data())
        wrapped = self.provider.wrap(dek)
        return FieldToken(wrapped=wrapped, nonce=nonce, ciphertext=ciphertext).encode()

    # --- decryption -----------------------------------------------------------------------
    def decrypt(self, token: str, *, ctx: CipherContext) -> str:
        data = self.decrypt_bytes(token, ctx=ctx)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptionError(
                f"{_where(ctx)} holds bytes, not text; use decrypt_bytes"
            ) from None

    def decrypt_bytes(self, token: str, *, ctx: CipherContext) -> bytes:
        if not isinstance(ctx, CipherContext):
            raise TypeError("ctx must be a CipherContext")
        try:
            parsed = parse_token(token)
            if parsed.wrapped.provider != self.provider.name:
                raise DecryptionError(
                    f"token was wrapped by provider {parsed.wrapped.provider!r}, "
                    f"this cipher uses {self.provider.name!r}"
                )
            dek = self.provider.unwrap(parsed.wrapped)
            if len(dek) != DEK_BYTES:
                raise DecryptionError("unwrapped DEK has the wrong length")
            try:
                return AESGCM(dek).decrypt(parsed.nonce, parsed.ciphertext, ctx.associated_data())
            except InvalidTag:
                raise DecryptionError("ciphertext failed authentication") from None
        except DecryptionError as exc:
            # One message shape for every integrity failure; never the token or the key.
            raise type(exc)(f"cannot decrypt {_where(ctx)}: {exc}") from exc.__cause__

    # --- rotation helpers -----------------------------------------------------------------
    def rewrap(self, token: str) -> str:
        """The same token with its DEK wrapped under the latest KEK; the data part is kept."""
        parsed = parse_token(token)
        if parsed.wrapped.provider != self.provider.name:
            raise DecryptionError(
                f"token was wrapped by provider {parsed.wrapped.provider!r}, "
                f"cannot rewrap with {self.provider.name!r}"
            )
        rewrapped = self.provider.rewrap(parsed.wrapped)
        if rewrapped == parsed.wrapped:
            return token
        return replace_wrapped_key(token, rewrapped)

    def current_prefix(self) -> str:
        """Tokens starting with this text are already wrapped under the latest KEK."""
        return token_prefix(self.provider.name, self.provider.current_version())

    # --- blind index ----------------------------------------------------------------------
    def blind_index(self, purpose: str, value: str) -> str:
        return _blind_index(self.provider.blind_index_key(purpose), value)

    def blind_index_matches(self, purpose: str, value: str, stored: str) -> bool:
        return index_matches(stored, self.blind_index(purpose, value))


def _where(ctx: CipherContext) -> str:
    return f"{ctx.table}.{ctx.column} of row {ctx.row_id}"
