import uuid

import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine, insert, select

from common.crypto import (
    CipherContext,
    DecryptionError,
    FieldCipher,
    MappingRewrapSource,
    rotate_and_rewrap,
)
from common.crypto.rotation import RewrapTarget, rewrap_source
from common.crypto.sql_source import SqlAlchemyRewrapSource


def _cell(row_id, column="email"):
    return CipherContext(table="users", column=column, row_id=row_id)


def test_rotate_then_old_tokens_decrypt_then_rewrap_then_read(provider, cipher, ctx):
    token = cipher.encrypt("alice@example.com", ctx=ctx)
    assert provider.rotate() == 2
    assert cipher.decrypt(token, ctx=ctx) == "alice@example.com"  # before rewrap
    assert cipher.encrypt("new", ctx=ctx).startswith("ne1.local.2.")
    rewrapped = cipher.rewrap(token)
    assert rewrapped.startswith("ne1.local.2.")
    assert rewrapped.split(".")[4] == token.split(".")[4]  # data part untouched
    assert rewrapped.split(".")[3] != token.split(".")[3]
    assert cipher.decrypt(rewrapped, ctx=ctx) == "alice@example.com"
    assert cipher.rewrap(rewrapped) == rewrapped  # already current: unchanged


def test_rewrap_refuses_tampered_tokens(provider, cipher, ctx):
    token = cipher.encrypt("x", ctx=ctx)
    provider.rotate()
    parts = token.split(".")
    parts[3] = parts[3][:-2] + ("AA" if parts[3][-2:] != "AA" else "BA")
    with pytest.raises(DecryptionError):
        cipher.rewrap(".".join(parts))


def _fill(cipher, n):
    rows = {}
    for _ in range(n):
        row_id = str(uuid.uuid4())
        rows[row_id] = cipher.encrypt(f"user-{row_id}@example.com", ctx=_cell(row_id))
    return rows


def test_rotate_and_rewrap_over_a_mapping_source(provider, cipher):
    rows = _fill(cipher, 25)
    rows["no-value"] = None
    rows["legacy"] = "not a token"
    report = rotate_and_rewrap(provider, [MappingRewrapSource("users.email", rows)], batch_size=7)
    assert (report.version, report.rewrapped, report.remaining) == (2, 25, 0)
    assert rows["no-value"] is None and rows["legacy"] == "not a token"
    for row_id, token in rows.items():
        if token and token.startswith("ne1."):
            assert token.startswith("ne1.local.2.")
            assert cipher.decrypt(token, ctx=_cell(row_id)) == f"user-{row_id}@example.com"
    again = rotate_and_rewrap(provider, [MappingRewrapSource("users.email", rows)], rotate=False)
    assert (again.version, again.rewrapped, again.remaining) == (2, 0, 0)


def test_rewrap_is_resumable_after_a_corrupt_token(provider, cipher):
    rows = _fill(cipher, 10)
    bad_key = list(rows)[5]  # the sixth in rewrap order, so five are done before it fails
    rows[bad_key] = (
        rows[bad_key][:20] + ("A" if rows[bad_key][20] != "A" else "B") + rows[bad_key][21:]
    )
    provider.rotate()
    source = MappingRewrapSource("users.email", rows)
    with pytest.raises(DecryptionError, match="users.email key"):
        rewrap_source(provider, source, batch_size=1)
    target = RewrapTarget.for_provider(provider)
    done_before = sum(1 for t in rows.values() if not target.is_stale(t))
    assert 0 < done_before < 10
    del rows[bad_key]  # an operator restores or removes the damaged row
    report = rewrap_source(provider, source, batch_size=3)
    assert report.rewrapped == 9 - done_before and report.remaining == 0


def test_batch_size_must_be_positive(provider):
    with pytest.raises(ValueError, match="batch_size"):
        rewrap_source(provider, MappingRewrapSource("x", {}), batch_size=0)


def test_target_staleness():
    target = RewrapTarget(provider="local", version=3)
    assert target.is_stale("ne1.local.1.a.b") and target.is_stale("ne1.local.2.a.b")
    assert not target.is_stale("ne1.local.3.a.b") and not target.is_stale("ne1.local.4.a.b")
    assert not target.is_stale("ne1.vault.1.a.b") and not target.is_stale(None)
    assert target.current_prefix == "ne1.local.3."


def _sqlite_table(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    meta = MetaData()
    users = Table(
        "users",
        meta,
        Column("id", String(36), primary_key=True),
        Column("email", String),
        Column("phone", String),
    )
    meta.create_all(engine)
    return engine, users


def test_sqlalchemy_source_rewraps_every_encrypted_column(tmp_path, provider, cipher):
    engine, users = _sqlite_table(tmp_path)
    expected = {}
    with engine.begin() as conn:
        for i in range(30):
            row_id = str(uuid.uuid4())
            email, phone = f"u{i}@example.com", (f"+1555000{i:04d}" if i % 3 else None)
            expected[row_id] = (email, phone)
            conn.execute(
                insert(users).values(
                    id=row_id,
                    email=cipher.encrypt(email, ctx=_cell(row_id)),
                    phone=cipher.encrypt(phone, ctx=_cell(row_id, "phone")) if phone else None,
                )
            )
    source = SqlAlchemyRewrapSource(engine, "users", "id", ["email", "phone"])
    report = rotate_and_rewrap(provider, [source], batch_size=4)
    assert report.rewrapped == 30 + 20 and report.remaining == 0
    state = source.count_by_state(RewrapTarget.for_provider(provider))
    assert state == {
        "email": {"current": 30, "stale": 0, "other": 0, "null": 0},
        "phone": {"current": 20, "stale": 0, "other": 0, "null": 10},
    }
    with engine.connect() as conn:
        for row in conn.execute(select(users)).mappings():
            email, phone = expected[row["id"]]
            assert row["email"].startswith("ne1.local.2.")
            assert cipher.decrypt(row["email"], ctx=_cell(row["id"])) == email
            if phone:
                assert cipher.decrypt(row["phone"], ctx=_cell(row["id"], "phone")) == phone


@pytest.mark.parametrize(
    "table,pk,columns",
    [
        ("users;x", "id", ["email"]),
        ("users", "id", []),
        ("users", "id", "email"),
        ("users", "id", ["id"]),
    ],
)
def test_sqlalchemy_source_validates_names(tmp_path, table, pk, columns):
    engine, _ = _sqlite_table(tmp_path)
    with pytest.raises(ValueError):
        SqlAlchemyRewrapSource(engine, table, pk, columns)


def test_field_cipher_is_reusable_across_rotations(provider):
    cipher = FieldCipher(provider)
    ctx = _cell(str(uuid.uuid4()))
    tokens = []
    for _ in range(3):
        tokens.append(cipher.encrypt("v", ctx=ctx))
        provider.rotate()
    assert [t.split(".")[2] for t in tokens] == ["1", "2", "3"]
    assert all(cipher.decrypt(t, ctx=ctx) == "v" for t in tokens)
