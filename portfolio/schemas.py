"""marshmallow schemas at the portfolio service's boundary (RPC payloads and consumed events).

Requests are strict (unknown fields raise). Consumed event payloads are tolerant readers
(unknown fields are ignored) so the producer can add fields without breaking us; the fields we
use are validated. Money is ``common.schemas.Money`` (decimal strings, never floats).
Report-shaped results are dumped by :class:`PlainOut` (Decimal -> string, date -> ISO-8601).
"""

from __future__ import annotations

import datetime as dt
import decimal

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates,
    validates_schema,
)

from common.schemas import Money, StrictSchema, StrId, UTCDateTime, decimal_text
from common.schemas import to_plain as plain
from portfolio.errors import InvalidInput
from portfolio.goals import KINDS, MODES, check_retirement
from portfolio.networth import INTERVALS
from portfolio.optimiser import OBJECTIVES


def _non_negative(value):
    if value is not None and value < 0:
        raise ValidationError("Must not be negative.")


def _positive(value):
    if value is not None and value <= 0:
        raise ValidationError("Must be greater than zero.")


def _rate(value):
    if value is not None and not 0 <= value < 1:
        raise ValidationError("Must be a fraction in [0, 1).")


class TrimmedMoney(Money):
    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else decimal_text(decimal.Decimal(value))


# --- consumed events -------------------------------------------------------------------------
class Tolerant(Schema):
    class Meta:
        unknown = EXCLUDE


class SyncedAccount(Tolerant):
    account_id = fields.String(required=True, validate=validate.Length(min=1, max=120))
    name = fields.String(load_default=None, allow_none=True)
    official_name = fields.String(load_default=None, allow_none=True)
    mask = fields.String(load_default=None, allow_none=True)
    type = fields.String(required=True)
    subtype = fields.String(load_default=None, allow_none=True)
    current = Money(load_default=None, allow_none=True)
    available = Money(load_default=None, allow_none=True)
    limit = Money(load_default=None, allow_none=True)
    iso_currency_code = fields.String(load_default=None, allow_none=True)


class SyncedSecurity(Tolerant):
    security_id = fields.String(required=True, validate=validate.Length(min=1, max=120))
    ticker = fields.String(load_default=None, allow_none=True)
    ticker_symbol = fields.String(load_default=None, allow_none=True)
    name = fields.String(load_default=None, allow_none=True)
    type = fields.String(load_default=None, allow_none=True)
    close_price = Money(load_default=None, allow_none=True)
    close_price_as_of = fields.Date(load_default=None, allow_none=True)


class SyncedHolding(Tolerant):
    account_id = fields.String(required=True)
    security_id = fields.String(required=True)
    quantity = Money(required=True)
    cost_basis = Money(load_default=None, allow_none=True)
    institution_value = Money(load_default=None, allow_none=True)
    institution_price = Money(load_default=None, allow_none=True)


class SyncedInvestmentTxn(Tolerant):
    investment_transaction_id = fields.String(required=True, validate=validate.Length(max=120))
    account_id = fields.String(required=True)
    security_id = fields.String(load_default=None, allow_none=True)
    date = fields.Date(required=True)
    type = fields.String(load_default=None, allow_none=True)
    subtype = fields.String(load_default=None, allow_none=True)
    quantity = Money(load_default=None, allow_none=True)
    price = Money(load_default=None, allow_none=True)
    amount = Money(load_default=None, allow_none=True)
    fees = Money(load_default=None, allow_none=True)


class HoldingsSynced(Tolerant):
    user_id = fields.String(required=True)
    item_id = fields.String(load_default=None, allow_none=True)
    as_of = UTCDateTime(load_default=None, allow_none=True)
    accounts = fields.List(fields.Nested(SyncedAccount), load_default=list)
    securities = fields.List(fields.Nested(SyncedSecurity), load_default=list)
    holdings = fields.List(fields.Nested(SyncedHolding), load_default=list)
    investment_transactions = fields.List(fields.Nested(SyncedInvestmentTxn), load_default=list)


