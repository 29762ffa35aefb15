"""Request/response schemas of the accounts routes (aggregation service), and the field types
every domain route schema shares.

Requests are strict (unknown fields -> 422 here, and again in the service). What a request
schema loads is plain JSON (decimal *strings*, ISO dates as text), because RPC arguments must
be plain JSON values (DESIGN.md): :class:`DecimalText` checks an amount like
``common.schemas.Money`` and forwards it as a string, :class:`DateText` checks a calendar
date and forwards ``YYYY-MM-DD``. Business rules (bounds, sums, future dates) stay in the
services, which answer ``ValidationFailed`` -> 422 with the field that is wrong.

Response schemas document the services' results; the services already dump plain JSON, so
money stays the decimal string the service wrote (``"100.00"``).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping

import marshmallow as ma
from marshmallow import fields, validate

from common.contracts.aggregation import MappingIn
from common.schemas import Money, StrictSchema

ID = validate.Length(min=1, max=64)
DECIMAL_DOC = {"type": "string", "format": "decimal", "example": "1234.56"}


# --- shared field types ----------------------------------------------------------------------
class DecimalText(Money):
    """An amount in (decimal string, integer, or an exact JSON number the gateway parsed as
    Decimal; never a float), forwarded as a decimal string."""

    def __init__(self, **kwargs):
        metadata = {**DECIMAL_DOC, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        amount: decimal.Decimal = super()._deserialize(value, attr, data, **kwargs)
        return format(amount, "f")


class DateText(fields.Date):
    """A real calendar date (``2025-02-30`` is refused), forwarded as ``YYYY-MM-DD``."""

    default_error_messages = {"invalid": "Not a valid date (use YYYY-MM-DD)."}

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        if isinstance(value, dt.date):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs).isoformat()


def Decimal(**kwargs) -> fields.String:  # noqa: N802 - reads like a field type in schemas
    """A decimal string in a response (the service's text is passed through unchanged)."""
    metadata = {**DECIMAL_DOC, **kwargs.pop("metadata", {})}
    return fields.String(metadata=metadata, **kwargs)


def Timestamp(**kwargs) -> fields.String:  # noqa: N802
    return fields.String(metadata={"format": "date-time"}, **kwargs)


def Day(**kwargs) -> fields.String:  # noqa: N802
    return fields.String(metadata={"format": "date"}, **kwargs)


class Out(ma.Schema):
    """A response schema: it documents the service's result in the OpenAPI spec. The service
    already dumped plain JSON at its own boundary, so nothing is serialised again: values pass
    through unchanged (a decimal string stays exactly the service's text, a field documented
    loosely can never fail or be coerced), and top-level keys the schema does not declare are
    left out, so nothing undocumented reaches a client."""

    def dump(self, obj, *, many: bool | None = None):
        many = self.many if many is None else bool(many)
        if many:
            return [self._declared_only(item) for item in obj]
        return self._declared_only(obj)

    def _declared_only(self, obj):
        if not isinstance(obj, Mapping):
            raise TypeError(f"a service result must be a JSON object, not {type(obj).__name__}")
        return {key: value for key, value in obj.items() if key in self.fields}


class StatusOut(Out):
    status = fields.String()


# --- link flow -------------------------------------------------------------------------------
class LinkTokenOut(Out):
    link_token = fields.String()
    expiration = fields.String()
    update_mode = fields.Boolean()


class SandboxPublicTokenIn(StrictSchema):
    institution_id = fields.String(
        required=True,
        validate=validate.Regexp(r"^ins_[0-9]{1,12}$"),
        metadata={"example": "ins_109508"},
    )
    username = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    password = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))


class PublicTokenOut(Out):
    public_token = fields.String()


class ExchangeIn(StrictSchema):
    public_token = fields.String(required=True, validate=validate.Length(min=1, max=256))


# --- items and accounts ----------------------------------------------------------------------
class HealthOut(Out):
    status = fields.String(metadata={"description": "healthy | login_required | error"})
    last_synced_at = Timestamp(allow_none=True)
    last_attempt_at = Timestamp(allow_none=True)
    last_sync_ms = fields.Integer(allow_none=True)
    last_error = fields.Dict(allow_none=True)
    transactions_last_sync = fields.Integer()
    transactions_total = fields.Integer()
    stale = fields.Boolean()


class AccountOut(Out):
    account_id = fields.String(
        metadata={"description": "the same id transactions, holdings, rules and goals carry"}
    )
    item_id = fields.String()
    name = fields.String()
    official_name = fields.String(allow_none=True)
    mask = fields.String(allow_none=True)
    type = fields.String()
    subtype = fields.String(allow_none=True)
    iso_currency_code = fields.String(allow_none=True)
    current = Decimal(allow_none=True)
    available = Decimal(allow_none=True)
    limit = Decimal(allow_none=True)
    balance_as_of = Timestamp(allow_none=True)


class ItemOut(Out):
    item_id = fields.String()
    provider = fields.String(metadata={"description": "plaid | file"})
    institution_id = fields.String(allow_none=True)
    institution_name = fields.String(allow_none=True)
    status = fields.String()
    created_at = Timestamp(allow_none=True)
    health = fields.Nested(HealthOut)
    accounts = fields.List(fields.Nested(AccountOut))


class ItemsOut(Out):
    items = fields.List(fields.Nested(ItemOut))


class AccountsOut(Out):
    accounts = fields.List(fields.Nested(AccountOut))


class SyncOut(Out):
    item_id = fields.String()
    status = fields.String(metadata={"description": "synced | busy | failed"})
    added = fields.Integer()
    modified = fields.Integer()
    removed = fields.Integer()
    events = fields.Integer()
    pages = fields.Integer()
    restarts = fields.Integer()
    latency_ms = fields.Integer()
    error_code = fields.String(allow_none=True)


# --- file import -----------------------------------------------------------------------------
FORMAT = validate.OneOf(["csv", "ofx", "qfx"])


class ImportJsonIn(StrictSchema):
    filename = fields.String(required=True, validate=validate.Length(min=1, max=255))
    content_base64 = fields.String(required=True, validate=validate.Length(min=1, max=7_000_000))
    format = fields.String(load_default=None, allow_none=True, validate=FORMAT)
    account_name = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=100)
    )
    mapping = fields.Nested(MappingIn, load_default=None, allow_none=True)


class ImportFormIn(StrictSchema):
    """The form fields of a ``multipart/form-data`` upload (the file itself is part ``file``;
    ``mapping`` is a JSON object in a text field)."""

    format = fields.String(load_default=None, validate=FORMAT)
    account_name = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    mapping = fields.String(
        load_default=None,
        validate=validate.Length(min=2, max=2000),
        metadata={"description": "JSON object, see MappingIn"},
    )


class ImportedAccountOut(Out):
    account_id = fields.String()
    name = fields.String()
    mask = fields.String(allow_none=True)
    transactions = fields.Integer()


class ImportOut(Out):
    item_id = fields.String()
    format = fields.String()
    accounts = fields.List(fields.Nested(ImportedAccountOut))
    rows = fields.Integer()
    added = fields.Integer()
    duplicates = fields.Integer()


class WebhookOut(Out):
    accepted = fields.Boolean()
    action = fields.String()
