"""marshmallow schemas for the transactions RPC boundary (unknown fields are refused).

Results are plain JSON values made by :func:`plain`: Decimal -> decimal string with at least two
places (sign: negative = money out), date -> ``YYYY-MM-DD``, datetime -> UTC ISO-8601 with ``Z``.
"""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from common.schemas import Money, StrictSchema, UTCDateTime
from transactions.pagination import DEFAULT_LIMIT, MAX_LIMIT, SORTS

CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="Use a 3-letter ISO 4217 code.")
SHORT_ID = validate.Length(min=1, max=100)
TAGS = fields.List(
    fields.String(validate=validate.Length(min=1, max=40)), validate=validate.Length(max=20)
)


class _Range(StrictSchema):
    @validates_schema
    def _ordered(self, data, **kwargs):
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise ValidationError("start must not be after end", "start")
        low, high = data.get("min_amount"), data.get("max_amount")
        if low is not None and high is not None and low > high:
            raise ValidationError("min_amount must not exceed max_amount", "min_amount")


class TransactionFilters(_Range):
    start = fields.Date()
    end = fields.Date()
    account_id = fields.String(validate=SHORT_ID)
    category = fields.String(validate=validate.Length(min=1, max=96))
    min_amount = Money(places=4)
    max_amount = Money(places=4)
    pending = fields.Boolean()
    q = fields.String(validate=validate.Length(min=1, max=100))
    include_hidden = fields.Boolean(load_default=False)
    flagged = fields.Boolean()


class ListTransactionsIn(TransactionFilters):
    sort = fields.String(load_default="date_desc", validate=validate.OneOf(SORTS))
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT, strict=True, validate=validate.Range(1, MAX_LIMIT)
    )
    cursor = fields.String(validate=validate.Length(min=1, max=512))


class TransactionPatch(StrictSchema):
    category = fields.String(allow_none=True, validate=validate.Length(min=1, max=96))
    notes = fields.String(allow_none=True, validate=validate.Length(max=2000))
    tags = TAGS
    hidden = fields.Boolean()


class SplitPart(StrictSchema):
    amount = Money(places=4, required=True)
    category = fields.String(required=True, validate=validate.Length(min=1, max=96))


class SplitIn(StrictSchema):
    parts = fields.List(fields.Nested(SplitPart), required=True)


class ManualTransactionIn(StrictSchema):
    account_id = fields.String(required=True, validate=SHORT_ID)
    amount = Money(places=4, required=True)
    currency = fields.String(load_default="USD", validate=CURRENCY)
    date = fields.Date(required=True)
    description = fields.String(required=True, validate=validate.Length(min=1, max=200))
    merchant_name = fields.String(allow_none=True, validate=validate.Length(max=120))
    category = fields.String(allow_none=True, validate=validate.Length(min=1, max=96))
    notes = fields.String(allow_none=True, validate=validate.Length(max=2000))
    tags = TAGS
    occurred_at = UTCDateTime(allow_none=True)


class SuggestCategoryIn(StrictSchema):
    """A transaction the user is about to enter (or a bank line), to be categorised."""

    description = fields.String(required=True, validate=validate.Length(min=1, max=200))
    amount = Money(places=4, required=True)
    merchant_name = fields.String(allow_none=True, validate=validate.Length(max=120))
    account_id = fields.String(allow_none=True, validate=SHORT_ID)
    payment_channel = fields.String(
        load_default="other", validate=validate.OneOf(["online", "in store", "other"])
    )


class BudgetIn(StrictSchema):
    category = fields.String(required=True, validate=validate.Length(min=1, max=96))
    amount = Money(places=4, required=True)
    currency = fields.String(load_default="USD", validate=CURRENCY)
    rollover = fields.Boolean(load_default=False)
    start_month = fields.Date()


class BudgetPatch(StrictSchema):
    amount = Money(places=4)
    rollover = fields.Boolean()


class BudgetProgressIn(StrictSchema):
    month = fields.Date()


class CashflowIn(StrictSchema):
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    group_by = fields.String(load_default="month", validate=validate.OneOf(("month", "category")))


class RecurringIn(StrictSchema):
    as_of = fields.Date()


class RuleIn(StrictSchema):
    """A categorisation rule: the detailed category it sets and at least one condition (the
    business checks are in transactions/user_rules.py, for creation and PATCH alike)."""

    category = fields.String(required=True, validate=validate.Length(min=1, max=96))
    description_contains = fields.String(allow_none=True, validate=validate.Length(max=200))
    merchant_contains = fields.String(allow_none=True, validate=validate.Length(max=200))
    amount_min = Money(places=4, allow_none=True)
    amount_max = Money(places=4, allow_none=True)
    account_ids = fields.List(
        fields.String(validate=SHORT_ID), allow_none=True, validate=validate.Length(max=20)
    )
    direction = fields.String(allow_none=True, validate=validate.OneOf(("in", "out")))


class RuleOrderIn(StrictSchema):
    rule_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=36)),
        required=True,
        validate=validate.Length(max=250),
    )


class RulePreviewIn(StrictSchema):
    limit = fields.Integer(load_default=50, strict=True, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, strict=True, validate=validate.Range(0, 1_000_000))
    include_manual = fields.Boolean(load_default=False)


class RuleApplyIn(StrictSchema):
    include_manual = fields.Boolean(load_default=False)


# -- events ------------------------------------------------------------------------------------


class _ProviderTransaction(fields.Dict):
    """A Plaid transaction dict; its fields are checked by transactions.ledger.from_provider."""


class TransactionsSyncedData(StrictSchema):
    """``aggregation.transactions_synced`` (validated again here: never trust a producer)."""

    class Meta:
        unknown = "exclude"

    user_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    item_id = fields.String(load_default=None, allow_none=True, validate=SHORT_ID)
    added = fields.List(_ProviderTransaction(), load_default=list)
    modified = fields.List(_ProviderTransaction(), load_default=list)
    removed = fields.List(fields.Dict(), load_default=list)
