import pytest

from common.crypto import MalformedTokenError
from common.crypto.token import (
    FieldToken,
    WrappedKey,
    b64decode,
    b64encode,
    parse_token,
    replace_wrapped_key,
    token_prefix,
)


def _token(version=1, provider="local"):
    return FieldToken(
        wrapped=WrappedKey(provider=provider, version=version, blob=b"w" * 60),
        nonce=b"n" * 12,
        ciphertext=b"c" * 20,
    ).encode()


def test_encode_parse_roundtrip():
    token = _token(version=12)
    parsed = parse_token(token)
    assert token.startswith("ne1.local.12.")
    assert parsed.wrapped == WrappedKey("local", 12, b"w" * 60)
    assert (parsed.nonce, parsed.ciphertext) == (b"n" * 12, b"c" * 20)


def test_replace_wrapped_key_copies_the_data_part_verbatim():
    token = _token()
    new = replace_wrapped_key(token, WrappedKey("local", 2, b"x" * 60))
    assert new.split(".")[4] == token.split(".")[4]
    assert parse_token(new).wrapped == WrappedKey("local", 2, b"x" * 60)


@pytest.mark.parametrize(
    "bad",
    [
        "ne1.local.01.AAAA.AAAA",  # non-canonical version
        "ne1.local.0.AAAA.AAAA",
        "ne1.Local.1.AAAA.AAAA",
        "ne1.local.1.AA==.AAAA",  # padding is not part of the format
        "ne1.local.1.A.AAAA",
        "ne1.local.1.AAAA.AAAA",  # data part shorter than nonce + tag
        "ne1.local.1.AAAA",
        "ne1.local.1.AAAA.AAAA.AAAA",
    ],
)
def test_malformed_tokens_are_rejected(bad):
    with pytest.raises(MalformedTokenError):
        parse_token(bad)


def test_non_canonical_base64_is_rejected():
    text = b64encode(b"\x00\x01")  # 3 chars, the last carries 2 unused bits
    assert b64decode(text, "x") == b"\x00\x01"
    sneaky = text[:-1] + chr(ord(text[-1]) + 1)  # same bytes if the unused bits were ignored
    with pytest.raises(MalformedTokenError, match="canonical"):
        b64decode(sneaky, "x")


@pytest.mark.parametrize("version", [0, -1, 10**9, True, "1", 1.0])
def test_bad_versions_are_rejected_when_encoding(version):
    with pytest.raises(ValueError, match="version"):
        token_prefix("local", version)


def test_bad_provider_names_are_rejected_when_encoding():
    with pytest.raises(ValueError, match="provider"):
        _token(provider="Local.x")
