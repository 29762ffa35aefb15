"""Erasing one user from a service's own database (account deletion), and keeping them erased.

When the users service deletes an account it emits ``user_deleted``; every service that holds
the user's data handles it with :func:`erase_user`: each table of the service's declarative base
that has a ``user_id`` column loses that user's rows (children before parents), the user's
events still in the outbox are dropped, and a tombstone row goes into ``erased_users``. The
tombstone is only the random user id and the time: :func:`common.nameko_events.handles` checks
it so an event about the user that was already in flight (a sync page, a holdings update) cannot
bring their data back after the erasure. Disconnecting one bank leaves a tombstone of its item
id (``removed_items``) for the same reason: a sync page of that item still in flight is ignored.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, String, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Mapped, Session, mapped_column

ERASED_TABLE = "erased_users"
REMOVED_ITEMS_TABLE = "removed_items"
KEEP = frozenset({"inbox", ERASED_TABLE})


def erased_users_table(Base):
    """The tombstone model on a service's base; call once in its ``models.py``."""

    class ErasedUser(Base):
        __tablename__ = ERASED_TABLE

        user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
        erased_at: Mapped[dt.datetime] = mapped_column(
            DateTime(timezone=True), server_default=func.now(), nullable=False
        )

    return ErasedUser


def removed_items_table(Base):
    """Tombstones of disconnected banks (``item_removed``); call once in ``models.py``."""

    class RemovedItem(Base):
        __tablename__ = REMOVED_ITEMS_TABLE

        user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
        item_id: Mapped[str] = mapped_column(String(255), primary_key=True)
        removed_at: Mapped[dt.datetime] = mapped_column(
            DateTime(timezone=True), server_default=func.now(), nullable=False
        )

    return RemovedItem


def forget_item(session: Session, removed_model, user_id: str, item_id: str) -> None:
    """Record that the user disconnected ``item_id``: later events about it are ignored.

    Takes the user's advisory lock exclusively, like :func:`erase_user`, so a sync page of the
    item that was admitted at the same moment commits first (and the caller's deletes that
    follow see its rows), or starts after this commits and finds the tombstone.
    """
    session.execute(select(func.pg_advisory_xact_lock(_user_lock(user_id))))
    session.execute(
        insert(removed_model).values(user_id=user_id, item_id=item_id).on_conflict_do_nothing()
    )


def is_item_removed(session: Session, removed_model, user_id: str | None, item_id) -> bool:
    if not user_id or not isinstance(item_id, str) or not item_id:
        return False
    found = session.execute(
        select(removed_model.item_id).where(
            removed_model.user_id == user_id, removed_model.item_id == item_id
        )
    )
    return found.first() is not None


def erase_user(session: Session, Base, erased_model, user_id: str) -> dict[str, int]:  # noqa: N803
    """Delete every row of ``user_id`` in the service's tables; returns rows deleted per table."""
    if not isinstance(user_id, str) or not user_id:
        raise ValueError("user_id is required")
    counts: dict[str, int] = {}
    session.execute(select(func.pg_advisory_xact_lock(_user_lock(user_id))))  # see admit()
    for table in reversed(Base.metadata.sorted_tables):
        if table.name in KEEP:
            continue
        if table.name == "outbox":
            statement = delete(table).where(table.c.payload["user_id"].as_string() == user_id)
        elif "user_id" in table.c:
            statement = delete(table).where(table.c.user_id == user_id)
        else:
            continue
        counts[table.name] = session.execute(statement).rowcount or 0
    session.execute(insert(erased_model).values(user_id=user_id).on_conflict_do_nothing())
    return counts


def user_rows(session: Session, Base, user_id: str) -> dict[str, list[dict]]:  # noqa: N803
    """Every row of ``user_id`` in the service's tables, column by column (for account export
    from services whose tables hold no ciphertext; others export through their API views)."""
    out: dict[str, list[dict]] = {}
    for table in Base.metadata.sorted_tables:
        if table.name in KEEP or table.name == "outbox" or "user_id" not in table.c:
            continue
        rows = session.execute(select(table).where(table.c.user_id == user_id)).mappings()
        out[table.name] = [{k: v for k, v in row.items() if k != "user_id"} for row in rows]
    return out


def _user_lock(user_id: str):
    return func.hashtext(f"nestegg-user:{user_id}")


def is_erased(session: Session, erased_model, user_id: str | None) -> bool:
    if not user_id:
        return False
    found = session.execute(select(erased_model.user_id).where(erased_model.user_id == user_id))
    return found.first() is not None


def admit(session: Session, erased_model, user_id: str | None) -> bool:
    """May this transaction write data of ``user_id``? False once they are erased.

    Takes the user's advisory lock in shared mode until the transaction ends; ``erase_user``
    takes it exclusively. So a writer admitted here commits before the erasure's deletes run
    (which then see and delete its rows), or starts after the erasure committed and finds the
    tombstone: an event handled at the same moment as ``user_deleted`` cannot leave data behind.
    """
    if not user_id:
        return True
    session.execute(select(func.pg_advisory_xact_lock_shared(_user_lock(user_id))))
    return not is_erased(session, erased_model, user_id)
