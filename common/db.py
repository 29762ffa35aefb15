"""SQLAlchemy 2.0 base pieces shared by every service (each service has its own metadata).

- :func:`make_base` returns a fresh declarative base with a naming convention, so Alembic
  autogenerate produces stable constraint names.
- :class:`Timestamps` adds ``created_at``/``updated_at`` (UTC, database clock).
- :func:`make_engine` sizes the pool to the service's ``max_workers``: a nameko worker holds at
  most one connection, so the pool can never be the bottleneck nor starve.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import DateTime, MetaData, create_engine, func
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def make_base() -> type[DeclarativeBase]:
    class Base(DeclarativeBase):
        metadata = MetaData(naming_convention=NAMING_CONVENTION)

    return Base


def new_id() -> str:
    """Client-side ids, so field encryption can bind ciphertext to the row before INSERT."""
    return str(uuid.uuid4())


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Timestamps:
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


def make_engine(url: str, *, pool_size: int = 10, **kwargs) -> Engine:
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=True,
        pool_timeout=kwargs.pop("pool_timeout", 10),
        pool_recycle=kwargs.pop("pool_recycle", 1800),
        connect_args={
            "connect_timeout": 5,
            "application_name": kwargs.pop("application_name", "nestegg"),
        },
        **kwargs,
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    with factory() as session, session.begin():
        yield session
