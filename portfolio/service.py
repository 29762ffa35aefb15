"""portfolio service entrypoints (thin: validate, call domain code, dispatch events).

Every user-facing RPC takes the caller's access token first (``principal``) and a payload dict,
is wrapped in ``common.rpc.boundary`` and scoped by the token's subject: another user's ids
answer ``NotFound``. Bad numerical input from the core (``portfolio.errors.InvalidInput``)
becomes ``ValidationFailed`` (422) naming the field. See docs/portfolio.md for the contract.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from decimal import Decimal

from nameko.rpc import rpc
from nameko.timer import timer

from common.config import env_float
from common.errors import Conflict, NotFound, ValidationFailed
from common.logging import user_id_var
from common.nameko_deps import Database, Outbox, Redis, RequestContext
from common.nameko_events import handles
from common.rpc import boundary
from common.schemas import validate_or_raise
from common.service_base import NesteggService
from portfolio import (
    goals,
    holdings_ingest,
    networth,
    optimisation,
    prices,
    reference,
    repository,
    scan,
    valuations,
)
from portfolio import schemas as s
from portfolio.errors import InvalidInput
from portfolio.lots import ReportedHolding
from portfolio.models import Goal, OutboxEvent, ProcessedEvent, RebalancePlanRecord
from portfolio.rebalance import plan_rebalance

log = logging.getLogger(__name__)
READ, WRITE = "portfolio:read", "portfolio:write"
SCAN_INTERVAL = env_float("NESTEGG_TLH_SCAN_INTERVAL", 86_400.0)
_PLAIN = s.PlainOut()
_GOAL = s.GoalOut()


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


def _goal_out(goal: Goal) -> dict:
    data = _GOAL.dump(goal)
    data["glide_path"] = goal.allocation is None
    return data


class PortfolioService(NesteggService):
    name = "portfolio"
    inbox_model = ProcessedEvent

    db = Database(name)
    outbox = Outbox(OutboxEvent)
    redis = Redis()
    context = RequestContext()

    # --- plumbing ---------------------------------------------------------------------------
    def _feed(self, session) -> prices.CachedFeed:
        base = prices.feed_from_config(lambda tickers: repository.close_prices(session, tickers))
        return prices.CachedFeed(base, self.redis)

    def _quotes(self, session, tickers) -> dict[str, prices.Quote]:
        return self._feed(session).closes(tickers, today())

    def _as_user(self, principal, fn):
        user_id_var.set(principal.user_id)
        with self.db.transaction() as session:
            return fn(session, principal.user_id)

    def _emit(self, session, event_type: str, data: dict) -> None:
        self.outbox.add(session, event_type, data, user_id=data["user_id"])

    def _check_drift(self, session, user_id: str) -> None:
        holdings = repository.holdings(session, user_id)
        if not holdings.lots:
            return
        quotes = self._quotes(session, holdings.tickers)
        target = scan.target_for(
            repository.target_override(session, user_id), repository.risk_profile(session, user_id)
        )
        report = scan.allocation_report(
            holdings.lots, {t: q.price for t, q in quotes.items()}, target
        )
        event = scan.drift_event(user_id, report)
        if event and repository.claim_notice(session, user_id, "drift", today(), "total"):
            self._emit(session, "drift_detected", event)

    def _scan_tlh(self, session, user_id: str) -> None:
        holdings = repository.holdings(session, user_id)
        if not holdings.lots:
            return
        quotes = self._quotes(session, holdings.tickers)
        situation = scan.tax_situation(
            repository.tax_profile(session, user_id), holdings.book.realized, today()
        )
        plan = scan.tlh_plan(holdings, {t: q.price for t, q in quotes.items()}, situation, today())
        event = scan.tlh_event(user_id, plan)
        if event is None:
            return
        fp = scan.fingerprint(h.lot_id for h in plan.harvests)
        if repository.claim_notice(session, user_id, "tlh_opportunity", today(), fp):
            self._emit(session, "tlh_opportunity", event)

    # --- events -----------------------------------------------------------------------------
    @handles("aggregation", "holdings_synced")
    def on_holdings_synced(self, session, event):
        data = validate_or_raise(s.HoldingsSynced(), event["data"])
        user_id = data["user_id"]
        repository.upsert_accounts(session, user_id, data["item_id"], data["accounts"])
        changed = repository.upsert_securities(session, data["securities"])
        self._feed(session).invalidate(changed)
        tickers = holdings_ingest.ticker_map(data["securities"])
        ids = {h["security_id"] for h in data["holdings"]}
        ids |= {t["security_id"] for t in data["investment_transactions"] if t["security_id"]}
        tickers = {**repository.stored_ticker_map(session, ids - set(tickers)), **tickers}
        repository.upsert_investment_transactions(
            session, user_id, data["investment_transactions"], tickers
        )
        day = (data["as_of"] or event["occurred_at"]).date()
        repository.upsert_snapshots(session, user_id, day, data["accounts"])
        self._rebuild(session, user_id, data, tickers)
        self._check_drift(session, user_id)

    def _rebuild(self, session, user_id: str, data: dict, tickers: dict[str, str]) -> None:
        types = repository.account_types(session, user_id)
        cash_ids = {x["security_id"] for x in data["securities"] if x.get("type") == "cash"}
        synced = {a["account_id"] for a in data["accounts"]}
        synced |= {h["account_id"] for h in data["holdings"]}
        reported, cash, values = [], [], {}
        for h in data["holdings"]:
            ticker = tickers.get(h["security_id"], h["security_id"]).upper()
            row = ReportedHolding(h["account_id"], ticker, h["quantity"], h["cost_basis"])
            (cash if h["security_id"] in cash_ids else reported).append(row)
            values[(h["account_id"], ticker)] = h["institution_value"]
        for p in repository.positions(session, user_id):  # other items keep their last report
            if p.account_id in synced or p.reported_quantity is None:
                continue
            row = ReportedHolding(
                p.account_id, p.ticker, p.reported_quantity, p.reported_cost_basis
            )
            is_cash = p.ticker.startswith("CUR:") and p.quantity == p.reported_quantity
            (cash if is_cash else reported).append(row)
            values[(p.account_id, p.ticker)] = p.institution_value
        rebuilt = holdings_ingest.rebuild(
            repository.lot_transactions(session, user_id),
            types,
            reported,
            cash=cash,
            security_ids={t: sid for sid, t in tickers.items()},
            institution_values=values,
        )
        for issue in rebuilt.issues:
            log.warning("holdings history issue: %s", issue["detail"])
        repository.replace_positions(session, user_id, rebuilt)

    @handles("aggregation", "balances_updated")
    def on_balances_updated(self, session, event):
        data = validate_or_raise(s.BalancesUpdated(), event["data"])
        repository.upsert_accounts(session, data["user_id"], data["item_id"], data["accounts"])
        day = (data["as_of"] or event["occurred_at"]).date()
        repository.upsert_snapshots(session, data["user_id"], day, data["accounts"])

    @handles("users", "risk_profile_updated")
    def on_risk_profile_updated(self, session, event):
        data = validate_or_raise(s.RiskProfileUpdated(), event["data"])
        repository.upsert_risk_profile(
            session, data["user_id"], data["risk_score"], data["horizon_years"]
        )

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
                    self._scan_tlh(session, user_id)
                    self._check_drift(session, user_id)
                done += 1
            except Exception:
                log.exception("daily scan failed for one user; continuing")
        user_id_var.set(None)
        return done

    # --- holdings and allocation ------------------------------------------------------------
    @rpc
    @boundary(request=s.Empty(), response=_PLAIN, scopes=(READ,))
    def list_holdings(self, principal, payload=None):
        def run(session, user_id):
            accounts = repository.accounts(session, user_id)
            positions = repository.positions(session, user_id)
            lots = repository.tax_lots(session, user_id)
            quotes = self._quotes(session, [p.ticker for p in positions])
            table = prices.quote_table(quotes, today())
            out_accounts = []
            for acct in sorted(accounts.values(), key=lambda a: a.account_id):
                if not acct.tax_type:
                    continue
                rows = []
                for p in (p for p in positions if p.account_id == acct.account_id):
                    q = quotes.get(p.ticker)
                    cash = p.ticker.startswith("CUR:")
                    value = p.quantity if cash else (p.quantity * q.price if q else None)
                    rows.append(
                        {
                            "ticker": p.ticker,
                            "security_id": p.security_id,
                            "asset_class": reference.load().class_of(p.ticker),
                            "quantity": p.quantity,
                            "cost_basis": p.cost_basis,
                            "price": table.get(p.ticker),
                            "market_value": value.quantize(Decimal("0.01")) if value else value,
                            "unrealized_gain": (value - p.cost_basis).quantize(Decimal("0.01"))
                            if value is not None and not cash
                            else None,
                            "reported_quantity": p.reported_quantity,
                            "reported_cost_basis": p.reported_cost_basis,
                            "institution_value": p.institution_value,
                            "mismatch": p.mismatch,
                            "issues": p.issues,
                            "lots": [
                                {
                                    "lot_id": lot.lot_id,
                                    "quantity": lot.quantity,
                                    "cost_basis": lot.cost_basis,
                                    "acquired": lot.acquired,
                                    "term": "long"
                                    if (today() - lot.acquired).days > 365
                                    else "short",
                                }
                                for lot in lots
                                if lot.account_id == p.account_id and lot.ticker == p.ticker
                            ],
                        }
                    )
                out_accounts.append(
                    {
                        "account_id": acct.account_id,
                        "name": acct.name,
                        "mask": acct.mask,
                        "tax_type": acct.tax_type,
                        "positions": rows,
                    }
                )
            return {
                "accounts": out_accounts,
                "stale_prices": sorted(t for t, q in table.items() if q["stale"]),
                "mismatches": sum(1 for p in positions if p.mismatch),
            }

        return self._as_user(principal, run)

    @rpc
    @boundary(request=s.Empty(), response=_PLAIN, scopes=(READ,))
    @invalid_input_is_422
    def allocation(self, principal, payload=None):
        def run(session, user_id):
            holdings = repository.holdings(session, user_id)
            quotes = self._quotes(session, holdings.tickers)
            target = scan.target_for(
                repository.target_override(session, user_id),
                repository.risk_profile(session, user_id),
            )
            report = scan.allocation_report(
                holdings.lots, {t: q.price for t, q in quotes.items()}, target
            )
            table = prices.quote_table(quotes, today())
            report["stale_prices"] = sorted(t for t, q in table.items() if q["stale"])
            return report

        return self._as_user(principal, run)

    @rpc
    @boundary(request=s.TargetAllocationIn(), response=_PLAIN, scopes=(WRITE,))
    @invalid_input_is_422
    def set_target_allocation(self, principal, payload):
        goals.check_weights(payload["weights"], "weights")

        def run(session, user_id):
            repository.set_target_override(session, user_id, payload["weights"], payload["band"])
            return {"weights": payload["weights"], "band": payload["band"], "source": "manual"}

        return self._as_user(principal, run)

    @rpc
    @boundary(request=s.TaxProfileIn(), response=_PLAIN, scopes=(WRITE,))
    def set_tax_profile(self, principal, payload):
        def run(session, user_id):
            repository.set_tax_profile(session, user_id, dict(payload))
            return dict(payload)

        return self._as_user(principal, run)

    # --- optimiser, rebalance, TLH ----------------------------------------------------------
    @rpc
    @boundary(request=s.OptimizeIn(), response=_PLAIN, scopes=(READ,))
    @invalid_input_is_422
    def optimize(self, principal, payload):
        def run(session, user_id):
            def price_of(tickers):
                return {t: q.price for t, q in self._quotes(session, tickers).items()}

            return optimisation.run(payload, price_of)

        return self._as_user(principal, run)

    @rpc
    @boundary(request=s.RebalanceIn(), response=_PLAIN, scopes=(READ,))
    @invalid_input_is_422
    def rebalance_plan(self, principal, payload):
        def run(session, user_id):
            holdings = repository.holdings(session, user_id)
            cash = {}
            if payload["new_cash"]:
                acct = payload["cash_account_id"]
                investment = sorted(holdings.account_types)
                if acct is None and len(investment) == 1:
                    acct = investment[0]
                if acct is None:
                    raise InvalidInput("cash_account_id", "say which account the cash goes to")
                if acct not in holdings.account_types:
                    raise NotFound("No such investment account", {"account_id": acct})
                cash[acct] = payload["new_cash"]
            target = scan.target_for(
                repository.target_override(session, user_id),
                repository.risk_profile(session, user_id),
            )
            ref = reference.load()
            wanted = set(holdings.tickers)
            for cls in target.weights:
                wanted |= set(ref.asset_class(cls).etfs)
            quotes = self._quotes(session, wanted)
            px = {t: q.price for t, q in quotes.items()}
            situation = scan.tax_situation(
                repository.tax_profile(session, user_id), holdings.book.realized, today()
            )
            band = payload["band"] if payload["band"] is not None else target.band
            plan = plan_rebalance(
                holdings.lots,
                px,
                holdings.account_types,
                target.weights,
                today=today(),
                rates=situation.rates,
                cash=cash,
                band=band,
                history=holdings.history,
                realized=holdings.book.realized,
            )
            body = {
                "as_of": today(),
                "band": band,
                "target_source": target.source,
                "trades": [t.__dict__ for t in plan.trades],
                "drift_before": {"total": plan.drift_before.total, **plan.drift_before.per_class},
                "drift_after": {"total": plan.drift_after.total, **plan.drift_after.per_class},
                "estimated_tax": plan.estimated_tax,
                "unclassified": plan.unclassified,
                "rebalance_needed": plan.rebalanced,
            }
            body = s.plain(body)
            record = RebalancePlanRecord(id=repository._new_id(), user_id=user_id, plan=body)
            session.add(record)
            return {"plan_id": record.id, **body}

        return self._as_user(principal, run)

    @rpc
    @boundary(request=s.PlanIdIn(), response=_PLAIN, scopes=(WRITE,), step_up=True)
    def mark_rebalance_executed(self, principal, payload):
        def run(session, user_id):
            row = session.get(RebalancePlanRecord, payload["plan_id"], with_for_update=True)
            if row is None or row.user_id != user_id:
                raise NotFound("No such rebalance plan", {"plan_id": payload["plan_id"]})
            if row.executed_at is not None:
                raise Conflict("This plan was already marked executed")
            row.executed_at = dt.datetime.now(dt.UTC)
            return {"plan_id": row.id, "executed_at": row.executed_at}

        return self._as_user(principal, run)

    @rpc
    @boundary(request=s.Empty(), response=_PLAIN, scopes=(READ,))
    @invalid_input_is_422
    def tlh_scan(self, principal, payload=None):
        def run(session, user_id):
            holdings = repository.holdings(session, user_id)
            quotes = self._quotes(session, holdings.tickers)
            situation = scan.tax_situation(
                repository.tax_profile(session, user_id), holdings.book.realized, today()
            )
            plan = scan.tlh_plan(
                holdings, {t: q.price for t, q in quotes.items()}, situation, today()
            )
            report = scan.tlh_report(plan, situation, today())
            table = prices.quote_table(quotes, today())
            report["stale_prices"] = sorted(t for t, q in table.items() if q["stale"])
            return report

        return self._as_user(principal, run)

    # --- goals ------------------------------------------------------------------------------
    def _check_accounts(self, session, user_id, account_ids) -> None:
        known = repository.accounts(session, user_id)
        unknown = sorted(set(account_ids) - set(known))
        if unknown:
            raise NotFound("No such account", {"account_ids": unknown})

    @rpc
    @boundary(request=s.GoalFields(), scopes=(WRITE,))
    @invalid_input_is_422
    def create_goal(self, principal, payload):
        if payload["allocation"] is not None:
            goals.check_weights(payload["allocation"])

        def run(session, user_id):
            key = payload.pop("idempotency_key", None)
            if key:
                existing = repository.goal_by_key(session, user_id, key)
                if existing is not None:
                    return _goal_out(existing)
            self._check_accounts(session, user_id, payload["linked_account_ids"])
            data = dict(payload)
            if data["allocation"] is not None:
                data["allocation"] = {k: str(v) for k, v in data["allocation"].items()}
            goal = Goal(id=repository._new_id(), user_id=user_id, idempotency_key=key, **data)
            session.add(goal)
            session.flush()
            session.refresh(goal)
            return _goal_out(goal)

        return self._as_user(principal, run)

    @rpc
    @boundary(request=s.Empty(), scopes=(READ,))
    def list_goals(self, principal, payload=None):
        return self._as_user(
            principal,
            lambda session, user_id: [_goal_out(g) for g in repository.goals(session, user_id)],
        )

    @rpc
    @boundary(request=s.GoalIdIn(), scopes=(READ,))
    def get_goal(self, principal, payload):
        return self._as_user(
            principal,
            lambda session, user_id: _goal_out(
                repository.goal(session, user_id, payload["goal_id"])
            ),
        )

    @rpc
    @boundary(request=s.GoalUpdateIn(), scopes=(WRITE,))
    @invalid_input_is_422
    def update_goal(self, principal, payload):
        if payload.get("allocation") is not None:
            goals.check_weights(payload["allocation"])

        def run(session, user_id):
            goal = repository.goal(session, user_id, payload.pop("goal_id"), for_update=True)
            if "linked_account_ids" in payload:
                self._check_accounts(session, user_id, payload["linked_account_ids"])
            for key, value in payload.items():
                if key == "allocation" and value is not None:
                    value = {k: str(v) for k, v in value.items()}
                setattr(goal, key, value)
            session.flush()
            session.refresh(goal)
            return _goal_out(goal)

        return self._as_user(principal, run)

    @rpc
    @boundary(request=s.GoalIdIn(), scopes=(WRITE,))
    def delete_goal(self, principal, payload):
        def run(session, user_id):
            session.delete(repository.goal(session, user_id, payload["goal_id"], for_update=True))
            return {"goal_id": payload["goal_id"], "deleted": True}

        return self._as_user(principal, run)

    @rpc
    @boundary(request=s.ProjectionIn(), response=_PLAIN, scopes=(READ,))
    @invalid_input_is_422
    def goal_projection(self, principal, payload):
        def run(session, user_id):
            goal = repository.goal(session, user_id, payload["goal_id"])
            linked = set(goal.linked_account_ids or [])
            balance = goal.initial_amount
            latest: dict[str, tuple[dt.date, Decimal]] = {}
            for snap in repository.snapshots(session, user_id, today()):
                prev = latest.get(snap.account_id)
                if snap.account_id in linked and (prev is None or snap.day > prev[0]):
                    latest[snap.account_id] = (snap.day, snap.current)
            balance += sum((max(v, Decimal(0)) for _, v in latest.values()), Decimal(0))
            risk = repository.risk_profile(session, user_id)
            report = goals.project_goal(
                {
                    "target_date": goal.target_date,
                    "target_amount": goal.target_amount,
                    "monthly_contribution": goal.monthly_contribution,
                    "contribution_growth": goal.contribution_growth,
                    "allocation": goal.allocation,
                },
                starting_balance=balance,
                risk_score=risk.risk_score if risk else None,
                today=today(),
                mode=payload["mode"],
                paths=payload["paths"],
                seed=payload["seed"],
                success_probability=payload["success_probability"],
            )
            return {"goal_id": goal.id, "target_amount": goal.target_amount, **report}

        return self._as_user(principal, run)

    # --- net worth and returns --------------------------------------------------------------
    @rpc
    @boundary(request=s.NetWorthIn(), response=_PLAIN, scopes=(READ,))
    @invalid_input_is_422
    def net_worth(self, principal, payload):
        def run(session, user_id):
            points = networth.series(
                repository.snapshots(session, user_id, payload["end"]),
                repository.account_infos(session, user_id),
                payload["start"],
                payload["end"],
                payload["interval"],
            )
            return {"interval": payload["interval"], "points": points}

        return self._as_user(principal, run)

    @rpc
    @boundary(request=s.ReturnsIn(), response=_PLAIN, scopes=(READ,))
    @invalid_input_is_422
    def returns(self, principal, payload):
        def run(session, user_id):
            investment = sorted(repository.account_types(session, user_id))
            chosen = payload["account_ids"] or investment
            unknown = sorted(set(chosen) - set(investment))
            if unknown:
                raise NotFound("No such investment account", {"account_ids": unknown})
            flows = valuations.external_flows(repository.stored_transactions(session, user_id))
            report = valuations.compute(
                repository.snapshots(session, user_id, payload["end"]),
                flows,
                chosen,
                payload["start"],
                payload["end"],
            )
            r = report.returns
            return {
                "account_ids": chosen,
                "start": r.start,
                "end": r.end,
                "simple": r.simple,
                "time_weighted": r.time_weighted,
                "time_weighted_annual": r.time_weighted_annual,
                "money_weighted_annual": r.money_weighted_annual,
                "formulas": valuations.FORMULAS,
                "approximated_days": report.approximated_days,
            }

        return self._as_user(principal, run)
