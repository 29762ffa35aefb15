"""Inbox: handlers record processed event ids and skip repeats (exactly-once effects)."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session


def claim(session: Session, model, *, handler: str, event_id: str) -> bool:
    """Mark ``event_id`` processed by ``handler`` in the current transaction.

    Returns False when it was processed before; the caller then does nothing. Because the mark
    and the handler's effect commit together, a crash between them redoes both.
    """
    result = session.execute(
        insert(model)
        .values(handler=handler, event_id=event_id)
        .on_conflict_do_nothing()
        .returning(model.event_id)
    )
    return result.first() is not None
