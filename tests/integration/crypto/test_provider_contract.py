"""One contract, two providers: the local keyring and a real OpenBao Transit server."""

import os
import threading
import uuid

import hvac
import pytest

from common.crypto import (
    CipherContext,
    DecryptionError,
    FieldCipher,
    KeyProviderError,
    MappingRewrapSource,
    rotate_and_rewrap,
)
from common.crypto.token import parse_token

pytestmark = pytest.mark.integration
EMAIL = "alice@example.com"


def _ctx(column="email", row_id=None):
    return CipherContext("users", column, row_id or str(uuid.uuid4()))


def test_wrap_unwrap_rewrap_rotate(key_provider):
    dek = os.urandom(32)
    wrapped = key_provider.wrap(dek)
    assert (wrapped.provider, wrapped.version) == (key_provider.name, 1)
    assert dek not in wrapped.blob
    assert key_provider.unwrap(wrapped) == dek
    assert key_provider.current_version() == 1
    assert key_provider.rotate() == 2
    assert key_provider.current_version() == 2
    assert key_provider.unwrap(wrapped) == dek  # old version still decrypts
    rewrapped = key_provider.rewrap(wrapped)
    assert rewrapped.version == 2 and rewrapped.blob != wrapped.blob
    assert key_provider.unwrap(rewrapped) == dek
    status = key_provider.status()
    assert (status.provider, status.current_version, status.min_decryption_version) == (
        key_provider.name,
        2,
        1,
    )


def test_roundtrip_and_cell_binding(key_provider):
    cipher = FieldCipher(key_provider)
    ctx = _ctx()
    token = cipher.encrypt(EMAIL, ctx=ctx)
    assert token.startswith(f"ne1.{key_provider.name}.1.")
    assert cipher.decrypt(token, ctx=ctx) == EMAIL
    assert cipher.decrypt_bytes(cipher.encrypt_bytes(b"\x00\xff", ctx=ctx), ctx=ctx) == b"\x00\xff"
    for other in (_ctx(row_id=str(uuid.uuid4())), _ctx(column="phone", row_id=ctx.row_id)):
        with pytest.raises(DecryptionError):
            cipher.decrypt(token, ctx=other)


def test_a_changed_character_anywhere_fails(key_provider):
    cipher = FieldCipher(key_provider)
    ctx = _ctx()
    token = cipher.encrypt(EMAIL, ctx=ctx)
    for i, char in enumerate(token):
        for replacement in {chr(ord(char) ^ 1), "A" if char != "A" else "B"}:
            with pytest.raises(DecryptionError):
                cipher.decrypt(token[:i] + replacement + token[i + 1 :], ctx=ctx)
    assert cipher.decrypt(token, ctx=ctx) == EMAIL


def test_header_version_cannot_be_edited(key_provider):
    cipher = FieldCipher(key_provider)
    ctx = _ctx()
    token = cipher.encrypt(EMAIL, ctx=ctx)
    key_provider.rotate()
    prefix = f"ne1.{key_provider.name}."
    with pytest.raises(DecryptionError):
        cipher.decrypt(token.replace(prefix + "1.", prefix + "2.", 1), ctx=ctx)


def test_distinct_nonces(key_provider):
    cipher = FieldCipher(key_provider)
    ctx = _ctx()
    nonces = {parse_token(cipher.encrypt("v", ctx=ctx)).nonce for _ in range(500)}
    assert len(nonces) == 500


def test_rotate_then_old_tokens_read_then_rewrap_then_read(key_provider):
    cipher = FieldCipher(key_provider)
    rows = {}
    for i in range(20):
        row_id = str(uuid.uuid4())
        rows[row_id] = cipher.encrypt(f"user{i}@example.com", ctx=_ctx(row_id=row_id))
    before = dict(rows)
    key_provider.rotate()
    for row_id, token in rows.items():
        assert cipher.decrypt(token, ctx=_ctx(row_id=row_id)).endswith("@example.com")
    report = rotate_and_rewrap(
        key_provider, [MappingRewrapSource("users.email", rows)], rotate=False, batch_size=6
    )
    assert (report.version, report.rewrapped, report.remaining) == (2, 20, 0)
    for row_id, token in rows.items():
        assert token.startswith(f"ne1.{key_provider.name}.2.")
        assert token.split(".")[4] == before[row_id].split(".")[4]
        assert cipher.decrypt(token, ctx=_ctx(row_id=row_id)) == cipher.decrypt(
            before[row_id], ctx=_ctx(row_id=row_id)
        )


