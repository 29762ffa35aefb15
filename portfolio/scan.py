"""Allocation, drift and tax-loss-harvesting analyses for one user (plain data in and out).

The RPCs and the daily timer share these, so an on-demand ``tlh_scan`` and the daily
``tlh_opportunity`` event always agree.

* Target: the user's manual override if set, else ``allocation.target_allocation(risk_score,
  horizon_years)`` from the stored risk profile, else the moderate default (risk 6, 20 years).
* Drift: ``rebalance.drift`` over asset-class values (quantity x price of every lot in every
  investment account); total drift = 1/2 sum |w_i - t_i|. Tickers without an asset class are
  listed as unclassified and left out.
* Tax profile defaults when none is stored: 24% short-term (ordinary) and 15% long-term rates,
  no carryforward. Realised gains this year come from the synced history plus what the user
  reported for outside accounts.
* Events: one ``tlh_opportunity`` per (user, day, set of harvestable lots) and one
  ``drift_detected`` per (user, day); :func:`fingerprint` names the opportunity.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from portfolio import allocation, rebalance, reference
from portfolio.errors import InvalidInput
from portfolio.lots import Lot, RealizedGain
from portfolio.tlh import TaxRates, TLHPlan, plan_harvest

ZERO = Decimal(0)
DEFAULT_RISK = (6, 20)
DEFAULT_BAND = Decimal("0.03")
DEFAULT_SHORT_RATE = Decimal("0.24")
DEFAULT_LONG_RATE = Decimal("0.15")
W = Decimal("0.000001")


@dataclass(frozen=True)
class Target:
    weights: dict[str, Decimal]
    source: str  # manual | risk_profile | default
    band: Decimal


def target_for(override, risk) -> Target:
    """``override``: a TargetAllocation row or None; ``risk``: a RiskProfile row or None."""
    band = DEFAULT_BAND
    if override is not None:
        weights = {k: Decimal(v) for k, v in override.weights.items()}
        return Target(weights, "manual", override.band if override.band is not None else band)
    if risk is not None:
        return Target(
            allocation.target_allocation(int(risk.risk_score), int(risk.horizon_years)),
            "risk_profile",
            band,
        )
    return Target(allocation.target_allocation(*DEFAULT_RISK), "default", band)


def class_values(
    lots: Iterable[Lot], prices: Mapping[str, Decimal]
) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """(asset class -> value, unclassified ticker -> value); lots without a price are skipped
    by the caller (it reports them as unpriced)."""
    ref = reference.load()
    values: dict[str, Decimal] = defaultdict(lambda: ZERO)
    unclassified: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for lot in lots:
        price = prices.get(lot.ticker)
        if price is None:
            continue
        cls = ref.class_of(lot.ticker)
        (values if cls else unclassified)[cls or lot.ticker] += lot.quantity * price
    return dict(values), dict(unclassified)


def allocation_report(
    lots: Iterable[Lot], prices: Mapping[str, Decimal], target: Target, band: Decimal | None = None
) -> dict:
    lots = list(lots)
    band = target.band if band is None else band
    values, unclassified = class_values(lots, prices)
    unpriced = sorted({lot.ticker for lot in lots if lot.ticker not in prices})
    total = sum(values.values(), ZERO)
    report = {
        "target_source": target.source,
        "band": band,
        "total_value": total.quantize(Decimal("0.01")),
        "unclassified": {k: v.quantize(Decimal("0.01")) for k, v in sorted(unclassified.items())},
        "unpriced": unpriced,
    }
    classes = sorted(set(values) | set(target.weights))
    if total <= 0:
        report.update(
            classes=[
                {
                    "asset_class": c,
                    "value": ZERO,
                    "current_weight": None,
                    "target_weight": target.weights.get(c, ZERO),
                    "drift": None,
                }
                for c in classes
            ],
            total_drift=None,
            rebalance_needed=False,
        )
        return report
    d = rebalance.drift(values, target.weights)
    report.update(
        classes=[
            {
                "asset_class": c,
                "value": values.get(c, ZERO).quantize(Decimal("0.01")),
                "current_weight": (values.get(c, ZERO) / total).quantize(W),
                "target_weight": target.weights.get(c, ZERO),
                "drift": d.per_class[c].quantize(W),
            }
            for c in classes
        ],
        total_drift=d.total.quantize(W),
        rebalance_needed=d.total > band,
    )
    return report


def drift_event(user_id: str, report: dict) -> dict | None:
    if not report.get("rebalance_needed"):
        return None
    return {
        "user_id": user_id,
        "total_drift": str(report["total_drift"]),
        "band": str(report["band"]),
        "classes": [
            {"asset_class": c["asset_class"], "drift": str(c["drift"])} for c in report["classes"]
        ],
    }


@dataclass(frozen=True)
class TaxSituation:
    rates: TaxRates
    carryforward: Decimal
    realized_short: Decimal
    realized_long: Decimal
    source: str  # stored | default


def tax_situation(profile, realized: Iterable[RealizedGain], today: dt.date) -> TaxSituation:
    """Rates and this year's realised results (synced history + reported outside gains)."""
    st = lt = ZERO
    for rg in realized:
        if rg.sold.year == today.year and rg.sold <= today:
            if rg.long_term:
                lt += rg.gain
            else:
                st += rg.gain
    if profile is None:
        rates = TaxRates(DEFAULT_SHORT_RATE, DEFAULT_LONG_RATE)
        return TaxSituation(rates, ZERO, st, lt, "default")
    limit = Decimal(1500) if profile.married_filing_separately else Decimal(3000)
    rates = TaxRates(profile.short_term_rate, profile.long_term_rate, limit)
    return TaxSituation(
        rates,
        profile.carryforward,
        st + profile.realized_short_term_ytd,
        lt + profile.realized_long_term_ytd,
        "stored",
    )


