import pytest

from common import config


def test_defaults_work_locally(monkeypatch):
    for name in ("NESTEGG_RPC_TIMEOUT", "NESTEGG_AMQP_VHOST", "NESTEGG_DB_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    settings = config.load()
    assert settings.amqp_vhost == "nestegg"
    assert settings.rpc_timeout == 5.0
    assert settings.database_name("users") == "nestegg_users"
    assert settings.broker_user("portfolio") == "nestegg-portfolio"


def test_environment_overrides(monkeypatch):
    monkeypatch.setenv("NESTEGG_RPC_TIMEOUT", "2.5")
    monkeypatch.setenv("NESTEGG_DB_PREFIX", "acme_")
    monkeypatch.setenv("NESTEGG_USERS_DATABASE_URL", "postgresql+psycopg2://u:p@db/users")
    settings = config.load()
    assert settings.rpc_timeout == 2.5
    assert settings.database_name("notifier") == "acme_notifier"
    assert settings.broker_user("notifier") == "acme-notifier"
    assert settings.database_url("users") == "postgresql+psycopg2://u:p@db/users"


def test_bad_numbers_fail_with_the_variable_name(monkeypatch):
    monkeypatch.setenv("NESTEGG_GATEWAY_PORT", "eighty")
    with pytest.raises(ValueError, match="NESTEGG_GATEWAY_PORT"):
        config.load()


def test_unknown_service_is_refused():
    with pytest.raises(ValueError):
        config.Settings().database_name("billing")


def test_generated_credentials_are_private_and_stable(tmp_path, monkeypatch):
    monkeypatch.setenv("NESTEGG_STATE_DIR", str(tmp_path / "state"))
    from common.credentials import secret_for

    first = secret_for("db:x")
    assert secret_for("db:x") == first
    assert secret_for("db:y") != first
    assert (tmp_path / "state" / "credentials.json").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "state").stat().st_mode & 0o777 == 0o700
