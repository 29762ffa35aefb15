"""Event names and the envelope every event travels in.

An event is published to the topic exchange ``<source>.events`` with the event type as routing
key (nameko's convention), and its body is the envelope below, plain JSON only. Payload schemas
per event type live next to the names so producer and consumer validate the same shape.
"""

from __future__ import annotations

from marshmallow import fields, validate

from common.schemas import StrictSchema, UTCDateTime

# source service -> event types it emits (the broker topology and docs are generated from this)
EMITS: dict[str, tuple[str, ...]] = {
    "users": (
        "user_registered",
        "user_deleted",
        "password_changed",
        "password_reset_requested",
        "mfa_changed",
        "security_event",
        "risk_profile_updated",
    ),
    "aggregation": (
        "transactions_synced",
        "balances_updated",
        "holdings_synced",
        "item_error",
        "item_removed",
    ),
    "transactions": ("transactions_categorized", "transaction_flagged", "budget_threshold"),
    "portfolio": ("tlh_opportunity", "drift_detected"),
    "recommender": ("advice_created",),
    "notifier": ("notification_sent",),
}


class EventEnvelope(StrictSchema):
    event_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    event_type = fields.String(required=True, validate=validate.Length(min=1, max=80))
    source = fields.String(required=True, validate=validate.OneOf(list(EMITS)))
    occurred_at = UTCDateTime(required=True)
    request_id = fields.String(load_default=None, allow_none=True)
    user_id = fields.String(load_default=None, allow_none=True)
    data = fields.Dict(required=True)


def is_known(source: str, event_type: str) -> bool:
    return event_type in EMITS.get(source, ())
