"""portfolio service entrypoints (thin: validate, call the service layer, map errors).

Every user-facing RPC takes the caller's access token first (``principal``) and a payload dict,
is wrapped in ``common.rpc.boundary`` (schema, scopes, step-up) and runs one service-layer
function with a ``UserContext`` scoped to the token's subject: another user's ids answer
``NotFound``. Bad numerical input from the core (``portfolio.errors.InvalidInput``) becomes
``ValidationFailed`` (422) naming the field. See docs/portfolio.md for the contract.

Service layer: ``sync_events`` (consumed events), ``checks`` (drift / TLH events),
``holdings_view``, ``reports`` (allocation, TLH scan, optimiser, net worth, returns),
``plans`` (rebalance), ``goal_store`` (goals and projections).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging

from nameko.rpc import rpc
from nameko.timer import timer

from common.config import env_float
from common.erasure import admit
from common.erasure_handlers import UserDataLifecycle
from common.errors import ValidationFailed
from common.logging import user_id_var
from common.nameko_deps import Database, Outbox, Redis, RequestContext
from common.nameko_events import handles
from common.rpc import boundary
from common.schemas import to_plain, validate_or_raise
from common.service_base import NesteggService
from portfolio import (
    checks,
    goal_store,
    goals,
    holdings_view,
    plans,
    prices,
    reports,
    repository,
    sync_events,
    user_data,
)
from portfolio import schemas as s
from portfolio.context import UserContext
from portfolio.errors import InvalidInput
from portfolio.models import ErasedUser, OutboxEvent, ProcessedEvent, RemovedItem

log = logging.getLogger(__name__)
READ, WRITE = "portfolio:read", "portfolio:write"
SCAN_INTERVAL = env_float("NESTEGG_TLH_SCAN_INTERVAL", 86_400.0)
_PLAIN = s.PlainOut()


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def invalid_input_is_422(method):
    """Map the numerical core's InvalidInput to ValidationFailed with the offending field."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except InvalidInput as exc:
            raise ValidationFailed(str(exc), {"errors": {exc.field: [exc.message]}}) from None

    return wrapper


def _event_day(data: dict, event: dict) -> dt.date:
    return (data["as_of"] or event["occurred_at"]).date()


