"""Rewrap the encrypted columns of one database table, in batches, without downtime.

Each batch is one transaction:

    SELECT pk, c1, c2 FROM t
     WHERE (c1 LIKE 'ne1.<provider>.%' AND c1 NOT LIKE 'ne1.<provider>.<latest>.%') OR (...)
     ORDER BY pk LIMIT :n FOR UPDATE SKIP LOCKED
    UPDATE t SET c1 = :rewrapped ... WHERE pk = :pk      -- per row, then COMMIT

so application writes are only blocked for the rows of the batch in flight, two rewrap jobs can
run side by side without stepping on each other, and a crash loses at most one uncommitted
batch. Rows already at the latest version never match the WHERE clause: the job is idempotent
and resumable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Engine, and_, column, func, not_, or_, select, table, update
from sqlalchemy.orm import Session

from common.crypto.context import CipherContext
from common.crypto.errors import DecryptionError
from common.crypto.rotation import RewrapTarget


class SqlAlchemyRewrapSource:
    def __init__(
        self,
        bind: Engine | Session,
        table_name: str,
        pk: str,
        columns: Sequence[str],
        *,
        schema: str | None = None,
    ) -> None:
        if isinstance(columns, str) or not columns:
            raise ValueError("columns must be a non-empty list of column names")
        # Reuse the cell validation: identifiers only, so nothing odd reaches the SQL.
        CipherContext(
            table=table_name if schema is None else f"{schema}.{table_name}", column=pk, row_id="x"
        )
        for name in columns:
            CipherContext(table=table_name, column=name, row_id="x")
        if pk in columns:
            raise ValueError("the primary key cannot be an encrypted column")
        self.engine: Engine = bind.get_bind() if isinstance(bind, Session) else bind
        self.pk_name = pk
        self.column_names = tuple(columns)
        self.table = table(table_name, column(pk), *(column(c) for c in columns), schema=schema)
        qualified = f"{schema}.{table_name}" if schema else table_name
        self.name = f"{qualified}({', '.join(self.column_names)})"

    def _stale_condition(self, target: RewrapTarget, name: str):
        col = self.table.c[name]
        return and_(
            col.startswith(target.provider_prefix, autoescape=True),
            not_(col.startswith(target.current_prefix, autoescape=True)),
        )

    def _any_stale(self, target: RewrapTarget):
        return or_(*(self._stale_condition(target, c) for c in self.column_names))

    def rewrap_batch(self, rewrap: Callable[[str], str], target: RewrapTarget, limit: int) -> int:
        pk = self.table.c[self.pk_name]
        query = (
            select(pk, *(self.table.c[c] for c in self.column_names))
            .where(self._any_stale(target))
            .order_by(pk)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rewritten = 0
        with self.engine.begin() as conn:
            for row in conn.execute(query).mappings().all():
                values = {}
                for name in self.column_names:
                    token = row[name]
                    if target.is_stale(token):
                        try:
                            values[name] = rewrap(token)
                        except DecryptionError as exc:
                            raise DecryptionError(
                                f"{self.name} row {row[self.pk_name]} column {name}: {exc}"
                            ) from exc
                if values:
                    conn.execute(update(self.table).where(pk == row[self.pk_name]).values(**values))
                    rewritten += len(values)
        return rewritten

    def count_stale(self, target: RewrapTarget) -> int:
        total = 0
        with self.engine.connect() as conn:
            for name in self.column_names:
                query = (
                    select(func.count())
                    .select_from(self.table)
                    .where(self._stale_condition(target, name))
                )
                total += conn.execute(query).scalar_one()
        return total

    def count_by_state(self, target: RewrapTarget) -> dict[str, dict[str, int]]:
        """Per column: tokens at the latest version, stale ones, other values, NULLs."""
        result = {}
        with self.engine.connect() as conn:
            for name in self.column_names:
                col = self.table.c[name]
                current = col.startswith(target.current_prefix, autoescape=True)
                ours = col.startswith(target.provider_prefix, autoescape=True)
                row = conn.execute(
                    select(
                        func.count().filter(current),
                        func.count().filter(and_(ours, not_(current))),
                        func.count().filter(and_(col.is_not(None), not_(ours))),
                        func.count().filter(col.is_(None)),
                    ).select_from(self.table)
                ).one()
                result[name] = dict(zip(("current", "stale", "other", "null"), row, strict=True))
        return result
