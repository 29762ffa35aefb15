import hashlib
import hmac

import pytest

from common.crypto import LocalKeyProvider, blind_index, index_matches, normalise


def test_blind_index_is_full_hmac_sha256_hex_of_the_normalised_value(provider, cipher):
    value = cipher.blind_index("users.email", "alice@example.com")
    key = provider.blind_index_key("users.email")
    assert value == hmac.new(key, b"alice@example.com", hashlib.sha256).hexdigest()
    assert len(value) == 64 and int(value, 16) >= 0


def test_blind_index_is_stable_across_instances(state_dir, cipher):
    from common.crypto import FieldCipher

    first = cipher.blind_index("users.email", "alice@example.com")
    assert (
        FieldCipher(LocalKeyProvider(state_dir)).blind_index("users.email", "alice@example.com")
        == first
    )


@pytest.mark.parametrize(
    "spelling",
    [
        "alice@example.com",
        "  Alice@Example.COM\t",
        "ALICE@EXAMPLE.COM\n",
        "\uff41lice@example.com",  # fullwidth 'a' folds to 'a' under NFKC
        "alice\uff20example.com",  # fullwidth '@'
    ],
)
def test_blind_index_normalises(cipher, spelling):
    assert cipher.blind_index("users.email", spelling) == cipher.blind_index(
        "users.email", "alice@example.com"
    )


def test_different_values_give_different_indexes(cipher):
    assert cipher.blind_index("users.email", "alice@example.com") != cipher.blind_index(
        "users.email", "alice@example.org"
    )


def test_each_purpose_has_its_own_key(tmp_path, cipher):
    from common.crypto import FieldCipher

    email = cipher.blind_index("users.email", "alice@example.com")
    assert cipher.blind_index("users.recovery_email", "alice@example.com") != email
    other_keyring = FieldCipher(LocalKeyProvider(tmp_path / "other"))
    assert other_keyring.blind_index("users.email", "alice@example.com") != email


def test_matches_uses_constant_time_compare(cipher):
    stored = cipher.blind_index("users.email", "alice@example.com")
    assert cipher.blind_index_matches("users.email", " ALICE@example.com", stored)
    assert not cipher.blind_index_matches("users.email", "bob@example.com", stored)
    assert index_matches(stored, stored) and not index_matches(stored, stored[::-1])


@pytest.mark.parametrize("value", ["", "   ", "\t\n"])
def test_blank_values_are_refused(cipher, value):
    with pytest.raises(ValueError, match="empty"):
        cipher.blind_index("users.email", value)


@pytest.mark.parametrize("purpose", ["", "Users.Email", "users..email", "users email", "../x"])
def test_bad_purposes_are_refused(cipher, purpose):
    with pytest.raises(ValueError, match="purpose"):
        cipher.blind_index(purpose, "alice@example.com")


def test_bad_types_and_keys_are_refused():
    with pytest.raises(TypeError):
        normalise(None)
    with pytest.raises(ValueError, match="32 bytes"):
        blind_index(b"short", "alice@example.com")
