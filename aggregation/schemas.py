"""marshmallow schemas of the aggregation RPCs (requests in, results out)."""

from __future__ import annotations

from marshmallow import fields, validate

from common.contracts.aggregation import MappingIn
from common.schemas import Money, StrictSchema, UTCDateTime

ITEM_ID = validate.Length(min=1, max=64)


class LinkTokenIn(StrictSchema):
    item_id = fields.String(load_default=None, allow_none=True, validate=ITEM_ID)


class LinkTokenOut(StrictSchema):
    link_token = fields.String(required=True)
    expiration = fields.String(required=True)
    update_mode = fields.Boolean(required=True)


class SandboxPublicTokenIn(StrictSchema):
    institution_id = fields.String(required=True, validate=validate.Regexp(r"^ins_[0-9]{1,12}$"))
    username = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    password = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))


class PublicTokenOut(StrictSchema):
    public_token = fields.String(required=True)


class ExchangeIn(StrictSchema):
    public_token = fields.String(required=True, validate=validate.Length(min=1, max=256))


class ItemRef(StrictSchema):
    item_id = fields.String(required=True, validate=ITEM_ID)


class WebhookIn(StrictSchema):
    headers = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    body = fields.String(required=True, validate=validate.Length(max=1_048_576))


class ImportIn(StrictSchema):
    filename = fields.String(required=True, validate=validate.Length(min=1, max=255))
    # base64 of at most 5 MB
    content_base64 = fields.String(required=True, validate=validate.Length(min=1, max=7_000_000))
    format = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(["csv", "ofx", "qfx"])
    )
    account_name = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=100)
    )
    mapping = fields.Nested(MappingIn, load_default=None, allow_none=True)


class HealthOut(StrictSchema):
    status = fields.String(required=True)
    last_synced_at = UTCDateTime(allow_none=True)
    last_attempt_at = UTCDateTime(allow_none=True)
    last_sync_ms = fields.Integer(allow_none=True)
    last_error = fields.Dict(allow_none=True)
    transactions_last_sync = fields.Integer()
    transactions_total = fields.Integer()
    stale = fields.Boolean()


class AccountOut(StrictSchema):
    account_id = fields.String(required=True)
    item_id = fields.String(required=True)
    name = fields.String(required=True)
    official_name = fields.String(allow_none=True)
    mask = fields.String(allow_none=True)
    type = fields.String(required=True)
    subtype = fields.String(allow_none=True)
    iso_currency_code = fields.String(allow_none=True)
    current = Money(allow_none=True)
    available = Money(allow_none=True)
    limit = Money(allow_none=True)
    balance_as_of = UTCDateTime(allow_none=True)


class ItemOut(StrictSchema):
    item_id = fields.String(required=True)
    provider = fields.String(required=True)
    institution_id = fields.String(allow_none=True)
    institution_name = fields.String(allow_none=True)
    status = fields.String(required=True)
    created_at = UTCDateTime(allow_none=True)
    health = fields.Nested(HealthOut, required=True)
    accounts = fields.List(fields.Nested(AccountOut))


class SyncOut(StrictSchema):
    item_id = fields.String(required=True)
    status = fields.String(required=True)
    added = fields.Integer()
    modified = fields.Integer()
    removed = fields.Integer()
    events = fields.Integer()
    pages = fields.Integer()
    restarts = fields.Integer()
    latency_ms = fields.Integer()
    error_code = fields.String(allow_none=True)


class ImportOut(StrictSchema):
    item_id = fields.String(required=True)
    format = fields.String(required=True)
    accounts = fields.List(fields.Dict(), required=True)
    rows = fields.Integer(required=True)
    added = fields.Integer(required=True)
    duplicates = fields.Integer(required=True)
