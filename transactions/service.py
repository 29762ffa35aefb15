"""transactions service entrypoints (thin: validate, open the transaction, call one function).

Every user-facing RPC takes the caller's signed access token as ``principal`` first, is wrapped
in ``common.rpc.boundary`` (schema, scopes, step-up) and runs one service-layer function with a
``UserContext`` scoped to the token's subject: another user's ids answer NotFound, never
Forbidden. Events are written to the outbox through ``UserContext.emit`` in the same database
transaction. Sign convention everywhere: negative = money out, positive = money in.

Service layer (docs/transactions.md, "Modules"): ``ingest`` (transactions_synced), ``flags``
(anomaly flags), ``budget_store`` / ``budget_progress`` / ``budget_alerts``, ``queries`` and
``listing`` (reads), ``edits`` (user edits, splits), ``manual`` (hand-entered transactions),
``rule_store`` / ``rule_actions`` (rules, preview, apply), ``money_views`` (cash flow,
recurring), ``user_data`` (export, erasure), ``suggest``.
"""

from __future__ import annotations

import datetime as dt
import logging

from nameko.rpc import rpc

from common.erasure_handlers import UserDataLifecycle
from common.nameko_deps import Database, Outbox, Redis, RequestContext
from common.nameko_events import handles
from common.rpc import boundary
from common.schemas import to_plain, validate_or_raise
from common.service_base import NesteggService
from transactions import (
    budget_store,
    categorization,
    edits,
    export,
    flags,
    ingest,
    listing,
    manual,
    money_views,
    rule_actions,
    rule_store,
    user_data,
)
from transactions import schemas as s
from transactions.context import UserContext
from transactions.input_checks import check_idempotency_key
from transactions.models import ErasedUser, OutboxEvent, ProcessedEvent, RemovedItem
from transactions.store import FieldKeys
from transactions.suggest import suggest

log = logging.getLogger(__name__)
READ, WRITE = ("transactions:read",), ("transactions:write",)
_keys: FieldKeys | None = None
_categorizer = categorization.Categorizer(cache_factory=categorization.redis_prediction_cache)


