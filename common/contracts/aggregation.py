"""Payloads of the events the aggregation service emits (the envelope's ``data``).

Consumers: ``transactions`` (transactions_synced), ``portfolio`` (balances_updated,
holdings_synced), ``notifier``/``recommender`` (item_error), ``transactions`` and ``portfolio``
(item_removed). Load with these schemas on both
sides; unknown fields raise.

Conventions:
- Money is a decimal string (``"12.34"``); load gives ``Decimal``.
- **Sign: ``amount`` is Plaid's, unchanged: positive = money leaves the account (a purchase,
  a fee, a transfer out), negative = money comes in (salary, refund).** File imports are
  converted into this convention before they are emitted, so every consumer sees one sign.
- ``account_id`` is the provider's account id (Plaid's ``account_id``; ``file:…`` style ids for
  imports); ``transaction_id`` is stable: re-syncs and re-imports reuse it.
- transactions_synced: one sync of one item may be cut into several events of at most 500
  transactions each (``chunk`` of ``chunks``), all written in one database transaction with the
  new cursor. Within one sync (same ``sync_id``) a transaction id appears once, so chunks can
  be applied in any order; ``sequence`` grows by one per sync of the item, so a consumer can
  order syncs. Apply ``added``/``modified`` as upserts by ``transaction_id`` and ``removed`` as
  deletes (deleting an unknown id is a no-op).
"""

from __future__ import annotations

from marshmallow import ValidationError as MmValidationError
from marshmallow import fields, validate, validates_schema

from common.schemas import Money, StrictSchema, UTCDateTime

ID = {"required": True, "validate": validate.Length(min=1, max=255)}
CURRENCY = {"load_default": None, "allow_none": True, "validate": validate.Length(max=16)}


class SyncedTransaction(StrictSchema):
    transaction_id = fields.String(**ID)
    account_id = fields.String(**ID)
    amount = Money(required=True)
    iso_currency_code = fields.String(**CURRENCY)
    unofficial_currency_code = fields.String(**CURRENCY)
    date = fields.Date(required=True)
    authorized_date = fields.Date(load_default=None, allow_none=True)
    name = fields.String(required=True, validate=validate.Length(max=1000))
    merchant_name = fields.String(load_default=None, allow_none=True)
    original_description = fields.String(load_default=None, allow_none=True)
    pending = fields.Boolean(required=True)
    pending_transaction_id = fields.String(load_default=None, allow_none=True)
    payment_channel = fields.String(load_default=None, allow_none=True)


class RemovedTransaction(StrictSchema):
    transaction_id = fields.String(**ID)
    account_id = fields.String(load_default=None, allow_none=True)


class AccountRef(StrictSchema):
    account_id = fields.String(**ID)
    name = fields.String(required=True)
    mask = fields.String(load_default=None, allow_none=True)
    type = fields.String(required=True)
    subtype = fields.String(load_default=None, allow_none=True)
    iso_currency_code = fields.String(**CURRENCY)


class TransactionsSynced(StrictSchema):
    user_id = fields.String(**ID)
    item_id = fields.String(**ID)
    provider = fields.String(required=True, validate=validate.OneOf(["plaid", "file"]))
    sync_id = fields.String(**ID)
    sequence = fields.Integer(required=True, validate=validate.Range(min=1))
    chunk = fields.Integer(required=True, validate=validate.Range(min=1))
    chunks = fields.Integer(required=True, validate=validate.Range(min=1))
    accounts = fields.List(fields.Nested(AccountRef), required=True)
    added = fields.List(fields.Nested(SyncedTransaction), required=True)
    modified = fields.List(fields.Nested(SyncedTransaction), required=True)
    removed = fields.List(fields.Nested(RemovedTransaction), required=True)


class AccountBalance(StrictSchema):
    account_id = fields.String(**ID)
    type = fields.String(required=True)
    subtype = fields.String(load_default=None, allow_none=True)
    name = fields.String(required=True)
    mask = fields.String(load_default=None, allow_none=True)
    current = Money(load_default=None, allow_none=True)
    available = Money(load_default=None, allow_none=True)
    limit = Money(load_default=None, allow_none=True)
    iso_currency_code = fields.String(**CURRENCY)


