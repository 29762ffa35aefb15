import uuid

import pytest

from common.crypto import (
    CipherContext,
    DecryptionError,
    FieldCipher,
    LocalKeyProvider,
    MalformedTokenError,
)
from common.crypto.token import NONCE_BYTES, parse_token

EMAIL = "alice@example.com"


def test_roundtrip_text_and_bytes(cipher, ctx):
    for value in (EMAIL, "", "Zoë 💶 1 234,56 €", "x" * 10_000):
        assert cipher.decrypt(cipher.encrypt(value, ctx=ctx), ctx=ctx) == value
    blob = bytes(range(256))
    assert cipher.decrypt_bytes(cipher.encrypt_bytes(blob, ctx=ctx), ctx=ctx) == blob


def test_token_is_one_self_describing_ascii_string(cipher, ctx):
    token = cipher.encrypt(EMAIL, ctx=ctx)
    assert token.isascii() and " " not in token
    prefix, provider, version, wrapped, data = token.split(".")
    assert (prefix, provider, version) == ("ne1", "local", "1")
    assert EMAIL not in token and "alice" not in token
    parsed = parse_token(token)
    assert len(parsed.nonce) == NONCE_BYTES
    assert len(parsed.ciphertext) == len(EMAIL.encode()) + 16


def test_same_value_encrypts_differently_each_time(cipher, ctx):
    a, b = cipher.encrypt(EMAIL, ctx=ctx), cipher.encrypt(EMAIL, ctx=ctx)
    assert a != b
    assert a.split(".")[3] != b.split(".")[3]  # fresh DEK, wrapped with a fresh nonce
    assert parse_token(a).nonce != parse_token(b).nonce


def test_ciphertext_copied_to_another_row_fails(cipher, ctx):
    token = cipher.encrypt(EMAIL, ctx=ctx)
    other_row = CipherContext(table="users", column="email", row_id=str(uuid.uuid4()))
    with pytest.raises(DecryptionError) as err:
        cipher.decrypt(token, ctx=other_row)
    assert other_row.row_id in str(err.value)
    assert EMAIL not in str(err.value) and token not in str(err.value)


def test_ciphertext_copied_to_another_column_or_table_fails(cipher, ctx):
    token = cipher.encrypt(EMAIL, ctx=ctx)
    for other in (
        CipherContext(table="users", column="phone", row_id=ctx.row_id),
        CipherContext(table="contacts", column="email", row_id=ctx.row_id),
    ):
        with pytest.raises(DecryptionError):
            cipher.decrypt(token, ctx=other)
    assert cipher.decrypt(token, ctx=ctx) == EMAIL  # the right cell still works


def _variants(char):
    """Other characters to put at a position: a bit flip and a few alphabet neighbours."""
    candidates = {chr(ord(char) ^ 1), "A", "z", "0", "-", "_", ".", "="}
    candidates.discard(char)
    return sorted(candidates)


def test_a_changed_character_anywhere_in_the_token_fails(cipher, ctx):
    token = cipher.encrypt(EMAIL, ctx=ctx)
    tried = 0
    for i, char in enumerate(token):
        for replacement in _variants(char):
            tampered = token[:i] + replacement + token[i + 1 :]
            with pytest.raises(DecryptionError):
                cipher.decrypt(tampered, ctx=ctx)
            tried += 1
    assert tried >= 5 * len(token)
    assert cipher.decrypt(token, ctx=ctx) == EMAIL


def test_truncated_extended_or_non_string_tokens_fail(cipher, ctx):
    token = cipher.encrypt(EMAIL, ctx=ctx)
    for bad in (
        token[:-1],
        token + "A",
        token[:-2],
        "",
        "ne1",
        token.replace(".", "", 1),
        None,
        42,
    ):
        with pytest.raises(DecryptionError):
            cipher.decrypt(bad, ctx=ctx)
    with pytest.raises(MalformedTokenError):
        cipher.decrypt("ne2" + token[3:], ctx=ctx)


