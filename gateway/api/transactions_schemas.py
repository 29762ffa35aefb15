"""Request/response schemas of the transactions routes (docs/transactions.md).

Sign convention: **negative = money out, positive = money in** (the transactions service flips
Plaid's sign on ingest). Amounts are decimal strings with at most 4 places. Filters arrive as
query parameters; the service checks the rules (start before end, min ≤ max, known categories,
split sums) and answers 422 naming the field.
"""

from __future__ import annotations

from marshmallow import fields, validate

from common.schemas import StrictSchema
from gateway.api.accounts_schemas import DateText, Day, Decimal, DecimalText, Out, Timestamp

ID = validate.Length(min=1, max=100)
CATEGORY = validate.Length(min=1, max=96)
CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="Use a 3-letter ISO 4217 code.")
TAGS = fields.List(
    fields.String(validate=validate.Length(min=1, max=40)), validate=validate.Length(max=20)
)


def amount(**kwargs) -> DecimalText:
    return DecimalText(places=4, metadata={"example": "-16.00"}, **kwargs)


# --- requests --------------------------------------------------------------------------------
class FiltersQuery(StrictSchema):
    start = DateText()
    end = DateText()
    account_id = fields.String(validate=ID)
    category = fields.String(
        validate=CATEGORY, metadata={"description": "PFC v2 primary or detailed category"}
    )
    min_amount = amount()
    max_amount = amount()
    pending = fields.Boolean()
    flagged = fields.Boolean()
    include_hidden = fields.Boolean()
    q = fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "search"})


class ListQuery(FiltersQuery):
    sort = fields.String(
        metadata={"description": "date_desc (default) | date_asc | amount_desc | amount_asc"}
    )
    limit = fields.Integer(validate=validate.Range(1, 500), metadata={"description": "1..500"})
    cursor = fields.String(validate=validate.Length(min=1, max=512))


class TransactionPatchIn(StrictSchema):
    """Any transaction: category, notes, tags, hidden. Manual ones also: the other fields."""

    category = fields.String(allow_none=True, validate=CATEGORY)
    notes = fields.String(allow_none=True, validate=validate.Length(max=2000))
    tags = TAGS
    hidden = fields.Boolean()
    account_id = fields.String(validate=ID)
    amount = amount()
    currency = fields.String(validate=CURRENCY)
    date = DateText()
    description = fields.String(validate=validate.Length(min=1, max=200))
    merchant_name = fields.String(allow_none=True, validate=validate.Length(max=120))
    occurred_at = fields.String(allow_none=True, metadata={"format": "date-time"})


MANUAL_ONLY = frozenset(
    {"account_id", "amount", "currency", "date", "description", "merchant_name", "occurred_at"}
)


class ManualTransactionIn(StrictSchema):
    account_id = fields.String(required=True, validate=ID)
    amount = amount(required=True)
    currency = fields.String(validate=CURRENCY, metadata={"description": "default USD"})
    date = DateText(required=True)
    description = fields.String(required=True, validate=validate.Length(min=1, max=200))
    merchant_name = fields.String(allow_none=True, validate=validate.Length(max=120))
    category = fields.String(allow_none=True, validate=CATEGORY)
    notes = fields.String(allow_none=True, validate=validate.Length(max=2000))
    tags = TAGS
    occurred_at = fields.String(allow_none=True, metadata={"format": "date-time"})


class SplitPartIn(StrictSchema):
    amount = amount(required=True)
    category = fields.String(required=True, validate=CATEGORY)


class SplitIn(StrictSchema):
    parts = fields.List(
        fields.Nested(SplitPartIn),
        required=True,
        metadata={"description": "2..20 parts of the same sign summing to the amount; [] unsplits"},
    )


class SuggestCategoryIn(StrictSchema):
    description = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"example": "POS DEBIT BLUE BOTTLE COFFEE #0042 OAKLAND CA"},
    )
    amount = amount(required=True)
    merchant_name = fields.String(allow_none=True, validate=validate.Length(max=120))
    account_id = fields.String(allow_none=True, validate=ID)
    payment_channel = fields.String(validate=validate.OneOf(["online", "in store", "other"]))


