"""Request/response schemas of the categorisation rules routes (docs/categorizer.md, "Your
rules").

A rule sets a *detailed* PFC v2 category and needs at least one condition: text contained in
the description or in the merchant, an amount range on the size of the amount (inclusive, so
both bounds are zero or positive), accounts, and a direction (``out`` = money out, ``in`` =
money in). Types are checked here; the rules themselves (known category, min <= max, the
accounts are the caller's, at least one condition) in the transactions service, which answers
422 naming the field.
"""

from __future__ import annotations

from marshmallow import fields, validate

from common.schemas import StrictSchema
from gateway.api.accounts_schemas import Day, Decimal, DecimalText, Out, Timestamp

CATEGORY = validate.Length(min=1, max=96)
TEXT = validate.Length(max=200)
ACCOUNT = validate.Length(min=1, max=100)
DIRECTION = validate.OneOf(("in", "out"))


def bound(**kwargs) -> DecimalText:
    return DecimalText(
        places=4,
        allow_none=True,
        metadata={"example": "100.00", "description": "size of the amount, inclusive (>= 0)"},
        **kwargs,
    )


# --- requests --------------------------------------------------------------------------------
class RulePatchIn(StrictSchema):
    """Any subset of a rule's fields; ``null`` clears a condition (a rule keeps one at least)."""

    category = fields.String(
        validate=CATEGORY,
        metadata={"description": "detailed PFC v2 category, e.g. FOOD_AND_DRINK_GROCERIES"},
    )
    description_contains = fields.String(
        allow_none=True, validate=TEXT, metadata={"description": "case-insensitive"}
    )
    merchant_contains = fields.String(
        allow_none=True,
        validate=TEXT,
        metadata={"description": "in the merchant name (else the description)"},
    )
    amount_min = bound()
    amount_max = bound()
    account_ids = fields.List(
        fields.String(validate=ACCOUNT),
        allow_none=True,
        validate=validate.Length(max=20),
        metadata={"description": "account ids as on your transactions"},
    )
    direction = fields.String(
        allow_none=True, validate=DIRECTION, metadata={"description": "out | in"}
    )


class RuleIn(RulePatchIn):
    category = fields.String(
        required=True,
        validate=CATEGORY,
        metadata={"description": "detailed PFC v2 category, e.g. FOOD_AND_DRINK_GROCERIES"},
    )


class RuleOrderIn(StrictSchema):
    rule_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=36)),
        required=True,
        validate=validate.Length(max=250),
        metadata={"description": "every one of your rule ids, once, in the order to try them"},
    )


class PreviewQuery(StrictSchema):
    limit = fields.Integer(validate=validate.Range(1, 500), metadata={"description": "1..500"})
    offset = fields.Integer(validate=validate.Range(0, 1_000_000))
    include_manual = fields.Boolean(
        metadata={"description": "also transactions whose category you set by hand"}
    )


class ApplyIn(StrictSchema):
    include_manual = fields.Boolean(
        metadata={"description": "also re-categorise transactions you categorised by hand"}
    )


# --- responses -------------------------------------------------------------------------------
class RuleOut(Out):
    id = fields.String()
    position = fields.Integer(metadata={"description": "0 = tried first"})
    category_primary = fields.String()
    category_detailed = fields.String()
    description_contains = fields.String(allow_none=True)
    merchant_contains = fields.String(allow_none=True)
    amount_min = Decimal(allow_none=True)
    amount_max = Decimal(allow_none=True)
    account_ids = fields.List(fields.String())
    direction = fields.String(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()


class RulesOut(Out):
    rules = fields.List(fields.Nested(RuleOut))


class RuleChangeOut(Out):
    transaction_id = fields.String()
    date = Day()
    amount = Decimal(metadata={"description": "negative = money out"})
    description = fields.String(allow_none=True)
    merchant_name = fields.String(allow_none=True)
    from_primary = fields.String(allow_none=True)
    from_detailed = fields.String(allow_none=True)
    from_source = fields.String(allow_none=True)
    to_primary = fields.String()
    to_detailed = fields.String()


class _Counts(Out):
    rule_id = fields.String(allow_none=True, metadata={"description": "null for an unsaved rule"})
    examined = fields.Integer()
    matched = fields.Integer()
    unchanged = fields.Integer()
    skipped_manual = fields.Integer(metadata={"description": "categorised by hand: left alone"})
    skipped_split = fields.Integer(metadata={"description": "split: the parts keep theirs"})


class RulePreviewOut(_Counts):
    would_change = fields.Integer(metadata={"description": "category would change"})
    would_relabel = fields.Integer(
        metadata={"description": "same category, would be recorded as this rule's"}
    )
    changes = fields.List(fields.Nested(RuleChangeOut))
    offset = fields.Integer()
    limit = fields.Integer()
    next_offset = fields.Integer(allow_none=True)


class RuleApplyOut(_Counts):
    changed = fields.Integer()
    relabelled = fields.Integer()