def test_token_header_version_is_bound_to_the_wrapping_key(provider, cipher, ctx):
    token = cipher.encrypt(EMAIL, ctx=ctx)
    provider.rotate()
    claims_v2 = token.replace("ne1.local.1.", "ne1.local.2.", 1)
    with pytest.raises(DecryptionError):
        cipher.decrypt(claims_v2, ctx=ctx)
    with pytest.raises(DecryptionError):  # unknown version
        cipher.decrypt(token.replace("ne1.local.1.", "ne1.local.9.", 1), ctx=ctx)
    with pytest.raises(DecryptionError):  # other provider
        cipher.decrypt(token.replace("ne1.local.", "ne1.vault.", 1), ctx=ctx)


def test_swapping_parts_between_tokens_fails(cipher, ctx):
    a = cipher.encrypt(EMAIL, ctx=ctx).split(".")
    b = cipher.encrypt(EMAIL, ctx=ctx).split(".")
    mixed = ".".join(a[:4] + b[4:])
    with pytest.raises(DecryptionError):
        cipher.decrypt(mixed, ctx=ctx)


def test_a_token_from_another_keyring_fails(tmp_path, cipher, ctx):
    stranger = FieldCipher(LocalKeyProvider(tmp_path / "other"))
    with pytest.raises(DecryptionError):
        cipher.decrypt(stranger.encrypt(EMAIL, ctx=ctx), ctx=ctx)


def test_ten_thousand_encryptions_use_ten_thousand_distinct_nonces(cipher, ctx):
    data_nonces, wrap_nonces = set(), set()
    for _ in range(10_000):
        parsed = parse_token(cipher.encrypt_bytes(b"v", ctx=ctx))
        assert len(parsed.nonce) == 12
        data_nonces.add(parsed.nonce)
        wrap_nonces.add(parsed.wrapped.blob[:12])  # the local KEK wraps with its own nonces
    assert len(data_nonces) == 10_000
    assert len(wrap_nonces) == 10_000


def test_uuid_row_ids_are_canonicalised(cipher):
    row = uuid.uuid4()
    upper = CipherContext(table="users", column="email", row_id=str(row).upper())
    token = cipher.encrypt(EMAIL, ctx=upper)
    for same in (row, str(row), row.hex):
        assert cipher.decrypt(token, ctx=CipherContext("users", "email", same)) == EMAIL


def test_bytes_stored_value_read_as_text_is_an_error(cipher, ctx):
    token = cipher.encrypt_bytes(b"\xff\xfe\x00", ctx=ctx)
    with pytest.raises(DecryptionError, match="decrypt_bytes"):
        cipher.decrypt(token, ctx=ctx)


@pytest.mark.parametrize(
    "table,column,row_id",
    [
        ("users;drop", "email", "1"),
        ("users", "e-mail", "1"),
        ("users", "email", ""),
        ("users", "email", "a|b"),
        ("users", "email", "x" * 129),
        ("", "email", "1"),
        ("users", "email", None),
        ("users", "email", True),
    ],
)
def test_bad_contexts_are_rejected_clearly(table, column, row_id):
    with pytest.raises(ValueError, match="table|column|row_id"):
        CipherContext(table=table, column=column, row_id=row_id)


def test_schema_qualified_tables_and_int_keys_are_accepted():
    ctx = CipherContext(table="public.users", column="email", row_id=42)
    assert ctx.row_id == "42"
    assert ctx.associated_data() == b"ne1|public.users|email|42"


def test_wrong_argument_types_raise(cipher, ctx):
    with pytest.raises(TypeError):
        cipher.encrypt(b"bytes", ctx=ctx)
    with pytest.raises(TypeError):
        cipher.encrypt_bytes("text", ctx=ctx)
    with pytest.raises(TypeError):
        cipher.encrypt(EMAIL, ctx=("users", "email", "1"))
    with pytest.raises(TypeError):
        FieldCipher(object())