class BalancesUpdated(Tolerant):
    user_id = fields.String(required=True)
    item_id = fields.String(load_default=None, allow_none=True)
    accounts = fields.List(fields.Nested(SyncedAccount), required=True)
    as_of = UTCDateTime(load_default=None, allow_none=True)  # common.contracts.aggregation


class RiskProfileUpdated(Tolerant):
    user_id = fields.String(required=True)
    risk_score = fields.Integer(required=True, validate=validate.Range(1, 10))
    horizon_years = fields.Integer(required=True, validate=validate.Range(0, 100))


# --- RPC requests ----------------------------------------------------------------------------
class Empty(StrictSchema):
    pass


class TargetAllocationIn(StrictSchema):
    weights = fields.Dict(keys=fields.String(), values=Money(), required=True)
    band = Money(load_default=None, allow_none=True, validate=_rate)

    @validates("weights")
    def _weights(self, value, **_):
        if not value:
            raise ValidationError("Give at least one asset class.")
        if any(v < 0 for v in value.values()):
            raise ValidationError("Weights must be >= 0.")
        total = sum(value.values(), decimal.Decimal(0))
        if abs(total - 1) > decimal.Decimal("0.0001"):
            raise ValidationError(f"Weights must sum to 1 (they sum to {total}).")


class TaxProfileIn(StrictSchema):
    short_term_rate = Money(required=True, validate=_rate)
    long_term_rate = Money(required=True, validate=_rate)
    carryforward = Money(load_default=decimal.Decimal(0), validate=_non_negative)
    realized_short_term_ytd = Money(load_default=decimal.Decimal(0))
    realized_long_term_ytd = Money(load_default=decimal.Decimal(0))
    married_filing_separately = fields.Boolean(load_default=False)


