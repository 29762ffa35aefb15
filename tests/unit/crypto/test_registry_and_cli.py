import argparse
import io
import json
import uuid

import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine, insert, select

from common.crypto import (
    CipherContext,
    FieldCipher,
    register_encrypted_columns,
    register_model_columns,
)
from common.crypto.cli import add_keys_subcommands, run_keys_command
from common.crypto.registry import (
    isolated_registry,
    registered_encrypted_columns,
)


@pytest.fixture(autouse=True)
def clean_registry():
    with isolated_registry():
        yield


def test_registration_is_idempotent_and_conflicts_are_errors():
    first = register_encrypted_columns("USERS_DATABASE_URL", "users", "id", ["email", "phone"])
    assert (
        register_encrypted_columns("USERS_DATABASE_URL", "users", "id", ("email", "phone")) == first
    )
    assert registered_encrypted_columns() == [first]
    with pytest.raises(ValueError, match="already registered"):
        register_encrypted_columns("USERS_DATABASE_URL", "users", "id", ["email"])


@pytest.mark.parametrize(
    "args,message",
    [
        (("users_url", "users", "id", ["email"]), "environment variable"),
        (("USERS_DATABASE_URL", "users", "id", []), "at least one"),
        (("USERS_DATABASE_URL", "users", "id", "email"), "list of column names"),
        (("USERS_DATABASE_URL", "users", "id", ["email", "email"]), "duplicate"),
        (("USERS_DATABASE_URL", "users", "id", ["id"]), "primary key"),
        (("USERS_DATABASE_URL", "users x", "id", ["email"]), "table"),
        (("USERS_DATABASE_URL", "users", "id", ["e mail"]), "column"),
    ],
)
def test_bad_registrations_are_refused(args, message):
    with pytest.raises(ValueError, match=message):
        register_encrypted_columns(*args)


def _model():
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    class Base(DeclarativeBase):
        pass

    class Item(Base):
        __tablename__ = "items"
        id: Mapped[str] = mapped_column(String(36), primary_key=True)
        access_token: Mapped[str] = mapped_column(String)

    return Item


def test_register_model_columns_reads_the_model():
    entry = register_model_columns(_model(), ["access_token"], database_url_env="AGG_DATABASE_URL")
    assert (entry.table, entry.pk, entry.columns) == ("items", "id", ("access_token",))
    with pytest.raises(ValueError, match="no column"):
        register_model_columns(_model(), ["secret"], database_url_env="AGG_DATABASE_URL")


def _parser():
    parser = argparse.ArgumentParser(prog="nestegg")
    add_keys_subcommands(parser.add_subparsers(dest="command", required=True))
    return parser


def _seed(tmp_path, cipher, n=12):
    url = f"sqlite:///{tmp_path / 'users.sqlite'}"
    engine = create_engine(url)
    meta = MetaData()
    users = Table(
        "users", meta, Column("id", String(36), primary_key=True), Column("email", String)
    )
    meta.create_all(engine)
    with engine.begin() as conn:
        for i in range(n):
            row_id = str(uuid.uuid4())
            token = cipher.encrypt(f"u{i}@example.com", ctx=CipherContext("users", "email", row_id))
            conn.execute(insert(users).values(id=row_id, email=token))
    return url, engine, users


def test_keys_rotate_and_status_commands(tmp_path, provider, cipher):
    url, engine, users = _seed(tmp_path, cipher)
    register_encrypted_columns("TEST_USERS_DATABASE_URL", "users", "id", ["email"])
    env = {"TEST_USERS_DATABASE_URL": url}
    parser = _parser()

    out = io.StringIO()
    args = parser.parse_args(["keys", "status", "--models", "json", "--json"])
    assert args.func is run_keys_command
    assert run_keys_command(args, provider=provider, env=env, out=out) == 0
    status = json.loads(out.getvalue())
    assert status["version"] == 1
    assert status["columns"]["users(email)"]["email"]["current"] == 12

    out = io.StringIO()
    args = parser.parse_args(["keys", "rotate", "--batch-size", "5", "--models", "json"])
    assert run_keys_command(args, provider=provider, env=env, out=out) == 0
    assert "rotated to v2: 12 tokens rewrapped" in out.getvalue()

    with engine.connect() as conn:
        for row in conn.execute(select(users)).mappings():
            assert row["email"].startswith("ne1.local.2.")
            assert (
                FieldCipher(provider)
                .decrypt(row["email"], ctx=CipherContext("users", "email", row["id"]))
                .endswith("@example.com")
            )

    out = io.StringIO()
    args = parser.parse_args(["keys", "rotate", "--rewrap-only", "--models", "json"])
    assert run_keys_command(args, provider=provider, env=env, out=out) == 0
    assert "rewrapped to v2: 0 tokens rewrapped" in out.getvalue()


def test_a_resolver_supplies_urls_for_unset_variables(tmp_path, provider, cipher):
    from common.crypto import register_database_url_resolver

    url, _, _ = _seed(tmp_path, cipher, n=3)
    register_encrypted_columns("NESTEGG_USERS_DATABASE_URL", "users", "id", ["email"])
    register_database_url_resolver(lambda var: url if var == "NESTEGG_USERS_DATABASE_URL" else None)
    out = io.StringIO()
    args = _parser().parse_args(["keys", "status", "--models", "json"])
    assert run_keys_command(args, provider=provider, env={}, out=out) == 0
    assert "email: current 3, stale 0, other 0, null 0" in out.getvalue()


def test_keys_command_configuration_errors_exit_2(tmp_path, provider, capsys):
    register_encrypted_columns("TEST_MISSING_DATABASE_URL", "users", "id", ["email"])
    args = _parser().parse_args(["keys", "status", "--models", "json"])
    assert run_keys_command(args, provider=provider, env={}, out=io.StringIO()) == 2
    assert "TEST_MISSING_DATABASE_URL" in capsys.readouterr().err
    args = _parser().parse_args(["keys", "status", "--models", "no_such_module_xyz"])
    assert run_keys_command(args, provider=provider, env={}, out=io.StringIO()) == 2
    assert "no_such_module_xyz" in capsys.readouterr().err


def test_default_model_modules_that_do_not_exist_are_noted(provider, monkeypatch):
    from common.crypto import cli

    monkeypatch.setattr(cli, "DEFAULT_MODEL_MODULES", ("no_such_service_xyz.models",))
    args = _parser().parse_args(["keys", "status"])
    out = io.StringIO()
    code = run_keys_command(args, provider=provider, env={}, out=out)
    assert code == 0
    assert "note: default model module no_such_service_xyz.models not found" in out.getvalue()
    assert "provider: local" in out.getvalue()
