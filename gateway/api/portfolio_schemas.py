"""Request/response schemas of the portfolio routes (docs/portfolio.md).

Requests check types and shapes (strict, decimals as strings, real dates); the portfolio service
checks the rules (weights sum to one, rates in [0, 1), target date in the future, feasible
bounds) and answers 422 naming the field. Numbers the numerical engines take as floats
(``target``, ``bounds``, ``risk_free_rate``) are JSON numbers; money is a decimal string.
"""

from __future__ import annotations

from marshmallow import fields, validate

from common.schemas import StrictSchema
from gateway.api.accounts_schemas import DateText, Day, Decimal, DecimalText, Out, Timestamp


def weights(**kwargs) -> fields.Dict:
    return fields.Dict(
        keys=fields.String(validate=validate.Length(1, 40)),
        values=DecimalText(),
        metadata={"example": {"us_equity": "0.6", "us_bonds": "0.4"}},
        **kwargs,
    )


class FloatOrNull(fields.Float):
    """A float bound inside the optimiser (null = unbounded); NaN/Infinity refused."""

    def __init__(self, **kwargs):
        super().__init__(allow_none=True, allow_nan=False, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return float(super()._deserialize(value, attr, data, **kwargs))


def bound_pair(**kwargs) -> fields.List:
    return fields.List(
        FloatOrNull(),
        validate=validate.Length(equal=2, error="A bound is a pair [lower, upper]."),
        metadata={"example": [0.0, 0.4]},
        **kwargs,
    )


class Number(fields.Float):
    """A JSON number for the numerical engines, forwarded as a float (never money)."""

    def __init__(self, **kwargs):
        super().__init__(allow_nan=False, **kwargs)


# --- requests --------------------------------------------------------------------------------
class TargetAllocationIn(StrictSchema):
    weights = weights(required=True)
    band = DecimalText(load_default=None, allow_none=True, metadata={"example": "0.03"})


class TaxProfileIn(StrictSchema):
    short_term_rate = DecimalText(required=True, metadata={"example": "0.24"})
    long_term_rate = DecimalText(required=True, metadata={"example": "0.15"})
    carryforward = DecimalText()
    realized_short_term_ytd = DecimalText()
    realized_long_term_ytd = DecimalText()
    married_filing_separately = fields.Boolean()


class OptimizeIn(StrictSchema):
    tickers = fields.List(fields.String(validate=validate.Length(1, 16)), allow_none=True)
    asset_classes = fields.List(fields.String(validate=validate.Length(1, 40)), allow_none=True)
    objective = fields.String(
        required=True,
        metadata={
            "description": "max_sharpe | min_volatility | efficient_risk | efficient_return | "
            "max_quadratic_utility"
        },
    )
    target = Number(allow_none=True)
    bounds = bound_pair(allow_none=True)
    class_bounds = fields.Dict(keys=fields.String(), values=bound_pair())
    l2_gamma = Number()
    risk_free_rate = Number()
    cash_amount = DecimalText(allow_none=True)
    fractional_shares = fields.Boolean()


class RebalanceIn(StrictSchema):
    new_cash = DecimalText(allow_none=True)
    cash_account_id = fields.String(allow_none=True, validate=validate.Length(1, 120))
    band = DecimalText(allow_none=True)


class GoalIn(StrictSchema):
    kind = fields.String(
        required=True, metadata={"description": "retirement|house|emergency|custom"}
    )
    name = fields.String(required=True, validate=validate.Length(1, 120))
    target_amount = DecimalText(required=True, metadata={"example": "250000.00"})
    target_date = DateText(required=True)
    initial_amount = DecimalText()
    monthly_contribution = DecimalText()
    contribution_growth = DecimalText(metadata={"example": "0.02"})
    linked_account_ids = fields.List(fields.String(validate=validate.Length(1, 120)))
    allocation = weights(allow_none=True)
    monthly_withdrawal = DecimalText(
        metadata={"description": "retirement: inflation-indexed monthly spending, today's $"}
    )
    retirement_years = fields.Integer(
        metadata={"description": "retirement: years of withdrawals after the target date"}
    )
    idempotency_key = fields.String(validate=validate.Length(1, 80))


class GoalPatchIn(StrictSchema):
    kind = fields.String()
    name = fields.String(validate=validate.Length(1, 120))
    target_amount = DecimalText()
    target_date = DateText()
    initial_amount = DecimalText()
    monthly_contribution = DecimalText()
    contribution_growth = DecimalText()
    linked_account_ids = fields.List(fields.String(validate=validate.Length(1, 120)))
    allocation = weights(allow_none=True)
    monthly_withdrawal = DecimalText()
    retirement_years = fields.Integer()


class ProjectionQuery(StrictSchema):
    paths = fields.Integer(validate=validate.Range(100, 20_000))
    seed = fields.Integer(validate=validate.Range(0, 2**32 - 1))
    mode = fields.String(metadata={"description": "normal | fat_tailed | historical"})
    success_probability = Number(validate=validate.Range(0.01, 0.99))


class NetWorthQuery(StrictSchema):
    start = DateText(required=True)
    end = DateText(required=True)
    interval = fields.String(metadata={"description": "day | week | month"})


class ReturnsQuery(StrictSchema):
    start = DateText(required=True)
    end = DateText(required=True)
    account_id = fields.List(
        fields.String(validate=validate.Length(1, 120)),
        metadata={"description": "repeat to limit to some accounts (default: all investment)"},
    )


# --- responses -------------------------------------------------------------------------------
class PriceOut(Out):
    price = Decimal(allow_none=True)
    as_of = Day(allow_none=True)
    source = fields.String(allow_none=True)
    stale = fields.Boolean()


class LotOut(Out):
    lot_id = fields.String()
    quantity = Decimal()
    cost_basis = Decimal(allow_none=True)
    acquired = Day(allow_none=True)
    term = fields.String(allow_none=True)


class PositionOut(Out):
    ticker = fields.String(allow_none=True)
    security_id = fields.String()
    asset_class = fields.String(allow_none=True)
    quantity = Decimal()
    cost_basis = Decimal(allow_none=True)
    price = fields.Nested(PriceOut, allow_none=True)
    market_value = Decimal(allow_none=True)
    unrealized_gain = Decimal(allow_none=True)
    reported_quantity = Decimal(allow_none=True)
    reported_cost_basis = Decimal(allow_none=True)
    institution_value = Decimal(allow_none=True)
    mismatch = fields.Boolean()
    issues = fields.List(fields.Raw())
    lots = fields.List(fields.Nested(LotOut))


class HoldingsAccountOut(Out):
    account_id = fields.String()
    name = fields.String(allow_none=True)
    mask = fields.String(allow_none=True)
    tax_type = fields.String(allow_none=True)
    positions = fields.List(fields.Nested(PositionOut))


class HoldingsOut(Out):
    accounts = fields.List(fields.Nested(HoldingsAccountOut))
    stale_prices = fields.List(fields.String())
    mismatches = fields.Raw()


class ClassWeightOut(Out):
    asset_class = fields.String()
    value = Decimal()
    current_weight = Decimal()
    target_weight = Decimal()
    drift = Decimal()


class AllocationOut(Out):
    target_source = fields.String(metadata={"description": "manual | risk_profile | default"})
    band = Decimal()
    total_value = Decimal()
    classes = fields.List(fields.Nested(ClassWeightOut))
    total_drift = Decimal()
    rebalance_needed = fields.Boolean()
    unclassified = fields.Raw()
    unpriced = fields.Raw()
    stale_prices = fields.List(fields.String())


class TargetAllocationOut(Out):
    weights = fields.Dict(keys=fields.String(), values=fields.String())
    band = Decimal(allow_none=True)
    source = fields.String()


class TaxProfileOut(Out):
    short_term_rate = Decimal()
    long_term_rate = Decimal()
    carryforward = Decimal()
    realized_short_term_ytd = Decimal()
    realized_long_term_ytd = Decimal()
    married_filing_separately = fields.Boolean()


class OptimizeOut(Out):
    weights = fields.Dict(keys=fields.String(), values=fields.Raw())
    class_weights = fields.Dict(keys=fields.String(), values=fields.Raw())
    expected_return = fields.Raw()
    volatility = fields.Raw()
    sharpe = fields.Raw()
    discrete_allocation = fields.Raw(allow_none=True)


class TradeOut(Out):
    account_id = fields.String()
    ticker = fields.String()
    side = fields.String()
    quantity = Decimal(
        allow_none=True,
        metadata={"description": "null for a dollar-amount buy of a fund with no quote yet"},
    )
    amount = Decimal()
    asset_class = fields.String(allow_none=True)
    lot_id = fields.String(allow_none=True)
    realized_gain = Decimal(allow_none=True)
    long_term = fields.Boolean(allow_none=True)
    estimated_tax = Decimal(allow_none=True)


class RebalanceOut(Out):
    plan_id = fields.String()
    as_of = Day()
    band = Decimal()
    target_source = fields.String()
    trades = fields.List(fields.Nested(TradeOut))
    drift_before = fields.Dict(metadata={"description": "{total, <asset class>: drift}"})
    drift_after = fields.Dict()
    estimated_tax = Decimal()
    unclassified = fields.Raw()
    rebalance_needed = fields.Boolean()


class ExecutedOut(Out):
    plan_id = fields.String()
    executed_at = Timestamp()


class TlhOut(Out):
    as_of = Day()
    harvests = fields.List(fields.Dict())
    blocked = fields.List(fields.Dict())
    below_threshold = fields.Raw()
    do_not_buy_until = fields.Raw()
    total_loss = Decimal()
    current_year_saving = Decimal()
    carryforward_added = Decimal()
    estimated_benefit = Decimal()
    tax_profile = fields.Raw()
    benefit_formula = fields.String()
    stale_prices = fields.List(fields.String())


class GoalOut(Out):
    id = fields.String()
    kind = fields.String()
    name = fields.String()
    target_amount = Decimal()
    target_date = Day()
    initial_amount = Decimal()
    monthly_contribution = Decimal()
    contribution_growth = Decimal()
    linked_account_ids = fields.List(fields.String())
    allocation = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True)
    monthly_withdrawal = Decimal()
    retirement_years = fields.Integer()
    glide_path = fields.Boolean()
    created_at = Timestamp()
    updated_at = Timestamp()


