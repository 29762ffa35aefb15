"""With Vault/OpenBao down, encryption fails closed and nothing is written."""

import uuid

import pytest
from sqlalchemy import Column, MetaData, Table, Text, Uuid, func, insert, select

from common.crypto import CipherContext, FieldCipher, KeyProviderUnavailable

pytestmark = [pytest.mark.integration, pytest.mark.vault]


def create_user(engine, table, cipher, email):
    """A write path as services write it: encrypt first, then INSERT in one transaction."""
    user_id = uuid.uuid4()
    with engine.begin() as conn:
        token = cipher.encrypt(email, ctx=CipherContext(table.name, "email", user_id))
        conn.execute(insert(table).values(id=user_id, email=token))
    return user_id


@pytest.fixture
def table(pg_engine):
    meta = MetaData()
    t = Table(
        f"down_{uuid.uuid4().hex[:8]}",
        meta,
        Column("id", Uuid, primary_key=True),
        Column("email", Text),
    )
    meta.create_all(pg_engine)
    yield t
    meta.drop_all(pg_engine)


def _count(engine, table):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_vault_down_fails_closed_and_writes_nothing(bao_factory, pg_engine, table):
    server = bao_factory()
    provider = server.provider(timeout=2)
    cipher = FieldCipher(provider)
    user_id = create_user(pg_engine, table, cipher, "alice@example.com")  # works while up
    with pg_engine.connect() as conn:
        stored = conn.execute(select(table.c.email)).scalar_one()
    assert _count(pg_engine, table) == 1

    server.stop()

    with pytest.raises(KeyProviderUnavailable):
        cipher.encrypt("bob@example.com", ctx=CipherContext(table.name, "email", uuid.uuid4()))
    with pytest.raises(KeyProviderUnavailable):
        create_user(pg_engine, table, cipher, "bob@example.com")
    assert _count(pg_engine, table) == 1, "the failed write must leave no row"
    with pytest.raises(KeyProviderUnavailable):  # reads fail closed too, not as tampering
        cipher.decrypt(stored, ctx=CipherContext(table.name, "email", user_id))
    with pytest.raises(KeyProviderUnavailable):
        provider.secret("never-created")
