"""The Vault provider fails closed without a server: no network server is needed here."""

import socket
import uuid

import pytest

from common.crypto import (
    CipherContext,
    DecryptionError,
    FieldCipher,
    KeyProviderUnavailable,
    VaultKeyProvider,
)
from common.crypto.token import WrappedKey


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def silent_server():
    """A socket that accepts connections (backlog) and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()


def _ctx():
    return CipherContext("users", "email", str(uuid.uuid4()))


def test_nothing_listening_raises_unavailable():
    provider = VaultKeyProvider(f"http://127.0.0.1:{_free_port()}", token="t", timeout=1)
    with pytest.raises(KeyProviderUnavailable, match="unavailable"):
        FieldCipher(provider).encrypt("alice@example.com", ctx=_ctx())
    with pytest.raises(KeyProviderUnavailable):
        provider.unwrap(WrappedKey("vault", 1, b"vault:v1:AAAA"))
    with pytest.raises(KeyProviderUnavailable):
        provider.password_pepper()
    with pytest.raises(KeyProviderUnavailable):
        provider.rotate()


def test_a_server_that_never_answers_times_out_as_unavailable(silent_server):
    provider = VaultKeyProvider(silent_server, token="t", timeout=0.3)
    with pytest.raises(KeyProviderUnavailable) as err:
        FieldCipher(provider).encrypt("alice@example.com", ctx=_ctx())
    assert "Timeout" in type(err.value.__cause__).__name__


def test_wrapped_key_must_match_the_token_version_before_any_call():
    provider = VaultKeyProvider(f"http://127.0.0.1:{_free_port()}", token="t", timeout=1)
    for bad in (
        WrappedKey("vault", 2, b"vault:v1:AAAA"),
        WrappedKey("vault", 1, b"vault:v1:"),
        WrappedKey("vault", 1, b"\xff"),
        WrappedKey("local", 1, b"vault:v1:AAAA"),
    ):
        with pytest.raises(DecryptionError):
            provider.unwrap(bad)
        with pytest.raises(DecryptionError):
            provider.rewrap(bad)
