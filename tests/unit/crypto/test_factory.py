import pytest

from common.crypto import (
    LocalKeyProvider,
    VaultKeyProvider,
    get_key_provider,
    key_provider_from_env,
)
from common.crypto.providers.factory import DEFAULT_STATE_DIR, REPO_ROOT


def test_local_is_the_default(tmp_path):
    provider = key_provider_from_env({"NESTEGG_STATE_DIR": str(tmp_path / "s")})
    assert isinstance(provider, LocalKeyProvider)
    assert provider.path == tmp_path / "s" / "keyring.json"
    assert DEFAULT_STATE_DIR == REPO_ROOT / ".nestegg"
    assert (REPO_ROOT / "pyproject.toml").exists()


def test_vault_config_is_read_from_env():
    provider = key_provider_from_env(
        {
            "NESTEGG_KEY_PROVIDER": "vault",
            "NESTEGG_VAULT_ADDR": "http://127.0.0.1:1",
            "NESTEGG_VAULT_TOKEN": "hvs.TopSecretToken",
            "NESTEGG_VAULT_MOUNT": "kek-transit",
            "NESTEGG_VAULT_TIMEOUT": "0.5",
        }
    )
    assert isinstance(provider, VaultKeyProvider)
    assert (provider.addr, provider.transit_mount, provider.key_name) == (
        "http://127.0.0.1:1",
        "kek-transit",
        "nestegg-kek",
    )
    assert "TopSecret" not in repr(provider)


@pytest.mark.parametrize(
    "env,message",
    [
        ({"NESTEGG_KEY_PROVIDER": "kms"}, "local' or 'vault"),
        ({"NESTEGG_KEY_PROVIDER": "vault"}, "NESTEGG_VAULT_TOKEN"),
        ({"NESTEGG_KEY_PROVIDER": "vault", "NESTEGG_VAULT_ROLE_ID": "r"}, "NESTEGG_VAULT_TOKEN"),
        (
            {
                "NESTEGG_KEY_PROVIDER": "vault",
                "NESTEGG_VAULT_TOKEN": "t",
                "NESTEGG_VAULT_TIMEOUT": "soon",
            },
            "NESTEGG_VAULT_TIMEOUT",
        ),
        (
            {
                "NESTEGG_KEY_PROVIDER": "vault",
                "NESTEGG_VAULT_TOKEN": "t",
                "NESTEGG_VAULT_TIMEOUT": "0",
            },
            "timeout",
        ),
    ],
)
def test_bad_configuration_is_a_clear_error(env, message):
    with pytest.raises(ValueError, match=message):
        key_provider_from_env(env)


def test_approle_credentials_are_enough():
    env = {
        "NESTEGG_KEY_PROVIDER": "vault",
        "NESTEGG_VAULT_ROLE_ID": "r",
        "NESTEGG_VAULT_SECRET_ID": "s",
    }
    assert isinstance(key_provider_from_env(env), VaultKeyProvider)


def test_get_key_provider_builds_one_provider_per_configuration(tmp_path):
    env_a = {"NESTEGG_STATE_DIR": str(tmp_path / "a")}
    env_b = {"NESTEGG_STATE_DIR": str(tmp_path / "b")}
    assert get_key_provider(env_a) is get_key_provider(dict(env_a))
    assert get_key_provider(env_a) is not get_key_provider(env_b)


def test_approle_ignores_an_ambient_vault_token(monkeypatch):
    monkeypatch.setenv("VAULT_TOKEN", "hvs.ambient-root")
    provider = key_provider_from_env(
        {
            "NESTEGG_KEY_PROVIDER": "vault",
            "NESTEGG_VAULT_ROLE_ID": "r",
            "NESTEGG_VAULT_SECRET_ID": "s",
        }
    )
    assert not provider._client.token  # it must log in with AppRole, not borrow root
