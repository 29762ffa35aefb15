"""PyPortfolioOpt's README example (20 stocks, max Sharpe, $10,000 greedy allocation), run by
PyPortfolioOpt and by Nestegg on the same price table, side by side.

The README reads ``tests/resources/stock_prices.csv`` from the PyPortfolioOpt repository. That
file is not in the 1.6.0 wheel or sdist and nothing here may download, so the table is
generated: 20 tickers with the README's names, business days 1990-01-02 .. 2018-12-31, six of
them listed later (leading NaNs, as in the real file), prices from a seeded one-factor model
(``readme_like_prices(seed=42)``) scaled to end-2018-like price levels. The README's printed
figures (30.5% / 22.2% / 1.28, $11.89 left over) belong to the real file and cannot be
reproduced without it.

    .venv/bin/python tests/unit/portfolio/readme_example.py     # prints the side-by-side table
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

TICKERS = ["GOOG", "AAPL", "FB", "BABA", "AMZN", "GE", "AMD", "WMT", "BAC", "GM",
           "T", "UAA", "SHLD", "XOM", "RRC", "BBY", "MA", "PFE", "JPM", "SBUX"]  # fmt: skip
LISTED_LATER = {"GOOG": "2004-08-19", "FB": "2012-05-18", "BABA": "2014-09-19",
                "GM": "2010-11-18", "UAA": "2005-11-18", "MA": "2006-05-25"}  # fmt: skip
# last closes of the same order as the README's stocks at the end of 2018 (round numbers; a
# price level changes no return, only how many whole shares $10,000 buys)
LAST_PRICE = {"GOOG": 1000, "AAPL": 160, "FB": 130, "BABA": 140, "AMZN": 1500, "GE": 8,
              "AMD": 18, "WMT": 90, "BAC": 25, "GM": 33, "T": 29, "UAA": 18, "SHLD": 1,
              "XOM": 68, "RRC": 10, "BBY": 53, "MA": 190, "PFE": 44, "JPM": 98, "SBUX": 64}  # fmt: skip
PORTFOLIO_VALUE = 10_000


def readme_like_prices(seed: int = 42) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("1990-01-02", "2018-12-31")
    T, n = len(dates), len(TICKERS)
    market = rng.normal(0.0004, 0.011, T)
    beta = rng.uniform(0.6, 1.6, n)
    alpha = rng.normal(0.0002, 0.0003, n)
    R = alpha + market[:, None] * beta + rng.normal(0, 0.015, (T, n))
    df = pd.DataFrame(np.exp(np.cumsum(R, axis=0)), index=dates, columns=TICKERS)
    df *= pd.Series(LAST_PRICE) / df.iloc[-1]
    for t, start in LISTED_LATER.items():
        df.loc[: pd.Timestamp(start) - pd.Timedelta(days=1), t] = np.nan
    return df


def pypfopt_readme(df: pd.DataFrame) -> dict:
    """The README's steps, verbatim in PyPortfolioOpt."""
    from pypfopt import EfficientFrontier, expected_returns, risk_models
    from pypfopt.discrete_allocation import DiscreteAllocation, get_latest_prices

    mu = expected_returns.mean_historical_return(df)
    S = risk_models.sample_cov(df)
    ef = EfficientFrontier(mu, S)
    ef.max_sharpe()
    cleaned = ef.clean_weights()
    perf = ef.portfolio_performance()
    da = DiscreteAllocation(cleaned, get_latest_prices(df), total_portfolio_value=PORTFOLIO_VALUE)
    alloc, leftover = da.greedy_portfolio()
    return {
        "mu": mu.to_numpy(),
        "cov": S.to_numpy(),
        "weights": np.array([cleaned[t] for t in df.columns]),
        "performance": tuple(float(x) for x in perf),
        "shares": {t: int(q) for t, q in alloc.items() if q},
        "leftover": float(leftover),
    }


def nestegg_readme(df: pd.DataFrame) -> dict:
    """The same steps with Nestegg's modules."""
    from portfolio import discrete, estimators, mpt

    mu = estimators.mean_historical_return(df)
    S = estimators.sample_cov(df)
    raw = mpt.max_sharpe(mu, S)
    cleaned = mpt.clean_weights(raw)
    perf = mpt.performance(raw, mu, S)
    latest = df.ffill().iloc[-1]
    alloc = discrete.allocate(
        {t: float(w) for t, w in zip(df.columns, cleaned, strict=True) if w != 0},
        {t: Decimal(repr(float(p))) for t, p in latest.items()},
        Decimal(PORTFOLIO_VALUE),
    )
    return {
        "mu": np.asarray(mu),
        "cov": np.asarray(S),
        "weights": cleaned,
        "performance": (perf.expected_return, perf.volatility, perf.sharpe),
        "shares": {t: int(q) for t, q in alloc.shares.items() if q},
        "leftover": float(alloc.leftover),
    }


def main() -> None:
    df = readme_like_prices()
    ref, ours = pypfopt_readme(df), nestegg_readme(df)
    print(f"{'ticker':<7}{'PyPortfolioOpt':>16}{'Nestegg':>12}{'shares':>8}{'shares':>8}")
    for i, t in enumerate(df.columns):
        if ref["weights"][i] or ours["weights"][i]:
            print(f"{t:<7}{ref['weights'][i]:>16.5f}{ours['weights'][i]:>12.5f}"
                  f"{ref['shares'].get(t, 0):>8}{ours['shares'].get(t, 0):>8}")  # fmt: skip
    for name, i in (("expected return", 0), ("volatility", 1), ("Sharpe", 2)):
        print(f"{name:<16}{ref['performance'][i]:>14.6f}{ours['performance'][i]:>12.6f}")
    print(f"{'leftover $':<16}{ref['leftover']:>14.2f}{ours['leftover']:>12.2f}")


if __name__ == "__main__":
    main()