def test_named_secrets_persist_and_are_separate(key_provider, request):
    pepper = key_provider.password_pepper()
    assert len(pepper) == 32
    bidx_email = key_provider.blind_index_key("users.email")
    assert len({pepper, bidx_email, key_provider.blind_index_key("users.phone")}) == 3
    pair = key_provider.jwt_signing_key_pair()
    assert pair.private_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    fresh = _same_provider_new_instance(key_provider, request)
    assert fresh.password_pepper() == pepper
    assert fresh.blind_index_key("users.email") == bidx_email
    assert fresh.jwt_signing_key_pair().kid == pair.kid
    cipher, other = FieldCipher(key_provider), FieldCipher(fresh)
    assert cipher.blind_index("users.email", " Alice@Example.com") == other.blind_index(
        "users.email", EMAIL
    )
    assert cipher.blind_index("users.email", EMAIL) != cipher.blind_index("users.phone", EMAIL)


def test_racing_instances_create_one_secret(key_provider, request):
    instances = [_same_provider_new_instance(key_provider, request) for _ in range(4)]
    results = [None] * 4

    def grab(i):
        results[i] = instances[i].secret("race-test")

    threads = [threading.Thread(target=grab, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results[0] is not None and len(set(results)) == 1


def _same_provider_new_instance(key_provider, request):
    if key_provider.name == "local":
        from common.crypto import LocalKeyProvider

        return LocalKeyProvider(key_provider.path.parent)
    server = request.getfixturevalue("vault_server")
    return server.provider(key_name=key_provider.key_name, kv_prefix=key_provider.kv_prefix)


# --- Vault-only properties ----------------------------------------------------------------


@pytest.mark.vault
def test_vault_kek_is_not_exportable_and_not_deletable(vault_server):
    provider = vault_server.provider(key_name=f"kek-{uuid.uuid4().hex[:8]}")
    FieldCipher(provider).encrypt("x", ctx=_ctx())
    client = vault_server.client()
    data = client.secrets.transit.read_key(provider.key_name)["data"]
    assert data["type"] == "aes256-gcm96"
    assert data["exportable"] is False and data["deletion_allowed"] is False
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.secrets.transit.delete_key(provider.key_name)
    with pytest.raises(hvac.exceptions.VaultError):
        client.secrets.transit.export_key(provider.key_name, key_type="encryption-key")


@pytest.mark.vault
def test_vault_refuses_an_exportable_kek(vault_server):
    name = f"kek-{uuid.uuid4().hex[:8]}"
    vault_server.client().secrets.transit.create_key(name, exportable=True)
    with pytest.raises(KeyProviderError, match="exportable"):
        FieldCipher(vault_server.provider(key_name=name)).encrypt("x", ctx=_ctx())


@pytest.mark.vault
def test_vault_approle_with_least_privilege(vault_server):
    client = vault_server.client()
    suffix = uuid.uuid4().hex[:8]
    key, other_key = f"kek-{suffix}", f"kek-other-{suffix}"
    admin = vault_server.provider(key_name=key)
    admin.wrap(os.urandom(32))  # the operator creates the KEK
    vault_server.provider(key_name=other_key).wrap(os.urandom(32))
    if "approle/" not in client.sys.list_auth_methods()["data"]:
        client.sys.enable_auth_method("approle")
    policy = f"""
path "transit/encrypt/{key}" {{ capabilities = ["update"] }}
path "transit/decrypt/{key}" {{ capabilities = ["update"] }}
path "nestegg-kv/data/svc-{suffix}/*" {{ capabilities = ["create", "read", "update"] }}
"""
    client.sys.create_or_update_policy(name=f"svc-{suffix}", policy=policy)
    client.auth.approle.create_or_update_approle(f"svc-{suffix}", token_policies=[f"svc-{suffix}"])
    role_id = client.auth.approle.read_role_id(f"svc-{suffix}")["data"]["role_id"]
    secret_id = client.auth.approle.generate_secret_id(f"svc-{suffix}")["data"]["secret_id"]

    service = vault_server.provider(
        token=None, role_id=role_id, secret_id=secret_id, key_name=key, kv_prefix=f"svc-{suffix}"
    )
    cipher = FieldCipher(service)
    ctx = _ctx()
    token = cipher.encrypt(EMAIL, ctx=ctx)  # key metadata unreadable, encrypt still works
    assert cipher.decrypt(token, ctx=ctx) == EMAIL
    assert FieldCipher(admin).decrypt(token, ctx=ctx) == EMAIL
    assert len(service.password_pepper()) == 32
    stranger = vault_server.provider(
        token=None, role_id=role_id, secret_id=secret_id, key_name=other_key
    )
    with pytest.raises(KeyProviderError, match="denied"):
        stranger.wrap(os.urandom(32))
    with pytest.raises(KeyProviderError, match="denied"):
        service.rotate()