class BoundPair(fields.List):
    def __init__(self, **kwargs):
        super().__init__(fields.Float(allow_none=True, allow_nan=False), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        out = super()._deserialize(value, attr, data, **kwargs)
        if len(out) != 2:
            raise ValidationError("A bound is a pair [lower, upper] (null = unbounded).")
        return tuple(out)


class OptimizeIn(StrictSchema):
    tickers = fields.List(fields.String(validate=validate.Length(1, 16)), load_default=None)
    asset_classes = fields.List(fields.String(), load_default=None)
    objective = fields.String(required=True, validate=validate.OneOf(OBJECTIVES))
    target = fields.Float(load_default=None, allow_none=True, allow_nan=False)
    bounds = BoundPair(load_default=None, allow_none=True)
    class_bounds = fields.Dict(keys=fields.String(), values=BoundPair(), load_default=None)
    l2_gamma = fields.Float(load_default=0.0, validate=validate.Range(min=0), allow_nan=False)
    risk_free_rate = fields.Float(load_default=0.0, allow_nan=False)
    cash_amount = Money(load_default=None, allow_none=True, validate=_non_negative)
    fractional_shares = fields.Boolean(load_default=False)

    @validates_schema
    def _universe(self, data, **_):
        tickers, classes = data.get("tickers"), data.get("asset_classes")
        if bool(tickers) == bool(classes):
            raise ValidationError("Give either tickers or asset_classes (not both).", "_schema")
        n = len(tickers or classes)
        if not 2 <= n <= 200:
            raise ValidationError("Between 2 and 200 assets.", "_schema")
        if data["objective"] in ("efficient_risk", "efficient_return") and data["target"] is None:
            raise ValidationError("This objective needs a target.", "target")


class RebalanceIn(StrictSchema):
    new_cash = Money(load_default=None, allow_none=True, validate=_non_negative)
    cash_account_id = fields.String(load_default=None, allow_none=True)
    band = Money(load_default=None, allow_none=True, validate=_rate)


class PlanIdIn(StrictSchema):
    plan_id = StrId(required=True, validate=validate.Length(1, 36))


class GoalFields(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    name = fields.String(required=True, validate=validate.Length(1, 120))
    target_amount = Money(required=True, validate=_positive, places=2)
    target_date = fields.Date(required=True)
    initial_amount = Money(load_default=decimal.Decimal(0), validate=_non_negative, places=2)
    monthly_contribution = Money(load_default=decimal.Decimal(0), validate=_non_negative, places=2)
    contribution_growth = Money(
        load_default=decimal.Decimal(0),
        validate=validate.Range(decimal.Decimal("-0.5"), decimal.Decimal("0.5")),
    )
    linked_account_ids = fields.List(fields.String(), load_default=list)
    allocation = fields.Dict(keys=fields.String(), values=Money(), load_default=None)
    monthly_withdrawal = Money(load_default=decimal.Decimal(0), validate=_non_negative, places=2)
    retirement_years = fields.Integer(load_default=0, validate=validate.Range(0, 60))
    idempotency_key = fields.String(load_default=None, validate=validate.Length(1, 80))

    @validates("target_date")
    def _future(self, value, **_):
        if value <= dt.datetime.now(dt.UTC).date():
            raise ValidationError("Must be in the future.")

    @validates_schema
    def _retirement(self, data, partial=None, **_):
        if partial and not {"monthly_withdrawal", "retirement_years"} <= set(data):
            return  # a partial update is checked against the stored goal (goal_store.update)
        try:
            check_retirement(
                data.get("kind", "retirement"),
                data.get("monthly_withdrawal") or 0,
                data.get("retirement_years") or 0,
            )
        except InvalidInput as exc:
            raise ValidationError(exc.message, exc.field) from None

    @validates("allocation")
    def _allocation(self, value, **_):
        if value is None:
            return
        if not value or any(v < 0 for v in value.values()):
            raise ValidationError("Weights must be >= 0 with at least one class.")
        total = sum(value.values(), decimal.Decimal(0))
        if abs(total - 1) > decimal.Decimal("0.0001"):
            raise ValidationError(f"Weights must sum to 1 (they sum to {total}).")


class GoalUpdateIn(GoalFields):
    """Partial update: every goal field is optional, ``goal_id`` is required."""

    goal_id = StrId(required=True)

    OPTIONAL = tuple(n for n in GoalFields._declared_fields if n != "idempotency_key")

    def __init__(self, **kwargs):
        super().__init__(exclude=("idempotency_key",), **kwargs)

    def load(self, data, *, many=None, partial=None, unknown=None):
        return super().load(data, many=many, partial=self.OPTIONAL, unknown=unknown)


class GoalIdIn(StrictSchema):
    goal_id = StrId(required=True)


class ProjectionIn(StrictSchema):
    goal_id = StrId(required=True)
    paths = fields.Integer(load_default=10_000, validate=validate.Range(100, 20_000))
    seed = fields.Integer(load_default=0, validate=validate.Range(0, 2**32 - 1))
    mode = fields.String(load_default="normal", validate=validate.OneOf(MODES))
    success_probability = fields.Float(
        load_default=0.7, allow_nan=False, validate=validate.Range(0.01, 0.99)
    )


class NetWorthIn(StrictSchema):
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    interval = fields.String(load_default="day", validate=validate.OneOf(INTERVALS))

    @validates_schema
    def _order(self, data, **_):
        if data["end"] < data["start"]:
            raise ValidationError("Must not be before start.", "end")


class ReturnsIn(StrictSchema):
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    account_ids = fields.List(fields.String(), load_default=None)

    @validates_schema
    def _order(self, data, **_):
        if data["end"] <= data["start"]:
            raise ValidationError("Must be after start.", "end")


# --- RPC responses ---------------------------------------------------------------------------
class GoalOut(Schema):
    id = StrId()
    kind = fields.String()
    name = fields.String()
    target_amount = TrimmedMoney()
    target_date = fields.Date()
    initial_amount = TrimmedMoney()
    monthly_contribution = TrimmedMoney()
    contribution_growth = TrimmedMoney()
    linked_account_ids = fields.List(fields.String())
    allocation = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True)
    monthly_withdrawal = TrimmedMoney()
    retirement_years = fields.Integer()
    glide_path = fields.Boolean()
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class PlainOut:
    """Dumps report-shaped results (nested dicts/lists) to plain JSON values."""

    def dump(self, obj, many: bool = False):
        return [plain(o) for o in obj] if many else plain(obj)
