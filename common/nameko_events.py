"""Event handlers that deduplicate (inbox) and dead-letter poison messages.

nameko's default ``EventHandler`` acks and drops a message whose handler raised. Ours requeues
it once (after a short pause, to ride out a blip) and on a second failure rejects it without
requeue, so RabbitMQ's dead-letter policy for ``evt-*`` queues moves it to the dead-letter queue
where an operator can inspect and replay it. Nothing is silently lost.
"""

from __future__ import annotations

import functools
import logging

import eventlet
from nameko.events import EventHandler

from common.erasure import admit, is_item_removed
from common.errors import ValidationFailed
from common.events import EventEnvelope
from common.inbox import claim
from common.logging import request_id_var, user_id_var
from common.schemas import validate_or_raise

log = logging.getLogger(__name__)
_ENVELOPE = EventEnvelope()


class DeadLetteringEventHandler(EventHandler):
    retry_pause = 1.0

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is None:
            try:
                self.queue_consumer.ack_message(message)
            except Exception as exc:  # noqa: BLE001 - never let a lost ack kill the container
                # the broker went away between the effect's commit and the ack: it redelivers
                # the message once it is back, and the inbox makes that a no-op. Raising here
                # would stop the whole service container.
                log.warning("event ack lost (%s); the broker will redeliver it", type(exc).__name__)
            return
        if not message.channel.connection:
            return  # the broker already reclaimed it
        try:
            if message.delivery_info.get("redelivered"):
                log.error(
                    "event handler failed twice; dead-lettering", extra={"outcome": "dead_letter"}
                )
                message.reject(requeue=False)
            else:
                eventlet.sleep(self.retry_pause)
                message.requeue()
        except ConnectionError:  # pragma: no cover
            pass


def handles(source: str, event_type: str, *, inbox_model=None):
    """Decorate a service method ``(self, session, event)`` as an exactly-once event handler.

    The service must have ``db`` (:class:`common.nameko_deps.Database`). The envelope is
    validated; the inbox claim and the handler's effect commit in one transaction. A service
    with an ``erased_model`` (:mod:`common.erasure`) ignores events about an erased user.
    """

    def decorate(method):
        handler_name = f"{method.__qualname__}"

        @functools.wraps(method)
        def wrapper(self, payload):
            try:
                event = validate_or_raise(_ENVELOPE, payload)
            except ValidationFailed as exc:
                log.error("malformed %s.%s event dropped to DLQ: %s", source, event_type, exc.extra)
                raise
            request_id_var.set(event.get("request_id"))
            user_id_var.set(event.get("user_id"))
            model = inbox_model or self.inbox_model
            with self.db.transaction() as session:
                if not claim(session, model, handler=handler_name, event_id=event["event_id"]):
                    log.info("event %s already processed by %s", event["event_id"], handler_name)
                    return None
                erased = getattr(self, "erased_model", None)
                if erased is not None and not admit(session, erased, event.get("user_id")):
                    log.info("event %s is about an erased user; ignored", event["event_id"])
                    return None
                # (item_removed itself passes: the tombstone is written by its own handler)
                removed = getattr(self, "removed_items_model", None)
                item_id = (event.get("data") or {}).get("item_id")
                if removed is not None and is_item_removed(
                    session, removed, event.get("user_id"), item_id
                ):
                    log.info("event %s is about a disconnected bank; ignored", event["event_id"])
                    return None
                return method(self, session, event)

        return DeadLetteringEventHandler.decorator(source, event_type)(wrapper)

    return decorate
