"""Typed errors of the field-encryption layer.

They are plain exceptions (no nameko import) so the crypto package stays importable anywhere;
``common.errors`` may map them to domain errors at the RPC edge. Messages name the table,
column and row at most, never a key, a token or a plaintext.
"""

from __future__ import annotations


class CryptoError(Exception):
    """Base class of every error raised by ``common.crypto``."""


class DecryptionError(CryptoError):
    """A token did not decrypt: wrong cell, tampered bytes, wrong or unknown key.

    Treat it as an integrity alert (someone moved or altered ciphertext), not as a server bug.
    """


class MalformedTokenError(DecryptionError):
    """The stored value is not a well-formed ``ne1`` token (a special case of tampering)."""


class KeyProviderError(CryptoError):
    """The key provider refused or failed an operation (permissions, misconfiguration)."""


class KeyProviderUnavailable(KeyProviderError):
    """The key provider could not be reached in time. Callers must fail closed."""


class KeyringError(KeyProviderError):
    """The local keyring file is unreadable, corrupt or has unsafe permissions."""