class BudgetIn(StrictSchema):
    category = fields.String(required=True, validate=CATEGORY)
    amount = DecimalText(required=True, places=4, metadata={"example": "400.00"})
    currency = fields.String(validate=CURRENCY)
    rollover = fields.Boolean()
    start_month = DateText()


class BudgetPatchIn(StrictSchema):
    amount = DecimalText(places=4)
    rollover = fields.Boolean()


class MonthQuery(StrictSchema):
    month = DateText(metadata={"description": "any day of the month (default: this month)"})


class CashflowQuery(StrictSchema):
    start = DateText(required=True)
    end = DateText(required=True)
    group_by = fields.String(metadata={"description": "month (default) | category"})


class RecurringQuery(StrictSchema):
    as_of = DateText()


# --- responses -------------------------------------------------------------------------------
class SplitOut(Out):
    id = fields.String()
    amount = Decimal()
    category_primary = fields.String(allow_none=True)
    category_detailed = fields.String(allow_none=True)


class AnomalyOut(Out):
    status = fields.String(metadata={"description": "none | flagged | dismissed"})
    score = fields.Raw(allow_none=True)
    reasons = fields.List(fields.String())


class TransactionOut(Out):
    id = fields.String()
    source = fields.String(metadata={"description": "provider | manual"})
    account_id = fields.String(allow_none=True)
    amount = Decimal(metadata={"description": "negative = money out", "example": "-16.00"})
    currency = fields.String(allow_none=True)
    date = Day()
    authorized_date = Day(allow_none=True)
    occurred_at = Timestamp(allow_none=True)
    pending = fields.Boolean()
    description = fields.String(allow_none=True)
    merchant_name = fields.String(allow_none=True)
    website = fields.String(allow_none=True)
    location = fields.Raw(allow_none=True)
    counterparties = fields.Raw(allow_none=True)
    payment_meta = fields.Raw(allow_none=True)
    payment_channel = fields.String(allow_none=True)
    category_primary = fields.String(allow_none=True)
    category_detailed = fields.String(allow_none=True)
    category_source = fields.String(
        metadata={"description": "rule | correction | model | provider | user | none"}
    )
    category_rule_id = fields.String(
        allow_none=True, metadata={"description": "the rule that set the category (/v1/rules)"}
    )
    notes = fields.String(allow_none=True)
    tags = fields.List(fields.String())
    hidden = fields.Boolean()
    splits = fields.List(fields.Nested(SplitOut))
    anomaly = fields.Nested(AnomalyOut)


class TransactionPageOut(Out):
    items = fields.List(fields.Nested(TransactionOut))
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "pass as `cursor` with the same filters"}
    )


class DeletedOut(Out):
    deleted = fields.String()


class CategoryOut(Out):
    primary = fields.String()
    detailed = fields.List(fields.String())


class CategoriesOut(Out):
    taxonomy = fields.String()
    categories = fields.List(fields.Nested(CategoryOut))


class SuggestionOut(Out):
    category_detailed = fields.String()
    category_primary = fields.String()
    confidence = fields.Float()


class SuggestCategoryOut(Out):
    category_primary = fields.String(allow_none=True)
    category_detailed = fields.String(allow_none=True)
    confidence = fields.Float(metadata={"description": "calibrated probability (1 for rules)"})
    source = fields.String(metadata={"description": "rule | correction | model | provider | none"})
    rule_id = fields.String(allow_none=True)
    suggestions = fields.List(
        fields.Nested(SuggestionOut),
        metadata={"description": "when uncategorised (below the confidence gate): the top three"},
    )
    model_version = fields.String(allow_none=True)


class BudgetOut(Out):
    id = fields.String()
    category = fields.String()
    level = fields.String()
    amount = Decimal()
    currency = fields.String()
    rollover = fields.Boolean()
    start_month = Day()
    progress = fields.Dict(
        allow_none=True,
        metadata={"description": "{month, spent, rollover_in, available, remaining, percent}"},
    )


class BudgetsOut(Out):
    month = Day()
    budgets = fields.List(fields.Nested(BudgetOut))


class CashflowOut(Out):
    start = Day()
    end = Day()
    group_by = fields.String()
    groups = fields.List(fields.Dict())
    totals = fields.Raw()


class RecurringOut(Out):
    as_of = Day()
    series = fields.List(fields.Dict())
