import json
import os
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from common.crypto import CipherContext, FieldCipher, KeyringError, LocalKeyProvider

REPO = Path(__file__).resolve().parents[3]


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_keyring_is_created_0600_in_a_0700_directory(state_dir):
    LocalKeyProvider(state_dir)
    keyring = state_dir / "keyring.json"
    assert _mode(keyring) == 0o600
    assert _mode(state_dir) == 0o700
    data = json.loads(keyring.read_text())
    assert data["format"] == "nestegg-keyring/1"
    assert data["kek"]["current"] == 1
    assert [p.name for p in state_dir.iterdir() if p.name.endswith(".tmp")] == []


def test_keyring_is_created_once_and_reused(state_dir, ctx):
    first = LocalKeyProvider(state_dir)
    keyring = state_dir / "keyring.json"
    before = os.stat(keyring)
    token = FieldCipher(first).encrypt("x", ctx=ctx)
    second = LocalKeyProvider(state_dir)
    after = os.stat(keyring)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert FieldCipher(second).decrypt(token, ctx=ctx) == "x"


_RACER = """
import hashlib, os, sys, time
sys.path.insert(0, {repo!r})
from common.crypto import LocalKeyProvider
go = {go!r}
while not os.path.exists(go):
    time.sleep(0.001)
p = LocalKeyProvider({state!r})
kek = p._refresh().keks[1]
print(hashlib.sha256(kek).hexdigest(), p.password_pepper().hex(), os.stat({keyring!r}).st_ino)
"""


def test_processes_starting_at_once_create_one_keyring(tmp_path):
    state = tmp_path / "state"
    go = tmp_path / "go"
    script = _RACER.format(
        repo=str(REPO), go=str(go), state=str(state), keyring=str(state / "keyring.json")
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    time.sleep(0.5)  # let the interpreters start; the test passes or fails the same without it
    go.touch()
    outputs = [p.communicate(timeout=60)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert len(outputs) == 6 and all(len(o) == 3 for o in outputs)
    assert len({o[0] for o in outputs}) == 1, "every process must see the same KEK v1"
    assert len({o[1] for o in outputs}) == 1, "every process must see the same pepper"
    assert len({o[2] for o in outputs}) == 1  # everyone ends on the same file
    assert _mode(state / "keyring.json") == 0o600


def test_a_readable_keyring_is_refused(state_dir):
    LocalKeyProvider(state_dir)
    os.chmod(state_dir / "keyring.json", 0o644)
    with pytest.raises(KeyringError, match="0600"):
        LocalKeyProvider(state_dir)


def test_a_corrupt_keyring_is_refused(state_dir):
    state_dir.mkdir(mode=0o700)
    path = state_dir / "keyring.json"
    for content in ("{not json", "[]", '{"format": "other"}', '{"format": "nestegg-keyring/1"}'):
        path.write_text(content)
        os.chmod(path, 0o600)
        with pytest.raises(KeyringError):
            LocalKeyProvider(state_dir)


def test_rotation_persists_and_other_instances_follow(state_dir, ctx):
    writer, reader = LocalKeyProvider(state_dir), LocalKeyProvider(state_dir)
    assert writer.rotate() == 2
    assert writer.rotate() == 3
    assert reader.current_version() == 3
    token = FieldCipher(reader).encrypt("x", ctx=ctx)
    assert token.startswith("ne1.local.3.")
    assert LocalKeyProvider(state_dir).status().details["versions"] == [1, 2, 3]
    assert _mode(state_dir / "keyring.json") == 0o600


def test_named_secrets_are_generated_once_persisted_and_separate(state_dir):
    a = LocalKeyProvider(state_dir)
    pepper = a.password_pepper()
    assert len(pepper) == 32
    assert a.blind_index_key("users.email") != a.blind_index_key("users.phone")
    assert pepper not in (a.blind_index_key("users.email"), a.blind_index_key("users.phone"))
    b = LocalKeyProvider(state_dir)
    assert b.password_pepper() == pepper
    assert b.blind_index_key("users.email") == a.blind_index_key("users.email")
    assert LocalKeyProvider(state_dir.parent / "elsewhere").password_pepper() != pepper


@pytest.mark.parametrize("name", ["", "Pepper", "../etc", "a" * 101, "a b"])
def test_bad_secret_names_are_rejected(provider, name):
    with pytest.raises(ValueError, match="secret name"):
        provider.secret(name)


def test_jwt_signing_keypair_is_es256_stable_and_usable(state_dir):
    pair = LocalKeyProvider(state_dir).jwt_signing_key_pair()
    again = LocalKeyProvider(state_dir).jwt_signing_key_pair()
    assert (again.private_pem, again.kid) == (pair.private_pem, pair.kid)
    assert "PRIVATE" not in repr(pair)
    private = serialization.load_pem_private_key(pair.private_pem, password=None)
    public = serialization.load_pem_public_key(pair.public_pem)
    assert isinstance(private, ec.EllipticCurvePrivateKey) and private.curve.name == "secp256r1"
    signature = private.sign(b"payload", ec.ECDSA(hashes.SHA256()))
    public.verify(signature, b"payload", ec.ECDSA(hashes.SHA256()))  # raises if wrong


def test_unwrap_refuses_wrong_provider_and_lengths(provider):
    from common.crypto import DecryptionError
    from common.crypto.token import WrappedKey

    good = provider.wrap(os.urandom(32))
    assert provider.unwrap(good) != good.blob
    for bad in (
        WrappedKey("vault", good.version, good.blob),
        WrappedKey("local", good.version, good.blob[:-1]),
        WrappedKey("local", 7, good.blob),
    ):
        with pytest.raises(DecryptionError):
            provider.unwrap(bad)
    with pytest.raises(ValueError, match="32 bytes"):
        provider.wrap(b"short")


def test_context_aad_uses_no_secret():
    ctx = CipherContext("users", "email", str(uuid.UUID(int=1)))
    assert ctx.associated_data() == b"ne1|users|email|00000000-0000-0000-0000-000000000001"