def tlh_plan(holdings, prices: Mapping[str, Decimal], situation: TaxSituation, today) -> TLHPlan:
    taxable_lots = [
        lot for lot in holdings.lots if not holdings.account_types[lot.account_id].tax_advantaged
    ]
    missing = sorted({lot.ticker for lot in taxable_lots if lot.ticker not in prices})
    if missing:
        raise InvalidInput("prices", f"no price for {', '.join(missing)}")
    return plan_harvest(
        taxable_lots,
        prices,
        holdings.account_types,
        today=today,
        rates=situation.rates,
        history=holdings.history,
        realized=holdings.book.realized,
        realized_short=situation.realized_short,
        realized_long=situation.realized_long,
        carryforward=situation.carryforward,
    )


def tlh_report(plan: TLHPlan, situation: TaxSituation, today: dt.date) -> dict:
    blocked = [s for s in plan.skipped if s.reason.startswith("wash sale")]
    return {
        "as_of": today,
        "harvests": [
            {
                "lot_id": h.lot_id,
                "account_id": h.account_id,
                "ticker": h.ticker,
                "quantity": h.quantity,
                "proceeds": h.proceeds,
                "cost_basis": h.cost_basis,
                "loss": h.loss,
                "term": "long" if h.long_term else "short",
                "estimated_costs": h.estimated_costs,
                "replacement": h.replacement,
            }
            for h in plan.harvests
        ],
        "blocked": [{"lot_id": s.lot_id, "ticker": s.ticker, "reason": s.reason} for s in blocked],
        "below_threshold": [
            {"lot_id": s.lot_id, "ticker": s.ticker, "reason": s.reason}
            for s in plan.skipped
            if s not in blocked
        ],
        "do_not_buy_until": dict(sorted(plan.do_not_buy.items())),
        "total_loss": plan.total_loss,
        "current_year_saving": plan.current_year_saving,
        "carryforward_added": plan.carryforward_added,
        "estimated_benefit": plan.estimated_benefit,
        "tax_profile": {
            "source": situation.source,
            "short_term_rate": situation.rates.short_term,
            "long_term_rate": situation.rates.long_term,
            "carryforward": situation.carryforward,
            "realized_short_term_ytd": situation.realized_short,
            "realized_long_term_ytd": situation.realized_long,
        },
        "benefit_formula": "tax saved this year + carryforward added x long-term rate "
        "- estimated trading costs",
    }


def fingerprint(lot_ids: Iterable[str]) -> str:
    return hashlib.sha256("|".join(sorted(lot_ids)).encode()).hexdigest()


def tlh_event(user_id: str, plan: TLHPlan) -> dict | None:
    if not plan.harvests or plan.estimated_benefit <= 0:
        return None
    return {
        "user_id": user_id,
        "estimated_benefit": str(plan.estimated_benefit),
        "lots": [
            {
                "lot_id": h.lot_id,
                "account_id": h.account_id,
                "ticker": h.ticker,
                "loss": str(h.loss),
                "replacement": h.replacement,
            }
            for h in plan.harvests
        ],
    }
