"""Named wrapper over ``portfolio.mpt``: tickers or asset classes in, a weight report out.

    report = optimise_classes(["us_stocks", "intl_developed", "us_bonds"], "max_sharpe",
                              class_bounds={"us_bonds": (0.2, None)})

uses the shipped capital-market assumptions; ``optimise`` takes any names with their own mu and
covariance and optional asset-class bounds through a name -> class mapping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from portfolio import mpt, reference
from portfolio.errors import InvalidInput

OBJECTIVES = (
    "min_volatility",
    "max_sharpe",
    "max_quadratic_utility",
    "efficient_risk",
    "efficient_return",
)


@dataclass(frozen=True)
class OptimisationReport:
    objective: str
    weights: dict[str, float]
    expected_return: float
    volatility: float
    sharpe: float
    class_weights: dict[str, float]


def optimise(
    names: Sequence[str],
    mu,
    cov,
    objective: str,
    *,
    bounds: mpt.Bounds = (0.0, 1.0),
    asset_class: Mapping[str, str] | None = None,
    class_bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
    risk_free_rate: float = 0.0,
    cutoff: float = 1e-6,
    **params,
) -> OptimisationReport:
    """Run one objective; ``params`` are the objective's own (target_volatility, ...)."""
    if objective not in OBJECTIVES:
        raise InvalidInput("objective", f"must be one of {', '.join(OBJECTIVES)}")
    names = list(names)
    if len(set(names)) != len(names):
        raise InvalidInput("names", "duplicate names")
    mu = mpt.as_vector(mu, "mu", len(names))
    groups = []
    if class_bounds:
        if asset_class is None:
            raise InvalidInput("asset_class", "class_bounds need a name -> asset class mapping")
        for cls, (lo, hi) in class_bounds.items():
            members = [i for i, n in enumerate(names) if asset_class.get(n) == cls]
            if not members:
                raise InvalidInput("class_bounds", f"no asset belongs to class {cls!r}")
            groups.append(mpt.GroupBound(members, lo, hi))
    fn = getattr(mpt, objective)
    kwargs = dict(bounds=bounds, groups=groups or None, **params)
    if objective == "max_sharpe":
        kwargs["risk_free_rate"] = risk_free_rate
    w = fn(mu, cov, **kwargs)
    w = np.where(np.abs(w) < cutoff, 0.0, w)
    perf = mpt.performance(w, mu, cov, risk_free_rate=risk_free_rate)
    weights = {n: float(x) for n, x in zip(names, w, strict=True)}
    by_class: dict[str, float] = {}
    if asset_class:
        for n, x in weights.items():
            c = asset_class.get(n, "unclassified")
            by_class[c] = by_class.get(c, 0.0) + x
    return OptimisationReport(
        objective, weights, perf.expected_return, perf.volatility, perf.sharpe, by_class
    )


def optimise_classes(
    class_ids: Sequence[str], objective: str, *, class_bounds=None, **kwargs
) -> OptimisationReport:
    """Optimise over asset classes with the shipped capital-market assumptions."""
    ref = reference.load()
    ids = list(class_ids)
    for i in ids:
        ref.asset_class(i)  # raises for unknown ids
    mapping = {i: i for i in ids}
    return optimise(ids, ref.expected_returns(ids), ref.covariance(ids), objective,
                    asset_class=mapping, class_bounds=class_bounds, **kwargs)  # fmt: skip
