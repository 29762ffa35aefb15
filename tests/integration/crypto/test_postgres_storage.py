"""Encrypted columns in a real PostgreSQL database: nothing readable at rest, rotation works."""

import argparse
import io
import uuid

import pytest
from sqlalchemy import (
    CHAR,
    Column,
    MetaData,
    Table,
    Text,
    Uuid,
    insert,
    select,
    text,
)

from common.crypto import CipherContext, FieldCipher, register_encrypted_columns, rotate_and_rewrap
from common.crypto.cli import add_keys_subcommands, run_keys_command
from common.crypto.registry import isolated_registry
from common.crypto.sql_source import SqlAlchemyRewrapSource

pytestmark = pytest.mark.integration


@pytest.fixture
def users_table(pg_engine):
    meta = MetaData()
    name = f"users_{uuid.uuid4().hex[:8]}"
    table = Table(
        name,
        meta,
        Column("id", Uuid, primary_key=True),
        Column("display_name", Text),  # deliberately NOT encrypted: the control column
        Column("email", Text),
        Column("email_bidx", CHAR(64), unique=True),
        Column("phone", Text),
    )
    meta.create_all(pg_engine)
    yield table
    meta.drop_all(pg_engine)


def _people(n):
    return [
        {
            "id": uuid.uuid4(),
            "display_name": f"Display{i:04d}Marker",
            "email": f"person{i:04d}.secret@example.com",
            "phone": f"+1-555-01{i:04d}" if i % 2 else None,
        }
        for i in range(n)
    ]


def _insert(engine, table, cipher, people):
    name = table.name
    with engine.begin() as conn:
        for p in people:
            conn.execute(
                insert(table).values(
                    id=p["id"],
                    display_name=p["display_name"],
                    email=cipher.encrypt(p["email"], ctx=CipherContext(name, "email", p["id"])),
                    email_bidx=cipher.blind_index("users.email", p["email"]),
                    phone=cipher.encrypt(p["phone"], ctx=CipherContext(name, "phone", p["id"]))
                    if p["phone"]
                    else None,
                )
            )


def _read_back(engine, table, cipher):
    found = {}
    with engine.connect() as conn:
        for row in conn.execute(select(table)).mappings():
            found[row["id"]] = (
                cipher.decrypt(row["email"], ctx=CipherContext(table.name, "email", row["id"])),
                cipher.decrypt(row["phone"], ctx=CipherContext(table.name, "phone", row["id"]))
                if row["phone"]
                else None,
            )
    return found


def test_raw_rows_and_heap_pages_contain_no_plaintext(pg_engine, users_table, key_provider):
    cipher = FieldCipher(key_provider)
    people = _people(40)
    _insert(pg_engine, users_table, cipher, people)
    secrets_ = [p["email"] for p in people] + [p["phone"] for p in people if p["phone"]]
    needles = {s.encode() for s in secrets_} | {p["email"].split("@")[0].encode() for p in people}

    with pg_engine.connect() as conn:
        rows = (
            conn.execute(text(f"SELECT convert_to(t::text, 'UTF8') FROM \"{users_table.name}\" t"))
            .scalars()
            .all()
        )
        conn.execute(text("CHECKPOINT"))
        heap = conn.execute(
            text("SELECT pg_read_binary_file(pg_relation_filepath(:t))"), {"t": users_table.name}
        ).scalar_one()
    assert len(rows) == 40
    for raw in rows:
        raw = bytes(raw)
        assert not any(needle in raw for needle in needles), raw[:80]
        assert b"ne1." in raw
    heap = bytes(heap)
    assert heap.count(b"Marker") == 40, "the control column must be visible on disk"
    assert not any(needle in heap for needle in needles)
    assert b"@example.com" not in heap
    assert _read_back(pg_engine, users_table, cipher) == {
        p["id"]: (p["email"], p["phone"]) for p in people
    }


