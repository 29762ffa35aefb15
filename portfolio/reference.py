"""Shipped reference data: asset classes, capital-market assumptions, ETF map, history table.

Files live in ``portfolio/data/`` (provenance in docs/portfolio-math.md).  Everything is loaded
once and returned as immutable plain data.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from portfolio.errors import InvalidInput

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class AssetClass:
    id: str
    name: str
    kind: str  # "equity" | "bond"
    expected_return: float
    volatility: float
    etfs: tuple[str, ...]  # primary, secondary, tertiary: different indexes


@dataclass(frozen=True)
class ReferenceData:
    asset_classes: tuple[AssetClass, ...]
    correlation: np.ndarray
    inflation_expected: float
    inflation_volatility: float
    ticker_asset_class: dict[str, str]
    identical_groups: tuple[frozenset[str], ...]

    def asset_class(self, class_id: str) -> AssetClass:
        for ac in self.asset_classes:
            if ac.id == class_id:
                return ac
        raise InvalidInput("asset_class", f"unknown asset class {class_id!r}")

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(ac.id for ac in self.asset_classes)

    def expected_returns(self, ids=None) -> np.ndarray:
        ids = ids or self.ids
        return np.array([self.asset_class(i).expected_return for i in ids])

    def covariance(self, ids=None) -> np.ndarray:
        """Sigma_ij = rho_ij * sigma_i * sigma_j for the chosen classes (annual)."""
        ids = list(ids or self.ids)
        idx = [self.ids.index(i) for i in ids]
        vol = np.array([self.asset_class(i).volatility for i in ids])
        rho = self.correlation[np.ix_(idx, idx)]
        return rho * np.outer(vol, vol)

    def class_of(self, ticker: str) -> str | None:
        return self.ticker_asset_class.get(ticker.upper())

    def identical_to(self, ticker: str) -> frozenset[str]:
        """Tickers treated as substantially identical to ``ticker`` (always includes itself)."""
        t = ticker.upper()
        for group in self.identical_groups:
            if t in group:
                return group
        return frozenset({t})


@cache
def load() -> ReferenceData:
    raw = json.loads((DATA_DIR / "asset_classes.json").read_text())
    classes = tuple(
        AssetClass(
            id=a["id"],
            name=a["name"],
            kind=a["kind"],
            expected_return=float(a["expected_return"]),
            volatility=float(a["volatility"]),
            etfs=tuple(e["ticker"] for e in a["etfs"]),
        )
        for a in raw["asset_classes"]
    )
    order = raw["correlations"]["order"]
    if tuple(order) != tuple(a.id for a in classes):
        raise ValueError("asset_classes.json: correlation order differs from asset class order")
    rho = np.array(raw["correlations"]["matrix"], dtype=float)
    groups = tuple(frozenset(g["tickers"]) for g in raw["substantially_identical"])
    return ReferenceData(
        asset_classes=classes,
        correlation=rho,
        inflation_expected=float(raw["inflation"]["expected"]),
        inflation_volatility=float(raw["inflation"]["volatility"]),
        ticker_asset_class=dict(raw["ticker_asset_class"]),
        identical_groups=groups,
    )


@dataclass(frozen=True)
class HistoricalReturns:
    """Annual US returns 1928-2023 (Damodaran table; see docs for provenance)."""

    years: np.ndarray
    stocks: np.ndarray  # S&P 500 total return
    bills: np.ndarray  # 3-month T-bill
    bonds: np.ndarray  # 10-year T-bond total return
    baa: np.ndarray  # Baa corporate bond total return
    inflation: np.ndarray  # CPI


@cache
def historical_returns() -> HistoricalReturns:
    with (DATA_DIR / "us_annual_returns.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    col = lambda name: np.array([float(r[name]) for r in rows])  # noqa: E731
    return HistoricalReturns(
        years=np.array([int(r["year"]) for r in rows]),
        stocks=col("sp500_total_return"),
        bills=col("tbill_3m"),
        bonds=col("tbond_10y_total_return"),
        baa=col("baa_corporate_total_return"),
        inflation=col("cpi_inflation"),
    )