class GoalsOut(Out):
    goals = fields.List(fields.Nested(GoalOut))


class PercentileOut(Out):
    year = fields.Integer()
    p10 = fields.Raw()
    p50 = fields.Raw()
    p90 = fields.Raw()


class ProjectionOut(Out):
    goal_id = fields.String()
    target_amount = Decimal()
    mode = fields.String()
    seed = fields.Integer()
    years = fields.Raw()
    years_to_goal = fields.Integer()
    paths = fields.Integer()
    starting_balance = Decimal()
    allocation = fields.Raw(metadata={"description": "this year's allocation"})
    allocation_basis = fields.Raw()
    glide_path = fields.Raw(
        metadata={"description": "[{year, equity_share}] per projection year, or null"}
    )
    success_definition = fields.String()
    percentiles = fields.List(fields.Nested(PercentileOut))
    success_probability = fields.Raw()
    success_std_error = fields.Raw()
    target_probability = fields.Raw()
    required_monthly_contribution = fields.Raw()
    required_contribution_paths = fields.Raw()
    required_contribution_probability = fields.Raw(
        metadata={"description": "success probability at that contribution on the search's paths"}
    )
    required_contribution_std_error = fields.Raw()
    dollars = fields.Raw()


class NetWorthPointOut(Out):
    date = Day()
    assets = Decimal()
    liabilities = Decimal()
    net = Decimal()
    by_type = fields.Dict(keys=fields.String(), values=fields.String())


class NetWorthOut(Out):
    interval = fields.String()
    points = fields.List(fields.Nested(NetWorthPointOut))


class ReturnsOut(Out):
    start = Day()
    end = Day()
    simple = fields.Raw()
    time_weighted = fields.Raw()
    time_weighted_annual = fields.Raw()
    money_weighted_annual = fields.Raw()
    formulas = fields.Raw()
    approximated_days = fields.Raw()
    account_ids = fields.List(fields.String())


class DeletedOut(Out):
    goal_id = fields.String()
    deleted = fields.Boolean()