def field_keys() -> FieldKeys:
    global _keys
    if _keys is None:
        _keys = FieldKeys()
    return _keys


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class TransactionsService(UserDataLifecycle, NesteggService):
    name = "transactions"
    inbox_model = ProcessedEvent
    erased_model = ErasedUser
    removed_items_model = RemovedItem
    user_data = user_data  # erase / remove_accounts for UserDataLifecycle

    db = Database(name)
    outbox = Outbox(OutboxEvent)
    redis = Redis()
    context = RequestContext()

    # -- plumbing ----------------------------------------------------------------------------

    def _context(self, session, user_id: str) -> UserContext:
        def emit(event_type: str, data: dict) -> None:
            self.outbox.add(session, event_type, data, user_id=data["user_id"])

        return UserContext(session, user_id, field_keys(), today(), emit, _categorizer)

    def _as_user(self, principal, fn, *args):
        with self.db.transaction() as session:
            return fn(self._context(session, principal.user_id), *args)

    # -- consumed events ---------------------------------------------------------------------

    @handles("aggregation", "transactions_synced")
    def on_transactions_synced(self, session, event):
        data = validate_or_raise(s.TransactionsSyncedData(), event["data"])
        ingest.transactions_synced(self._context(session, data["user_id"]), data)

    # -- reading -----------------------------------------------------------------------------

    @rpc
    @boundary(request=s.ListTransactionsIn(), scopes=READ)
    def list_transactions(self, principal, payload):
        return to_plain(self._as_user(principal, listing.page, payload))

    @rpc
    @boundary(scopes=READ)
    def get_transaction(self, principal, transaction_id):
        return self._as_user(principal, listing.get, transaction_id)

    @rpc
    @boundary(scopes=READ)
    def list_categories(self, principal):
        return {"taxonomy": "pfc_v2", "categories": categorization.list_categories()}

    @rpc
    @boundary(scopes=READ)
    def export_transactions_csv(self, principal, filters=None):
        payload = validate_or_raise(s.TransactionFilters(), filters or {})
        return export.to_csv(to_plain(self._as_user(principal, listing.export_rows, payload)))

    @rpc
    @boundary(request=s.SuggestCategoryIn(), scopes=READ)
    def suggest_category(self, principal, payload):
        """What the categoriser says of a transaction the user is about to enter."""
        with self.db.transaction() as session:
            found = suggest(field_keys(), session, _categorizer, principal.user_id, payload)
        return to_plain(found)

    @rpc
    @boundary(scopes=READ, step_up=True)
    def export_user_data(self, principal):
        """The caller's whole ledger, budgets, rules and corrections (account export)."""
        with self.db.transaction() as session:
            return to_plain(user_data.export(field_keys(), session, principal.user_id))

    # -- user edits --------------------------------------------------------------------------

    @rpc
    @boundary(scopes=WRITE)
    def update_transaction(self, principal, transaction_id, patch):
        patch = validate_or_raise(s.TransactionPatch(), patch)
        return to_plain(self._as_user(principal, edits.update, transaction_id, patch))

    @rpc
    @boundary(scopes=WRITE)
    def split_transaction(self, principal, transaction_id, payload):
        payload = validate_or_raise(s.SplitIn(), payload)
        return to_plain(self._as_user(principal, edits.split, transaction_id, payload["parts"]))

    @rpc
    @boundary(scopes=WRITE)
    def mark_transaction_fine(self, principal, transaction_id):
        """The user says a (flagged) transaction is fine; the anomaly scorer learns from it."""
        return self._as_user(principal, flags.mark_fine, transaction_id)

    # -- manual transactions -----------------------------------------------------------------

    @rpc
    @boundary(request=s.ManualTransactionIn(), scopes=WRITE)
    def create_manual_transaction(self, principal, payload, idempotency_key=None):
        """Add a transaction by hand; the same ``idempotency_key`` returns the first result."""
        check_idempotency_key(idempotency_key)
        return to_plain(self._as_user(principal, manual.create, payload, idempotency_key))

    @rpc
    @boundary(scopes=WRITE)
    def update_manual_transaction(self, principal, transaction_id, payload):
        payload = validate_or_raise(s.ManualTransactionIn(), payload, partial=True)
        return to_plain(self._as_user(principal, manual.update, transaction_id, payload))

    @rpc
    @boundary(scopes=WRITE)
    def delete_manual_transaction(self, principal, transaction_id):
        return self._as_user(principal, manual.delete, transaction_id)

    # -- categorisation rules (layer 1 of the categoriser; transactions/rule_store.py) --------

    @rpc
    @boundary(request=s.RuleIn(), scopes=WRITE)
    def create_rule(self, principal, payload, idempotency_key=None):
        """Add a rule at the end of the list; the same ``idempotency_key`` returns the first."""
        check_idempotency_key(idempotency_key)
        with self.db.transaction() as session:
            rule = rule_store.create(
                field_keys(), session, principal.user_id, payload, idempotency_key
            )
        return to_plain(rule)

    @rpc
    @boundary(scopes=READ)
    def list_rules(self, principal):
        with self.db.transaction() as session:
            return to_plain(
                {"rules": rule_store.list_rules(field_keys(), session, principal.user_id)}
            )

    @rpc
    @boundary(scopes=READ)
    def get_rule(self, principal, rule_id):
        with self.db.transaction() as session:
            row = rule_store.owned_rule(session, principal.user_id, rule_id)
            return to_plain(rule_store.rule_out(field_keys(), row))

    @rpc
    @boundary(scopes=WRITE)
    def update_rule(self, principal, rule_id, patch):
        """PATCH a rule: given fields replace, null clears a condition; checked again whole."""
        patch = validate_or_raise(s.RuleIn(), patch, partial=True)
        with self.db.transaction() as session:
            rule = rule_store.update(field_keys(), session, principal.user_id, rule_id, patch)
        return to_plain(rule)

    @rpc
    @boundary(scopes=WRITE)
    def delete_rule(self, principal, rule_id):
        with self.db.transaction() as session:
            rule_store.delete(session, principal.user_id, rule_id)
        return {"deleted": rule_id}

    @rpc
    @boundary(request=s.RuleOrderIn(), scopes=WRITE)
    def reorder_rules(self, principal, payload):
        """Set the order rules are tried in (``rule_ids``: every rule of the user, once)."""
        with self.db.transaction() as session:
            rules = rule_store.reorder(
                field_keys(), session, principal.user_id, payload["rule_ids"]
            )
        return to_plain({"rules": rules})

    @rpc
    @boundary(scopes=READ)
    def preview_rule(self, principal, rule_id, options=None):
        """What applying a stored rule would change in past transactions; changes nothing."""
        options = validate_or_raise(s.RulePreviewIn(), options or {})
        return to_plain(self._as_user(principal, rule_actions.preview_saved, rule_id, options))

    @rpc
    @boundary(request=s.RuleIn(), scopes=READ)
    def preview_unsaved_rule(self, principal, payload, options=None):
        """What a rule body (not stored) would change in past transactions."""
        options = validate_or_raise(s.RulePreviewIn(), options or {})
        return to_plain(self._as_user(principal, rule_actions.preview_unsaved, payload, options))

    @rpc
    @boundary(scopes=WRITE)
    def apply_rule(self, principal, rule_id, options=None):
        """Re-categorise the user's matching past transactions by the rule (idempotent; hand-set
        categories only with ``include_manual``)."""
        options = validate_or_raise(s.RuleApplyIn(), options or {})
        return to_plain(
            self._as_user(principal, rule_actions.apply, rule_id, options["include_manual"])
        )

    # -- budgets -----------------------------------------------------------------------------

    @rpc
    @boundary(request=s.BudgetIn(), scopes=WRITE)
    def create_budget(self, principal, payload):
        return to_plain(self._as_user(principal, budget_store.create, payload))

    @rpc
    @boundary(scopes=READ)
    def list_budgets(self, principal, payload=None):
        """Budgets with progress for ``month`` (default: the current month)."""
        payload = validate_or_raise(s.BudgetProgressIn(), payload or {})
        return to_plain(self._as_user(principal, budget_store.list_all, payload.get("month")))

    @rpc
    @boundary(scopes=READ)
    def get_budget(self, principal, budget_id, payload=None):
        payload = validate_or_raise(s.BudgetProgressIn(), payload or {})
        return to_plain(self._as_user(principal, budget_store.get, budget_id, payload.get("month")))

    @rpc
    @boundary(scopes=WRITE)
    def update_budget(self, principal, budget_id, patch):
        patch = validate_or_raise(s.BudgetPatch(), patch)
        return to_plain(self._as_user(principal, budget_store.update, budget_id, patch))

    @rpc
    @boundary(scopes=WRITE)
    def delete_budget(self, principal, budget_id):
        return self._as_user(principal, budget_store.delete, budget_id)

    # -- money views -------------------------------------------------------------------------

    @rpc
    @boundary(request=s.CashflowIn(), scopes=READ)
    def cashflow(self, principal, payload):
        return to_plain(self._as_user(principal, money_views.cashflow, payload))

    @rpc
    @boundary(scopes=READ)
    def recurring(self, principal, payload=None):
        payload = validate_or_raise(s.RecurringIn(), payload or {})
        return to_plain(self._as_user(principal, money_views.recurring, payload.get("as_of")))
