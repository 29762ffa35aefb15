"""An ``optimize`` request turned into a ``portfolio.optimiser`` call.

* Asset classes: the shipped capital-market assumptions (``optimiser.optimise_classes``).
* Tickers: each ticker takes its asset class's expected return and volatility; tickers in the
  same class are correlated like the class with itself, plus an independent tracking error of
  ``TRACKING_ERROR`` (2% a year) so two funds of one class are close substitutes but the
  covariance stays positive definite. Unknown tickers are refused (no price history is shipped
  to estimate them).
* ``target`` is the objective's parameter: target volatility (efficient_risk), target return
  (efficient_return) or risk aversion (max_quadratic_utility, default 1).
* With ``cash_amount`` the weights become shares (``discrete.allocate``, greedy, whole shares
  unless ``fractional_shares``) at current prices; an asset class buys its primary ETF.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

import numpy as np

from portfolio import discrete, optimiser, reference
from portfolio.errors import InvalidInput

TRACKING_ERROR = 0.02
ROUND = 8


def _params(objective: str, target: float | None) -> dict:
    if objective == "efficient_risk":
        return {"target_volatility": target}
    if objective == "efficient_return":
        return {"target_return": target}
    if objective == "max_quadratic_utility":
        return {"risk_aversion": 1.0 if target is None else target}
    return {}


def ticker_inputs(tickers: list[str]) -> tuple[list[str], np.ndarray, np.ndarray, dict]:
    ref = reference.load()
    names = [t.upper() for t in tickers]
    classes = []
    for t in names:
        cls = ref.class_of(t)
        if cls is None:
            raise InvalidInput("tickers", f"{t} has no asset class; use asset_classes instead")
        classes.append(cls)
    ids = list(ref.ids)
    idx = [ids.index(c) for c in classes]
    mu = ref.expected_returns(ids)[idx]
    cov = ref.covariance(ids)[np.ix_(idx, idx)] + TRACKING_ERROR**2 * np.eye(len(names))
    return names, mu, cov, dict(zip(names, classes, strict=True))


def run(
    request: Mapping, prices: Callable[[list[str]], Mapping[str, Decimal]] | None = None
) -> dict:
    objective = request["objective"]
    bounds = request.get("bounds") or (0.0, 1.0)
    common = dict(
        bounds=bounds,
        class_bounds=request.get("class_bounds") or None,
        l2_gamma=request.get("l2_gamma") or 0.0,
        risk_free_rate=request.get("risk_free_rate") or 0.0,
        **_params(objective, request.get("target")),
    )
    if objective == "efficient_risk" and common["l2_gamma"]:
        raise InvalidInput("l2_gamma", "not supported with efficient_risk")
    if objective == "efficient_risk":
        common.pop("l2_gamma")
    if request.get("asset_classes"):
        report = optimiser.optimise_classes(list(request["asset_classes"]), objective, **common)
        buy_as = {c: reference.load().asset_class(c).etfs[0] for c in report.weights}
    else:
        names, mu, cov, mapping = ticker_inputs(list(request["tickers"]))
        if len(set(names)) != len(names):
            raise InvalidInput("tickers", "duplicate tickers")
        report = optimiser.optimise(names, mu, cov, objective, asset_class=mapping, **common)
        buy_as = {t: t for t in report.weights}
    out = {
        "objective": objective,
        "weights": {k: round(v, ROUND) for k, v in report.weights.items()},
        "class_weights": {k: round(v, ROUND) for k, v in report.class_weights.items()},
        "expected_return": report.expected_return,
        "volatility": report.volatility,
        "sharpe": report.sharpe,
        "assumptions": "Nestegg capital-market assumptions (portfolio/data/asset_classes.json)",
    }
    cash = request.get("cash_amount")
    if cash is not None:
        if prices is None:
            raise InvalidInput("cash_amount", "no price feed available")
        wanted = {buy_as[k]: w for k, w in report.weights.items() if w > 0}
        quotes = prices(sorted(wanted))
        missing = sorted(set(wanted) - set(quotes))
        if missing:
            raise InvalidInput("cash_amount", f"no price for {', '.join(missing)}")
        digits = 3 if request.get("fractional_shares") else 0
        alloc = discrete.allocate(wanted, quotes, cash, fraction_digits=digits)
        out["discrete_allocation"] = {
            "shares": alloc.shares,
            "prices": {t: quotes[t] for t in alloc.shares},
            "leftover": alloc.leftover,
        }
    return out
