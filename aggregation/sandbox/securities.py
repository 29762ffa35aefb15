"""Real ETFs (tickers, names, CUSIPs) with synthetic, seeded daily closes.

Identifiers are the funds' real CUSIPs (ISINs derived from them; both check digits are verified
in tests). Prices are NOT market data: they are a deterministic factor model (US equity,
international equity, bonds, real estate) with a correction a few months before the anchor
date and a bond sell-off earlier, so that lots bought near the peaks show losses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .ids import opaque_id, seeded_rng

CASH_TICKER = "CUR:USD"


@dataclass(frozen=True)
class Fund:
    ticker: str
    name: str
    cusip: str
    factor: str  # us | intl | bond | reit
    anchor_price: str  # close on the anchor date
    dividend_yield: str  # annual, paid quarterly
    partner: str  # a similar fund used for tax-loss harvesting swaps


FUNDS: dict[str, Fund] = {
    f.ticker: f
    for f in (
        Fund(
            "VTI", "Vanguard Total Stock Market ETF", "922908769", "us", "301.40", "0.013", "SCHB"
        ),
        Fund("SCHB", "Schwab U.S. Broad Market ETF", "808524102", "us", "24.35", "0.013", "ITOT"),
        Fund(
            "ITOT",
            "iShares Core S&P Total U.S. Stock Market ETF",
            "464287150",
            "us",
            "132.10",
            "0.013",
            "VTI",
        ),
        Fund("VOO", "Vanguard S&P 500 ETF", "922908363", "us", "548.20", "0.013", "ITOT"),
        Fund(
            "VXUS",
            "Vanguard Total International Stock ETF",
            "921909768",
            "intl",
            "66.90",
            "0.031",
            "IXUS",
        ),
        Fund(
            "IXUS",
            "iShares Core MSCI Total International Stock ETF",
            "46432F834",
            "intl",
            "73.80",
            "0.030",
            "VXUS",
        ),
        Fund(
            "VEA",
            "Vanguard FTSE Developed Markets ETF",
            "921943858",
            "intl",
            "53.70",
            "0.031",
            "IXUS",
        ),
        Fund("BND", "Vanguard Total Bond Market ETF", "921937835", "bond", "73.10", "0.036", "AGG"),
        Fund(
            "AGG",
            "iShares Core U.S. Aggregate Bond ETF",
            "464287226",
            "bond",
            "98.90",
            "0.036",
            "BND",
        ),
        Fund("VNQ", "Vanguard Real Estate ETF", "922908553", "reit", "89.60", "0.039", "VNQ"),
    )
}

_FACTORS = {  # annual drift, annual volatility, correction depth, correction centre (days ago)
    "us": (0.08, 0.16, 0.14, 140),
    "intl": (0.05, 0.15, 0.12, 150),
    "bond": (0.01, 0.055, 0.07, 420),
    "reit": (0.04, 0.20, 0.16, 170),
}


def isin_from_cusip(cusip: str) -> str:
    body = "US" + cusip
    digits = "".join(str(int(ch, 36)) for ch in body)
    total = 0
    for index, ch in enumerate(reversed(digits)):
        value = int(ch) * (2 if index % 2 == 0 else 1)
        total += value // 10 + value % 10
    return body + str((10 - total % 10) % 10)


def security_id(ticker: str) -> str:
    return opaque_id("security", ticker)


class PriceBook:
    """Daily closes for every fund over [first, last], anchored to ``Fund.anchor_price``."""

    def __init__(self, seed: str, anchor: date, first: date, last: date):
        if not first <= anchor <= last:
            raise ValueError("the anchor date must lie inside the price range")
        self.anchor, self.first, self.last = anchor, first, last
        days = (last - first).days + 1
        factor_paths = {name: self._factor_path(seed, name, days) for name in _FACTORS}
        self._closes: dict[str, list[Decimal]] = {}
        anchor_index = (anchor - first).days
        for ticker, fund in FUNDS.items():
            rng = seeded_rng(seed, "idio", ticker)
            idio, level = [], 0.0
            for _ in range(days):
                level += rng.gauss(0, 0.002)
                idio.append(level)
            path = [f + i for f, i in zip(factor_paths[fund.factor], idio, strict=True)]
            shift = path[anchor_index]
            base = float(fund.anchor_price)
            self._closes[ticker] = [
                Decimal(str(round(base * math.exp(p - shift), 2))) for p in path
            ]

    def _factor_path(self, seed: str, name: str, days: int) -> list[float]:
        drift, vol, depth, centre = _FACTORS[name]
        rng = seeded_rng(seed, "factor", name)
        daily_mu, daily_sigma = drift / 365, vol / math.sqrt(365)
        anchor_index = (self.anchor - self.first).days
        level, path = 0.0, []
        for index in range(days):
            level += rng.gauss(daily_mu, daily_sigma)
            days_before_anchor = anchor_index - index
            hump = depth * math.exp(-(((days_before_anchor - centre) / 45) ** 2))
            path.append(level + hump)
        return path

    def close(self, ticker: str, day: date) -> Decimal:
        if ticker == CASH_TICKER:
            return Decimal(1)
        if not self.first <= day <= self.last:
            raise ValueError(f"no price for {day}: range is {self.first}..{self.last}")
        return self._closes[ticker][(day - self.first).days]


def security_wire(ticker: str, prices: PriceBook, as_of: date) -> dict:
    """Plaid's Security object (all 22 required keys of plaid-python 46)."""
    common = {
        "security_id": security_id(ticker),
        "sedol": None,
        "institution_security_id": None,
        "institution_id": None,
        "proxy_security_id": None,
        "iso_currency_code": "USD",
        "unofficial_currency_code": None,
        "option_contract": None,
        "fixed_income": None,
        "figi": None,
        "update_datetime": None,
    }
    if ticker == CASH_TICKER:
        return common | {
            "isin": None,
            "cusip": None,
            "name": "U S Dollar",
            "ticker_symbol": ticker,
            "is_cash_equivalent": True,
            "type": "cash",
            "subtype": "cash",
            "close_price": 1.0,
            "close_price_as_of": None,
            "market_identifier_code": None,
            "sector": None,
            "industry": None,
            "cfi_code": None,
        }
    fund = FUNDS[ticker]
    return common | {
        "isin": isin_from_cusip(fund.cusip),
        "cusip": fund.cusip,
        "name": fund.name,
        "ticker_symbol": ticker,
        "is_cash_equivalent": False,
        "type": "etf",
        "subtype": "etf",
        "close_price": float(prices.close(ticker, as_of)),
        "close_price_as_of": as_of.isoformat(),
        "market_identifier_code": None,
        "sector": None,
        "industry": None,
        "cfi_code": None,
    }
