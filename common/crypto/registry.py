"""Which table columns hold encrypted tokens, so ``nestegg keys rotate`` can rewrap them all.

Services register their columns once, next to their models::

    # users/models.py
    from common.crypto import register_encrypted_columns

    register_encrypted_columns(
        database_url_env="NESTEGG_USERS_DATABASE_URL", table="users", pk="id",
        columns=["email", "phone"],
    )

``database_url_env`` names the environment variable holding that service's database URL, so
the registry holds no secret and each service's tables are rewrapped with its own role. When
the variable is unset, resolvers added with ``register_database_url_resolver`` are asked (the
project config can derive ``NESTEGG_USERS_DATABASE_URL`` from its credentials store).
Registering the same thing twice is a no-op; registering the same table differently is an
error (two models disagreeing is a bug worth stopping on).
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from common.crypto.context import CipherContext

_ENV_RE = re.compile(r"[A-Z][A-Z0-9_]{0,99}")


@dataclass(frozen=True)
class EncryptedColumns:
    database_url_env: str
    table: str
    pk: str
    columns: tuple[str, ...]
    schema: str | None = None

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else self.table


_registry: dict[tuple[str, str | None, str], EncryptedColumns] = {}
_resolvers: list[Callable[[str], str | None]] = []
_lock = threading.Lock()


def register_encrypted_columns(
    database_url_env: str,
    table: str,
    pk: str,
    columns: Iterable[str],
    *,
    schema: str | None = None,
) -> EncryptedColumns:
    if not isinstance(database_url_env, str) or not _ENV_RE.fullmatch(database_url_env):
        raise ValueError(
            f"database_url_env must name an environment variable like USERS_DATABASE_URL: "
            f"{database_url_env!r}"
        )
    if isinstance(columns, str):
        raise ValueError("columns must be a list of column names, not one string")
    cols = tuple(columns)
    if not cols:
        raise ValueError("register at least one encrypted column")
    if len(set(cols)) != len(cols):
        raise ValueError(f"duplicate column in {cols!r}")
    if pk in cols:
        raise ValueError("the primary key cannot be an encrypted column")
    qualified = f"{schema}.{table}" if schema else table
    for name in (pk, *cols):
        CipherContext(table=qualified, column=name, row_id="x")  # validates identifiers
    entry = EncryptedColumns(database_url_env, table, pk, cols, schema)
    key = (database_url_env, schema, table)
    with _lock:
        existing = _registry.get(key)
        if existing is not None and existing != entry:
            raise ValueError(
                f"{qualified} is already registered with pk={existing.pk!r} "
                f"columns={existing.columns!r}"
            )
        _registry[key] = entry
    return entry


def register_model_columns(
    model: type, columns: Iterable[str], *, database_url_env: str
) -> EncryptedColumns:
    """Same, reading table, schema and single-column primary key from a SQLAlchemy model."""
    table = model.__table__
    pks = [c.name for c in table.primary_key.columns]
    if len(pks) != 1:
        raise ValueError(f"{table.name} needs exactly one primary-key column, has {pks}")
    unknown = [c for c in columns if c not in table.c]
    if unknown:
        raise ValueError(f"{table.name} has no column(s) {unknown}")
    return register_encrypted_columns(
        database_url_env, table.name, pks[0], columns, schema=table.schema
    )


def registered_encrypted_columns() -> list[EncryptedColumns]:
    with _lock:
        return sorted(_registry.values(), key=lambda e: (e.database_url_env, e.qualified_table))


def register_database_url_resolver(resolver: Callable[[str], str | None]) -> None:
    """Add a fallback that maps a variable name to a URL when the variable is unset."""
    with _lock:
        if resolver not in _resolvers:
            _resolvers.append(resolver)


def resolve_database_url(entry: EncryptedColumns, env: Mapping[str, str]) -> str | None:
    url = env.get(entry.database_url_env)
    if url:
        return url
    with _lock:
        resolvers = list(_resolvers)
    for resolver in resolvers:
        url = resolver(entry.database_url_env)
        if url:
            return url
    return None


@contextlib.contextmanager
def isolated_registry():
    """Tests only: an empty registry inside the block, the previous one restored after (the
    services' import-time registrations are not lost for later tests)."""
    with _lock:
        saved = (dict(_registry), list(_resolvers))
        _registry.clear()
        _resolvers.clear()
    try:
        yield
    finally:
        with _lock:
            _registry.clear()
            _registry.update(saved[0])
            _resolvers[:] = saved[1]


def unregister_all() -> None:
    """Forget every registration and resolver (tests only)."""
    with _lock:
        _registry.clear()
        _resolvers.clear()
