"""The transactions HTTP API (``/v1``): the ledger (list with filters and cursor pagination,
read, edit, manual entries, splits, anomaly feedback, CSV export), categories, budgets, cash
flow and recurring series. Thin views over the transactions service (docs/transactions.md),
which checks the token again and scopes by its subject (another user's id is a 404).

Amounts: negative = money out, positive = money in, decimal strings.
"""

from __future__ import annotations

from flask import Response, g, request
from flask.views import MethodView
from marshmallow import RAISE

from gateway import rpc
from gateway.api import transactions_schemas as s
from gateway.auth import require_auth
from gateway.openapi import ApiBlueprint

blp = ApiBlueprint(
    "transactions", __name__, url_prefix="/v1", description="Transactions, budgets, cash flow"
)
READ, WRITE = "transactions:read", "transactions:write"
SERVICE = "transactions"
EXPORT_TIMEOUT = 30.0
IDEMPOTENCY_HEADER = "Idempotency-Key"


def call(method: str, *args, timeout: float | None = None, **kwargs):
    return rpc.call(SERVICE, method, g.access_token, *args, timeout=timeout, **kwargs)


@blp.route("/transactions")
class Transactions(MethodView):
    @require_auth(READ)
    @blp.arguments(s.ListQuery, location="query", unknown=RAISE)
    @blp.response(200, s.TransactionPageOut)
    @blp.doc(
        summary="Transactions, newest first, with filters and cursor pagination",
        description="Pass `next_cursor` back as `cursor` with the same filters and sort; a "
        "cursor reused with other filters is a 422. Hidden transactions are left out unless "
        "`include_hidden=true`.",
    )
    def get(self, query):
        return call("list_transactions", query)

    @require_auth(WRITE)
    @blp.arguments(s.ManualTransactionIn)
    @blp.response(201, s.TransactionOut)
    @blp.doc(
        summary="Add a transaction by hand (cash, an account the bank does not report)",
        description="An `Idempotency-Key` header (8-64 characters) makes a retry return the "
        "first result instead of adding a second transaction.",
    )
    def post(self, payload):
        key = request.headers.get(IDEMPOTENCY_HEADER)
        return call("create_manual_transaction", payload, idempotency_key=key)


@blp.route("/transactions/export.csv")
class TransactionsExport(MethodView):
    @require_auth(READ)
    @blp.arguments(s.FiltersQuery, location="query", unknown=RAISE)
    @blp.response(200, content_type="text/csv")
    @blp.doc(
        summary="The filtered transactions as CSV (cells that could run as spreadsheet "
        "formulas are neutralised)",
        responses={"200": {"content": {"text/csv": {"schema": {"type": "string"}}}}},
    )
    def get(self, query):
        text = call("export_transactions_csv", query, timeout=EXPORT_TIMEOUT)
        return Response(
            text,
            mimetype="text/csv",
            headers={"Content-Disposition": 'attachment; filename="transactions.csv"'},
        )


@blp.route("/transactions/<transaction_id>")
class Transaction(MethodView):
    @require_auth(READ)
    @blp.response(200, s.TransactionOut)
    def get(self, transaction_id):
        return call("get_transaction", transaction_id)

    @require_auth(WRITE)
    @blp.arguments(s.TransactionPatchIn)
    @blp.response(200, s.TransactionOut)
    @blp.doc(
        summary="Edit a transaction",
        description="`category` (a correction the categoriser learns for this merchant), "
        "`notes`, `tags`, `hidden` on any transaction; account, amount, date, description, "
        "merchant and time on manual ones only (404 for a bank transaction).",
    )
    def patch(self, payload, transaction_id):
        if not s.MANUAL_ONLY & payload.keys():
            return call("update_transaction", transaction_id, payload)
        own = {k: v for k, v in payload.items() if k != "hidden"}
        result = call("update_manual_transaction", transaction_id, own)
        if "hidden" in payload:
            result = call("update_transaction", transaction_id, {"hidden": payload["hidden"]})
        return result

    @require_auth(WRITE)
    @blp.response(204)
    @blp.doc(summary="Delete a manual transaction (bank transactions: hide them instead)")
    def delete(self, transaction_id):
        call("delete_manual_transaction", transaction_id)
        return None


@blp.route("/transactions/<transaction_id>/split")
class TransactionSplit(MethodView):
    @require_auth(WRITE)
    @blp.arguments(s.SplitIn)
    @blp.response(200, s.TransactionOut)
    @blp.doc(summary="Split a transaction across categories (parts must sum to the amount)")
    def post(self, payload, transaction_id):
        return call("split_transaction", transaction_id, payload)


@blp.route("/transactions/<transaction_id>/not-anomalous")
class TransactionFine(MethodView):
    @require_auth(WRITE)
    @blp.response(200, s.TransactionOut)
    @blp.doc(summary="Dismiss an anomaly flag; later similar charges are treated as normal")
    def post(self, transaction_id):
        return call("mark_transaction_fine", transaction_id)


@blp.route("/categories")
class Categories(MethodView):
    @require_auth(READ)
    @blp.response(200, s.CategoriesOut)
    @blp.doc(summary="The category taxonomy (Plaid PFC v2: primary and detailed)")
    def get(self):
        return call("list_categories")


@blp.route("/categories/suggest", methods=["POST"])
@require_auth(READ)
@blp.arguments(s.SuggestCategoryIn)
@blp.response(200, s.SuggestCategoryOut)
@blp.doc(
    summary="Categorise a transaction before it is stored (your rules, your corrections, model)",
    description="Nothing is stored. Below the confidence gate the answer is uncategorised with "
    "the top three suggestions.",
)
def suggest_category(payload):
    return call("suggest_category", payload)


@blp.route("/budgets")
class Budgets(MethodView):
    @require_auth(READ)
    @blp.arguments(s.MonthQuery, location="query", unknown=RAISE)
    @blp.response(200, s.BudgetsOut)
    @blp.doc(summary="Budgets with their progress for a month (default: this month)")
    def get(self, query):
        return call("list_budgets", query)

    @require_auth(WRITE)
    @blp.arguments(s.BudgetIn)
    @blp.response(201, s.BudgetOut)
    @blp.doc(summary="Create a monthly budget for a category (optional rollover)")
    def post(self, payload):
        return call("create_budget", payload)


@blp.route("/budgets/<budget_id>")
class Budget(MethodView):
    @require_auth(READ)
    @blp.arguments(s.MonthQuery, location="query", unknown=RAISE)
    @blp.response(200, s.BudgetOut)
    def get(self, query, budget_id):
        return call("get_budget", budget_id, query)

    @require_auth(WRITE)
    @blp.arguments(s.BudgetPatchIn)
    @blp.response(200, s.BudgetOut)
    def patch(self, payload, budget_id):
        return call("update_budget", budget_id, payload)

    @require_auth(WRITE)
    @blp.response(204)
    def delete(self, budget_id):
        call("delete_budget", budget_id)
        return None


@blp.route("/cashflow")
class Cashflow(MethodView):
    @require_auth(READ)
    @blp.arguments(s.CashflowQuery, location="query", unknown=RAISE)
    @blp.response(200, s.CashflowOut)
    @blp.doc(summary="Income, spending and net by month or category (transfers left out)")
    def get(self, query):
        return call("cashflow", query)


@blp.route("/recurring")
class Recurring(MethodView):
    @require_auth(READ)
    @blp.arguments(s.RecurringQuery, location="query", unknown=RAISE)
    @blp.response(200, s.RecurringOut)
    @blp.doc(summary="Subscriptions, bills and pay cheques: cadence, next date and amount")
    def get(self, query):
        return call("recurring", query)