def test_blind_index_finds_a_user_by_email(pg_engine, users_table, key_provider):
    cipher = FieldCipher(key_provider)
    people = _people(5)
    _insert(pg_engine, users_table, cipher, people)
    probe = cipher.blind_index("users.email", "  PERSON0003.Secret@Example.com ")
    with pg_engine.connect() as conn:
        row = (
            conn.execute(select(users_table).where(users_table.c.email_bidx == probe))
            .mappings()
            .one()
        )
    assert row["id"] == people[3]["id"]
    assert cipher.blind_index_matches("users.email", people[3]["email"], row["email_bidx"])


def test_rotate_and_rewrap_a_real_table_then_read_back(pg_engine, users_table, key_provider):
    cipher = FieldCipher(key_provider)
    people = _people(30)
    _insert(pg_engine, users_table, cipher, people)
    with pg_engine.connect() as conn:
        before = {
            r.id: r.email for r in conn.execute(select(users_table.c.id, users_table.c.email))
        }
    source = SqlAlchemyRewrapSource(pg_engine, users_table.name, "id", ["email", "phone"])
    report = rotate_and_rewrap(key_provider, [source], batch_size=7)
    assert (report.version, report.rewrapped, report.remaining) == (2, 30 + 15, 0)
    with pg_engine.connect() as conn:
        after = {r.id: r.email for r in conn.execute(select(users_table.c.id, users_table.c.email))}
    for row_id, token in after.items():
        assert token.startswith(f"ne1.{key_provider.name}.2.")
        assert token.split(".")[4] == before[row_id].split(".")[4]
    assert _read_back(pg_engine, users_table, cipher) == {
        p["id"]: (p["email"], p["phone"]) for p in people
    }
    again = rotate_and_rewrap(key_provider, [source], rotate=False)
    assert (again.rewrapped, again.remaining) == (0, 0)


def test_rewrap_skips_locked_rows_and_resumes(pg_engine, users_table, key_provider):
    cipher = FieldCipher(key_provider)
    people = _people(10)
    _insert(pg_engine, users_table, cipher, people)
    source = SqlAlchemyRewrapSource(pg_engine, users_table.name, "id", ["email"])
    locked_id = people[4]["id"]
    with pg_engine.connect() as holder:
        holder.begin()
        holder.execute(select(users_table).where(users_table.c.id == locked_id).with_for_update())
        report = rotate_and_rewrap(key_provider, [source], batch_size=3)  # does not block
        assert (report.rewrapped, report.remaining) == (9, 1)
        holder.rollback()
    resumed = rotate_and_rewrap(key_provider, [source], rotate=False)
    assert (resumed.rewrapped, resumed.remaining) == (1, 0)
    assert _read_back(pg_engine, users_table, cipher)[locked_id][0] == people[4]["email"]


def test_keys_cli_rotates_registered_columns(pg_engine, pg_url, users_table, key_provider):
    cipher = FieldCipher(key_provider)
    people = _people(8)
    _insert(pg_engine, users_table, cipher, people)
    with isolated_registry():
        register_encrypted_columns(
            "TEST_CRYPTO_DATABASE_URL", users_table.name, "id", ["email", "phone"]
        )
        parser = argparse.ArgumentParser(prog="nestegg")
        add_keys_subcommands(parser.add_subparsers(dest="command", required=True))
        env = {"TEST_CRYPTO_DATABASE_URL": pg_url}
        out = io.StringIO()
        args = parser.parse_args(["keys", "rotate", "--models", "json"])
        assert run_keys_command(args, provider=key_provider, env=env, out=out) == 0
        assert "12 tokens rewrapped" in out.getvalue()
        out = io.StringIO()
        args = parser.parse_args(["keys", "status", "--models", "json"])
        assert run_keys_command(args, provider=key_provider, env=env, out=out) == 0
        assert "email: current 8, stale 0" in out.getvalue()
    assert _read_back(pg_engine, users_table, cipher) == {
        p["id"]: (p["email"], p["phone"]) for p in people
    }
