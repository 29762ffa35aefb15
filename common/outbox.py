"""Transactional outbox: events are rows written with the business change, then relayed.

``record`` adds the row inside the caller's transaction. ``OutboxRelay.relay_pending`` takes
pending rows with ``FOR UPDATE SKIP LOCKED`` (several service instances can relay at once),
publishes each with publisher confirms and ``mandatory=True`` (an unroutable event is an error,
not a silent drop), and marks it published in the same database transaction. Delivery is
at-least-once; consumers deduplicate with the inbox (:mod:`common.inbox`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from common.db import new_id, transaction, utcnow
from common.events import EventEnvelope, is_known
from common.logging import request_id_var, user_id_var

log = logging.getLogger(__name__)
_ENVELOPE = EventEnvelope()


class Unroutable(Exception):
    """The broker returned the message: no queue is bound for this event type."""


def record(
    session: Session, model, *, source: str, event_type: str, data: dict, user_id: str | None = None
) -> str:
    """Write one event row in the current transaction; returns the event id."""
    if not is_known(source, event_type):
        raise ValueError(f"{source} does not emit {event_type!r}; add it to common.events.EMITS")
    event_id = new_id()
    envelope = {
        "event_id": event_id,
        "event_type": event_type,
        "source": source,
        "occurred_at": utcnow(),
        "request_id": request_id_var.get(),
        "user_id": user_id if user_id is not None else user_id_var.get(),
        "data": data,
    }
    payload = _ENVELOPE.dump(_ENVELOPE.load(_ENVELOPE.dump(envelope)))  # validate + plain JSON
    session.add(
        model(id=event_id, source=source, event_type=event_type, payload=payload, attempts=0)
    )
    return event_id


PublishFn = Callable[[str, str, dict], None]  # (source, event_type, payload)


class OutboxRelay:
    def __init__(
        self, session_factory: sessionmaker, model, publish: PublishFn, *, batch: int = 100
    ):
        self.session_factory = session_factory
        self.model = model
        self.publish = publish
        self.batch = batch

    def _due(self):
        """Back off rows that failed before: attempt n is due n² seconds after creation, so a
        long-unroutable event is retried ever less often instead of on every sweep."""
        return (
            self.model.created_at
            + func.make_interval(0, 0, 0, 0, 0, 0, self.model.attempts * self.model.attempts)
            <= func.now()
        )

    def relay_pending(self, max_batches: int = 50) -> int:
        """Publish pending events in creation order; returns how many were published."""
        published = 0
        for _ in range(max_batches):
            with transaction(self.session_factory) as session:
                rows = (
                    session.execute(
                        select(self.model)
                        .where(self.model.published_at.is_(None))
                        .where(self._due())
                        .order_by(self.model.created_at, self.model.id)
                        .limit(self.batch)
                        .with_for_update(skip_locked=True)
                    )
                    .scalars()
                    .all()
                )
                if not rows:
                    return published
                stop = False
                for row in rows:
                    try:
                        self.publish(row.source, row.event_type, row.payload)
                    except Unroutable as exc:
                        row.attempts += 1
                        row.last_error = f"unroutable: {exc}"[:500]
                        if row.attempts & (row.attempts - 1) == 0:  # 1, 2, 4, 8...: no log flood
                            log.error(
                                "event %s (%s) is unroutable: no queue is bound; kept for "
                                "retry (attempt %d)",
                                row.id,
                                row.event_type,
                                row.attempts,
                            )
                        continue
                    except Exception as exc:  # broker down: keep the row, try again later
                        row.attempts += 1
                        row.last_error = f"{type(exc).__name__}: {exc}"[:500]
                        log.warning("outbox relay stopped: %s", type(exc).__name__)
                        stop = True
                        break
                    row.published_at = utcnow()
                    published += 1
                if stop or len(rows) < self.batch:
                    return published
        return published


def purge_published(session_factory: sessionmaker, model, *, older_than_seconds: float) -> int:
    """Delete events published more than ``older_than_seconds`` ago; returns how many.

    A published row has done its job (consumers deduplicate on the event id in their own
    inbox), and its payload can hold personal data (a ``transactions_synced`` page carries bank
    descriptions), so it is not kept at rest longer than the retention. Pending rows stay.
    """
    cutoff = func.now() - func.make_interval(0, 0, 0, 0, 0, 0, older_than_seconds)
    with transaction(session_factory) as session:
        result = session.execute(
            delete(model).where(model.published_at.is_not(None), model.published_at < cutoff)
        )
    return result.rowcount or 0


def kombu_publisher(amqp_uri: str) -> PublishFn:
    """Publish to ``<source>.events`` with confirms, persistence and ``mandatory``."""
    from nameko.amqp.publish import Publisher, UndeliverableMessage
    from nameko.events import get_event_exchange

    publisher = Publisher(amqp_uri, use_confirms=True, mandatory=True, serializer="json")

    def publish(source: str, event_type: str, payload: dict) -> None:
        try:
            publisher.publish(
                payload,
                exchange=get_event_exchange(source, {"DECLARE_EVENT_EXCHANGES": False}),
                routing_key=event_type,
                headers={"nameko.request_id": payload.get("request_id") or ""},
            )
        except UndeliverableMessage as exc:
            raise Unroutable(event_type) from exc

    return publish
