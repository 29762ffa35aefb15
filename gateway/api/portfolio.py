"""The portfolio HTTP API (``/v1``): holdings, allocation and drift, target allocation, tax
profile, optimiser, rebalance plans, tax-loss harvesting, goals and projections, net worth and
returns. Thin views over the portfolio service (docs/portfolio.md): the token goes along as
``principal``; the service scopes by its subject (another user's goal or plan id is a 404) and
answers bad numbers with 422 naming the field.

Marking a rebalance plan executed needs a second factor in the last 10 minutes (step-up).
"""

from __future__ import annotations

from flask import g, request
from flask.views import MethodView
from marshmallow import RAISE

from gateway import rpc
from gateway.api import portfolio_schemas as s
from gateway.auth import require_auth
from gateway.openapi import ApiBlueprint

blp = ApiBlueprint(
    "portfolio", __name__, url_prefix="/v1", description="Investments, goals and net worth"
)
READ, WRITE = "portfolio:read", "portfolio:write"
SERVICE = "portfolio"
ENGINE_TIMEOUT = 30.0  # optimiser and Monte Carlo runs take about a second, allow for load
IDEMPOTENCY_HEADER = "Idempotency-Key"


def call(method: str, payload: dict | None = None, *, timeout: float | None = None):
    return rpc.call(SERVICE, method, g.access_token, payload or {}, timeout=timeout)


@blp.route("/holdings")
class Holdings(MethodView):
    @require_auth(READ)
    @blp.response(200, s.HoldingsOut)
    @blp.doc(
        summary="Investment positions by account with prices, gains and tax lots",
        description="`mismatch` marks a position where the lots rebuilt from the history "
        "disagree with what the institution reports.",
    )
    def get(self):
        return call("list_holdings")


@blp.route("/portfolio/allocation")
class Allocation(MethodView):
    @require_auth(READ)
    @blp.response(200, s.AllocationOut)
    @blp.doc(summary="Current vs target weights by asset class, drift (½ Σ|w − t|)")
    def get(self):
        return call("allocation")


@blp.route("/portfolio/target-allocation")
class TargetAllocation(MethodView):
    @require_auth(WRITE)
    @blp.arguments(s.TargetAllocationIn)
    @blp.response(200, s.TargetAllocationOut)
    @blp.doc(summary="Set a manual target allocation (weights ≥ 0 summing to 1)")
    def put(self, payload):
        return call("set_target_allocation", payload)


@blp.route("/portfolio/tax-profile")
class TaxProfile(MethodView):
    @require_auth(WRITE)
    @blp.arguments(s.TaxProfileIn)
    @blp.response(200, s.TaxProfileOut)
    @blp.doc(summary="Set marginal rates, carryforward and realised gains used by TLH")
    def put(self, payload):
        return call("set_tax_profile", payload)


@blp.route("/portfolio/optimize")
class Optimize(MethodView):
    @require_auth(READ)
    @blp.arguments(s.OptimizeIn)
    @blp.response(200, s.OptimizeOut)
    @blp.doc(
        summary="Mean-variance optimisation over tickers or asset classes",
        description="Infeasible bounds or targets answer 422 with the reason.",
    )
    def post(self, payload):
        return call("optimize", payload, timeout=ENGINE_TIMEOUT)


@blp.route("/portfolio/rebalance")
class Rebalance(MethodView):
    @require_auth(READ)
    @blp.arguments(s.RebalanceIn)
    @blp.response(201, s.RebalanceOut)
    @blp.doc(
        summary="Plan trades back to the target (tax-aware); the plan is stored, not traded",
    )
    def post(self, payload):
        return call("rebalance_plan", payload, timeout=ENGINE_TIMEOUT)


@blp.route("/portfolio/rebalance/<plan_id>/executed")
class RebalanceExecuted(MethodView):
    @require_auth(WRITE, step_up=True)
    @blp.response(200, s.ExecutedOut)
    @blp.doc(summary="Record that a plan's trades were placed (step-up; 409 if already done)")
    def post(self, plan_id):
        return call("mark_rebalance_executed", {"plan_id": plan_id})


@blp.route("/portfolio/tlh")
class TaxLossHarvesting(MethodView):
    @require_auth(READ)
    @blp.response(200, s.TlhOut)
    @blp.doc(
        summary="Scan taxable lots for tax-loss harvests (wash-sale aware)",
        description="Lots whose sale would be a wash sale are listed in `blocked` with why.",
    )
    def post(self):
        return call("tlh_scan", timeout=ENGINE_TIMEOUT)


@blp.route("/goals")
class Goals(MethodView):
    @require_auth(READ)
    @blp.response(200, s.GoalsOut)
    def get(self):
        return {"goals": call("list_goals")}

    @require_auth(WRITE)
    @blp.arguments(s.GoalIn)
    @blp.response(201, s.GoalOut)
    @blp.doc(
        summary="Create a goal",
        description="An `Idempotency-Key` header (or `idempotency_key` field) makes a retry "
        "return the goal the first request created.",
    )
    def post(self, payload):
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key and "idempotency_key" not in payload:
            payload = {**payload, "idempotency_key": key}
        return call("create_goal", payload)


@blp.route("/goals/<goal_id>")
class Goal(MethodView):
    @require_auth(READ)
    @blp.response(200, s.GoalOut)
    def get(self, goal_id):
        return call("get_goal", {"goal_id": goal_id})

    @require_auth(WRITE)
    @blp.arguments(s.GoalPatchIn)
    @blp.response(200, s.GoalOut)
    @blp.doc(summary="Change some of a goal's fields")
    def patch(self, payload, goal_id):
        return call("update_goal", {**payload, "goal_id": goal_id})

    @require_auth(WRITE)
    @blp.response(204)
    def delete(self, goal_id):
        call("delete_goal", {"goal_id": goal_id})
        return None


@blp.route("/goals/<goal_id>/projection")
class GoalProjection(MethodView):
    @require_auth(READ)
    @blp.arguments(s.ProjectionQuery, location="query", unknown=RAISE)
    @blp.response(200, s.ProjectionOut)
    @blp.doc(
        summary="Monte Carlo projection of a goal: percentiles by year, success probability, "
        "required monthly contribution"
    )
    def get(self, query, goal_id):
        return call("goal_projection", {**query, "goal_id": goal_id}, timeout=ENGINE_TIMEOUT)


@blp.route("/net-worth")
class NetWorth(MethodView):
    @require_auth(READ)
    @blp.arguments(s.NetWorthQuery, location="query", unknown=RAISE)
    @blp.response(200, s.NetWorthOut)
    @blp.doc(summary="Net worth (assets − liabilities) by day, week or month")
    def get(self, query):
        return call("net_worth", query)


@blp.route("/portfolio/returns")
class Returns(MethodView):
    @require_auth(READ)
    @blp.arguments(s.ReturnsQuery, location="query", unknown=RAISE)
    @blp.response(200, s.ReturnsOut)
    @blp.doc(summary="Simple, time-weighted and money-weighted returns over a period")
    def get(self, query):
        payload = {"start": query["start"], "end": query["end"]}
        if query.get("account_id"):
            payload["account_ids"] = query["account_id"]
        return call("returns", payload)