class PortfolioService(UserDataLifecycle, NesteggService):
    name = "portfolio"
    inbox_model = ProcessedEvent
    erased_model = ErasedUser
    removed_items_model = RemovedItem
    user_data = user_data  # erase / remove_accounts for UserDataLifecycle

    db = Database(name)
    outbox = Outbox(OutboxEvent)
    redis = Redis()
    context = RequestContext()

    # --- plumbing ---------------------------------------------------------------------------
    def _context(self, session, user_id: str) -> UserContext:
        base = prices.feed_from_config(lambda tickers: repository.close_prices(session, tickers))

        def emit(event_type: str, data: dict) -> None:
            self.outbox.add(session, event_type, data, user_id=data["user_id"])

        return UserContext(session, user_id, today(), prices.CachedFeed(base, self.redis), emit)

    def _as_user(self, principal, fn, *args):
        user_id_var.set(principal.user_id)
        with self.db.transaction() as session:
            return fn(self._context(session, principal.user_id), *args)

    # --- events -----------------------------------------------------------------------------
    @handles("aggregation", "holdings_synced")
    def on_holdings_synced(self, session, event):
        data = validate_or_raise(s.HoldingsSynced(), event["data"])
        ctx = self._context(session, data["user_id"])
        sync_events.holdings_synced(ctx, data, _event_day(data, event))

    @handles("aggregation", "balances_updated")
    def on_balances_updated(self, session, event):
        data = validate_or_raise(s.BalancesUpdated(), event["data"])
        ctx = self._context(session, data["user_id"])
        sync_events.balances_updated(ctx, data, _event_day(data, event))

    @rpc
    @boundary(scopes=(READ,), step_up=True)
    def export_user_data(self, principal):
        """Every portfolio row of the caller (account export)."""
        with self.db.transaction() as session:
            return to_plain(user_data.export(session, principal.user_id))

    @handles("users", "risk_profile_updated")
    def on_risk_profile_updated(self, session, event):
        data = validate_or_raise(s.RiskProfileUpdated(), event["data"])
        sync_events.risk_profile_updated(self._context(session, data["user_id"]), data)

    @timer(interval=SCAN_INTERVAL)
    def daily_scan(self):
        """Scan every user with lots: TLH opportunities and drift, each at most once a day."""
        with self.db.transaction() as session:
            users = repository.users_with_holdings(session)
        done = 0
        for user_id in users:
            user_id_var.set(user_id)
            try:
                with self.db.transaction() as session:
                    if not admit(session, ErasedUser, user_id):
                        continue  # erased since the list was read
                    ctx = self._context(session, user_id)
                    checks.tax_loss_harvest(ctx)
                    checks.drift(ctx)
                done += 1
            except Exception:
                log.exception("daily scan failed for one user; continuing")
        user_id_var.set(None)
        return done

    # --- holdings and allocation ------------------------------------------------------------
    @rpc
    @boundary(request=s.Empty(), response=_PLAIN, scopes=(READ,))
    def list_holdings(self, principal, payload=None):
        return self._as_user(principal, holdings_view.report)

    @rpc
    @boundary(request=s.Empty(), response=_PLAIN, scopes=(READ,))
    @invalid_input_is_422
    def allocation(self, principal, payload=None):
        return self._as_user(principal, reports.allocation)

    @rpc
    @boundary(request=s.TargetAllocationIn(), response=_PLAIN, scopes=(WRITE,))
    @invalid_input_is_422
    def set_target_allocation(self, principal, payload):
        goals.check_weights(payload["weights"], "weights")

        def run(ctx):
            repository.set_target_override(
                ctx.session, ctx.user_id, payload["weights"], payload["band"]
            )
            return {"weights": payload["weights"], "band": payload["band"], "source": "manual"}

        return self._as_user(principal, run)

    @rpc
    @boundary(request=s.TaxProfileIn(), response=_PLAIN, scopes=(WRITE,))
    def set_tax_profile(self, principal, payload):
        def run(ctx):
            repository.set_tax_profile(ctx.session, ctx.user_id, dict(payload))
            return dict(payload)

        return self._as_user(principal, run)

    # --- optimiser, rebalance, TLH ----------------------------------------------------------
    @rpc
    @boundary(request=s.OptimizeIn(), response=_PLAIN, scopes=(READ,))
    @invalid_input_is_422
    def optimize(self, principal, payload):
        return self._as_user(principal, reports.optimize, payload)

    @rpc
    @boundary(request=s.RebalanceIn(), response=_PLAIN, scopes=(READ,))
    @invalid_input_is_422
    def rebalance_plan(self, principal, payload):
        return self._as_user(principal, plans.create, payload)

    @rpc
    @boundary(request=s.PlanIdIn(), response=_PLAIN, scopes=(WRITE,), step_up=True)
    def mark_rebalance_executed(self, principal, payload):
        return self._as_user(principal, plans.mark_executed, payload["plan_id"])

    @rpc
    @boundary(request=s.Empty(), response=_PLAIN, scopes=(READ,))
    @invalid_input_is_422
    def tlh_scan(self, principal, payload=None):
        return self._as_user(principal, reports.tlh)

    # --- goals ------------------------------------------------------------------------------
    @rpc
    @boundary(request=s.GoalFields(), scopes=(WRITE,))
    @invalid_input_is_422
    def create_goal(self, principal, payload):
        if payload["allocation"] is not None:
            goals.check_weights(payload["allocation"])
        return self._as_user(principal, goal_store.create, payload)

    @rpc
    @boundary(request=s.Empty(), scopes=(READ,))
    def list_goals(self, principal, payload=None):
        return self._as_user(principal, goal_store.list_all)

    @rpc
    @boundary(request=s.GoalIdIn(), scopes=(READ,))
    def get_goal(self, principal, payload):
        return self._as_user(principal, goal_store.get, payload["goal_id"])

    @rpc
    @boundary(request=s.GoalUpdateIn(), scopes=(WRITE,))
    @invalid_input_is_422
    def update_goal(self, principal, payload):
        if payload.get("allocation") is not None:
            goals.check_weights(payload["allocation"])
        return self._as_user(principal, goal_store.update, payload)

    @rpc
    @boundary(request=s.GoalIdIn(), scopes=(WRITE,))
    def delete_goal(self, principal, payload):
        return self._as_user(principal, goal_store.delete, payload["goal_id"])

    @rpc
    @boundary(request=s.ProjectionIn(), response=_PLAIN, scopes=(READ,))
    @invalid_input_is_422
    def goal_projection(self, principal, payload):
        return self._as_user(principal, goal_store.projection, payload)

    # --- net worth and returns --------------------------------------------------------------
    @rpc
    @boundary(request=s.NetWorthIn(), response=_PLAIN, scopes=(READ,))
    @invalid_input_is_422
    def net_worth(self, principal, payload):
        return self._as_user(principal, reports.net_worth, payload)

    @rpc
    @boundary(request=s.ReturnsIn(), response=_PLAIN, scopes=(READ,))
    @invalid_input_is_422
    def returns(self, principal, payload):
        return self._as_user(principal, reports.returns, payload)
