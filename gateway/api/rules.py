"""The categorisation rules HTTP API (``/v1/rules``): the user's own rules, tried in order
before corrections and the model (first match wins), with a preview of what a rule would change
in past transactions and a retroactive apply. Thin views over the transactions service, which
checks the token again and scopes by its subject (another user's rule id is a 404).

Amounts: decimal strings; rule bounds are on the size of the amount (>= 0), transaction
amounts keep the ledger sign (negative = money out).
"""

from __future__ import annotations

from flask import g, request
from flask.views import MethodView
from marshmallow import RAISE

from gateway import rpc
from gateway.api import rules_schemas as s
from gateway.auth import require_auth
from gateway.openapi import ApiBlueprint

blp = ApiBlueprint(
    "rules",
    __name__,
    url_prefix="/v1/rules",
    description="Your categorisation rules: conditions, order, preview, apply",
)
READ, WRITE = "transactions:read", "transactions:write"
SERVICE = "transactions"
APPLY_TIMEOUT = 30.0
IDEMPOTENCY_HEADER = "Idempotency-Key"


def call(method: str, *args, timeout: float | None = None, **kwargs):
    return rpc.call(SERVICE, method, g.access_token, *args, timeout=timeout, **kwargs)


@blp.route("")
class Rules(MethodView):
    @require_auth(READ)
    @blp.response(200, s.RulesOut)
    @blp.doc(summary="Your rules in the order they are tried (first match wins)")
    def get(self):
        return call("list_rules")

    @require_auth(WRITE)
    @blp.arguments(s.RuleIn)
    @blp.response(201, s.RuleOut)
    @blp.doc(
        summary="Add a rule (tried after your existing ones)",
        description="A rule sets a detailed category when every condition it has holds: "
        "`description_contains`, `merchant_contains` (case-insensitive text), `amount_min` / "
        "`amount_max` (size of the amount, inclusive), `account_ids`, `direction` (`out` = "
        "money out, `in` = money in). New transactions follow it from now on; to re-categorise "
        "past ones, preview and apply it. An `Idempotency-Key` header (8-64 characters) makes "
        "a retry return the first rule.",
    )
    def post(self, payload):
        key = request.headers.get(IDEMPOTENCY_HEADER)
        return call("create_rule", payload, idempotency_key=key)


@blp.route("/order")
class RuleOrder(MethodView):
    @require_auth(WRITE)
    @blp.arguments(s.RuleOrderIn)
    @blp.response(200, s.RulesOut)
    @blp.doc(summary="Set the order rules are tried in (every rule id once)")
    def put(self, payload):
        return call("reorder_rules", payload)


@blp.route("/preview")
class RulePreviewUnsaved(MethodView):
    @require_auth(READ)
    @blp.arguments(s.RuleIn)
    @blp.arguments(s.PreviewQuery, location="query", unknown=RAISE)
    @blp.response(200, s.RulePreviewOut)
    @blp.doc(
        summary="What a rule (not saved) would change in your past transactions",
        description="Changes nothing. `changes` lists from -> to, newest first, `limit` at a "
        "time from `offset` (`next_offset` for the next page). Transactions you categorised "
        "by hand are counted in `skipped_manual` unless `include_manual=true`.",
    )
    def post(self, payload, query):
        return call("preview_unsaved_rule", payload, query)


@blp.route("/<rule_id>")
class Rule(MethodView):
    @require_auth(READ)
    @blp.response(200, s.RuleOut)
    def get(self, rule_id):
        return call("get_rule", rule_id)

    @require_auth(WRITE)
    @blp.arguments(s.RulePatchIn)
    @blp.response(200, s.RuleOut)
    @blp.doc(summary="Change a rule (`null` clears a condition; one must remain)")
    def patch(self, payload, rule_id):
        return call("update_rule", rule_id, payload)

    @require_auth(WRITE)
    @blp.response(204)
    @blp.doc(summary="Delete a rule (transactions it categorised keep their category)")
    def delete(self, rule_id):
        call("delete_rule", rule_id)
        return None


@blp.route("/<rule_id>/preview")
class RulePreview(MethodView):
    @require_auth(READ)
    @blp.arguments(s.PreviewQuery, location="query", unknown=RAISE)
    @blp.response(200, s.RulePreviewOut)
    @blp.doc(summary="What applying this rule would change in your past transactions")
    def post(self, query, rule_id):
        return call("preview_rule", rule_id, query)


@blp.route("/<rule_id>/apply")
class RuleApply(MethodView):
    @require_auth(WRITE)
    @blp.arguments(s.ApplyIn, required=False)
    @blp.response(200, s.RuleApplyOut)
    @blp.doc(
        summary="Re-categorise your matching past transactions by this rule",
        description="Records category source `rule` and the rule's id. Idempotent: applying "
        "again changes nothing. Categories you set by hand are kept unless "
        "`include_manual` is true. The body may be empty.",
    )
    def post(self, payload, rule_id):
        return call("apply_rule", rule_id, payload, timeout=APPLY_TIMEOUT)