class BalancesUpdated(StrictSchema):
    user_id = fields.String(**ID)
    item_id = fields.String(**ID)
    as_of = UTCDateTime(required=True)
    accounts = fields.List(fields.Nested(AccountBalance), required=True)


class Security(StrictSchema):
    security_id = fields.String(**ID)
    ticker = fields.String(load_default=None, allow_none=True)
    name = fields.String(load_default=None, allow_none=True)
    type = fields.String(load_default=None, allow_none=True)
    cusip = fields.String(load_default=None, allow_none=True)
    isin = fields.String(load_default=None, allow_none=True)
    close_price = Money(load_default=None, allow_none=True)
    close_price_as_of = fields.Date(load_default=None, allow_none=True)
    iso_currency_code = fields.String(**CURRENCY)


class Holding(StrictSchema):
    account_id = fields.String(**ID)
    security_id = fields.String(**ID)
    quantity = Money(required=True)
    cost_basis = Money(load_default=None, allow_none=True)
    institution_price = Money(load_default=None, allow_none=True)
    institution_value = Money(load_default=None, allow_none=True)
    iso_currency_code = fields.String(**CURRENCY)


class InvestmentTransaction(StrictSchema):
    investment_transaction_id = fields.String(**ID)
    account_id = fields.String(**ID)
    security_id = fields.String(load_default=None, allow_none=True)
    date = fields.Date(required=True)
    name = fields.String(required=True)
    type = fields.String(load_default=None, allow_none=True)
    subtype = fields.String(load_default=None, allow_none=True)
    quantity = Money(load_default=None, allow_none=True)
    price = Money(load_default=None, allow_none=True)
    amount = Money(load_default=None, allow_none=True)
    fees = Money(load_default=None, allow_none=True)
    iso_currency_code = fields.String(**CURRENCY)


class HoldingsSynced(StrictSchema):
    user_id = fields.String(**ID)
    item_id = fields.String(**ID)
    as_of = UTCDateTime(required=True)
    accounts = fields.List(fields.Nested(AccountBalance), required=True)
    securities = fields.List(fields.Nested(Security), required=True)
    holdings = fields.List(fields.Nested(Holding), required=True)
    investment_transactions = fields.List(fields.Nested(InvestmentTransaction), required=True)


class ItemError(StrictSchema):
    user_id = fields.String(**ID)
    item_id = fields.String(**ID)
    status = fields.String(required=True, validate=validate.OneOf(["login_required", "error"]))
    error_code = fields.String(**ID)
    display_message = fields.String(load_default=None, allow_none=True)


class ItemRemoved(StrictSchema):
    """The user disconnected a bank: drop what came from these (provider) accounts."""

    user_id = fields.String(**ID)
    item_id = fields.String(**ID)
    account_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=255)), required=True
    )


SCHEMAS = {
    "transactions_synced": TransactionsSynced,
    "balances_updated": BalancesUpdated,
    "holdings_synced": HoldingsSynced,
    "item_error": ItemError,
    "item_removed": ItemRemoved,
}


def dump_event(event_type: str, data: dict) -> dict:
    """Validate ``data`` (Python values) and return the plain-JSON payload for the outbox."""
    schema = SCHEMAS[event_type]()
    plain = schema.dump(data)
    errors = schema.validate(plain)
    if errors:
        raise ValueError(f"invalid {event_type} payload: {errors}")
    return plain


def load_event(event_type: str, data: dict) -> dict:
    """Consumers: the payload as Python values (Decimal, date); raises ValidationError."""
    return SCHEMAS[event_type]().load(data)


# --- RPC request shapes shared by the aggregation service and the gateway -------------------
class MappingIn(StrictSchema):
    """Column names of a CSV the importer does not recognise by its header (import_file)."""

    date = fields.String(required=True, validate=validate.Length(min=1, max=100))
    description = fields.String(required=True, validate=validate.Length(min=1, max=100))
    amount = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    debit = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    credit = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    currency = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    date_format = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=2, max=40)
    )
    amount_sign = fields.String(
        load_default="negative_is_out",
        validate=validate.OneOf(["negative_is_out", "positive_is_out"]),
    )

    @validates_schema
    def _one_amount_style(self, data, **kwargs):
        if bool(data.get("amount")) == bool(data.get("debit") or data.get("credit")):
            raise MmValidationError("map either amount, or debit and/or credit", "amount")
