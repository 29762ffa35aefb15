"""The stored form of an encrypted field: one self-describing ASCII token.

    ne1.<provider>.<kek_version>.<b64url wrapped DEK>.<b64url nonce || ciphertext+tag>

* ``ne1`` names this format; a future format gets a new prefix and both can be read.
* ``provider`` (``local`` or ``vault``) and ``kek_version`` say which KEK wrapped the DEK.
  The version is authenticated by the wrapping itself (see ``providers``), so editing it
  makes the token undecryptable.
* The wrapped-DEK part can be replaced by a rewrapped one (new KEK version) without touching
  the data part, which is encrypted under the DEK with the cell's associated data.

Base64 is URL-safe without padding and must be canonical: a value that decodes but does not
re-encode to the same text is rejected, so no character of a token can change silently.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from common.crypto.errors import MalformedTokenError

FORMAT_PREFIX = "ne1"
NONCE_BYTES = 12
TAG_BYTES = 16

_PROVIDER_RE = re.compile(r"[a-z][a-z0-9]{0,15}")
_VERSION_RE = re.compile(r"[1-9][0-9]{0,8}")
_B64_RE = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class WrappedKey:
    """A DEK encrypted under KEK ``version`` of a provider; ``blob`` is provider-specific."""

    provider: str
    version: int
    blob: bytes


@dataclass(frozen=True)
class FieldToken:
    wrapped: WrappedKey
    nonce: bytes
    ciphertext: bytes  # ciphertext followed by the 16-byte GCM tag

    def encode(self) -> str:
        check_provider_name(self.wrapped.provider)
        check_version(self.wrapped.version)
        return ".".join(
            (
                FORMAT_PREFIX,
                self.wrapped.provider,
                str(self.wrapped.version),
                b64encode(self.wrapped.blob),
                b64encode(self.nonce + self.ciphertext),
            )
        )


def check_provider_name(name: str) -> str:
    if not isinstance(name, str) or not _PROVIDER_RE.fullmatch(name):
        raise ValueError(f"provider name must be 1-16 lowercase letters/digits, got {name!r}")
    return name


def check_version(version: int) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version < 10**9:
        raise ValueError(f"KEK version must be an integer from 1, got {version!r}")
    return version


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str, what: str) -> bytes:
    """Strict, canonical URL-safe base64 without padding."""
    if not _B64_RE.fullmatch(text) or len(text) % 4 == 1:
        raise MalformedTokenError(f"token {what} is not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise MalformedTokenError(f"token {what} is not base64url") from exc
    if b64encode(data) != text:
        raise MalformedTokenError(f"token {what} is not canonical base64url")
    return data


def parse_token(token: str) -> FieldToken:
    """Split and validate a token's structure; says nothing yet about its authenticity."""
    if not isinstance(token, str):
        raise MalformedTokenError(f"token must be a str, got {type(token).__name__}")
    parts = token.split(".")
    if len(parts) != 5:
        raise MalformedTokenError("token must have 5 dot-separated parts")
    prefix, provider, version, wrapped_b64, data_b64 = parts
    if prefix != FORMAT_PREFIX:
        raise MalformedTokenError("unsupported token format")
    if not _PROVIDER_RE.fullmatch(provider):
        raise MalformedTokenError("token provider name is invalid")
    if not _VERSION_RE.fullmatch(version):
        raise MalformedTokenError("token KEK version is invalid")
    blob = b64decode(wrapped_b64, "wrapped key")
    data = b64decode(data_b64, "data")
    if len(data) < NONCE_BYTES + TAG_BYTES:
        raise MalformedTokenError("token data part is too short")
    return FieldToken(
        wrapped=WrappedKey(provider=provider, version=int(version), blob=blob),
        nonce=data[:NONCE_BYTES],
        ciphertext=data[NONCE_BYTES:],
    )


def token_prefix(provider: str, version: int) -> str:
    """The text every token wrapped under ``provider`` KEK ``version`` starts with."""
    return f"{FORMAT_PREFIX}.{check_provider_name(provider)}.{check_version(version)}."


def replace_wrapped_key(token: str, wrapped: WrappedKey) -> str:
    """Swap the wrapped-DEK part of ``token``; the data part is copied byte for byte."""
    parse_token(token)
    data_part = token.rsplit(".", 1)[1]
    check_provider_name(wrapped.provider)
    check_version(wrapped.version)
    return ".".join(
        (FORMAT_PREFIX, wrapped.provider, str(wrapped.version), b64encode(wrapped.blob), data_part)
    )
