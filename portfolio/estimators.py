"""Expected-return and covariance estimators from price histories (annualised).

Conventions follow PyPortfolioOpt 1.6.0 (``expected_returns.py``, ``risk_models.py``) so results
match it: simple returns from ``pct_change`` with rows of all-NaN dropped, ``frequency`` periods per
year (252 for daily prices), compounded (geometric) means by default.  Inputs are a pandas DataFrame
(rows = dates, columns = tickers) or a 2-D array; outputs are NumPy arrays in column order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.covariance import ledoit_wolf as _sk_ledoit_wolf

from portfolio.errors import InvalidInput
from portfolio.mpt import as_vector, check_covariance


def _frame(prices, field: str = "prices") -> pd.DataFrame:
    if isinstance(prices, pd.Series):
        prices = prices.to_frame()
    df = prices if isinstance(prices, pd.DataFrame) else pd.DataFrame(np.asarray(prices, float))
    if df.ndim != 2 or df.shape[1] == 0 or df.shape[0] < 3:
        raise InvalidInput(field, "need a table of at least 3 rows (dates) and 1 column (assets)")
    values = df.to_numpy(dtype=float)
    if np.any(values[np.isfinite(values)] <= 0):
        raise InvalidInput(field, "prices must be positive")
    if np.any(np.isinf(values)):
        raise InvalidInput(field, "prices must be finite")
    return df.astype(float)


def returns_from_prices(prices, *, log_returns: bool = False) -> pd.DataFrame:
    """Period returns r_t = P_t / P_{t-1} - 1 (or log(P_t / P_{t-1}))."""
    df = _frame(prices)
    rets = df.pct_change(fill_method=None).dropna(how="all")
    return np.log1p(rets) if log_returns else rets


def _check_frequency(frequency: int) -> None:
    if frequency <= 0:
        raise InvalidInput("frequency", "must be a positive number of periods per year")


def mean_historical_return(
    prices, *, frequency: int = 252, compounding: bool = True, log_returns: bool = False
) -> np.ndarray:
    """Geometric mean: prod(1 + r)^(frequency / count) - 1, or the arithmetic mean x frequency."""
    _check_frequency(frequency)
    rets = returns_from_prices(prices, log_returns=log_returns)
    if compounding:
        return ((1 + rets).prod() ** (frequency / rets.count()) - 1).to_numpy()
    return (rets.mean() * frequency).to_numpy()


def ema_historical_return(
    prices, *, span: int = 500, frequency: int = 252, compounding: bool = True
) -> np.ndarray:
    """Exponentially weighted mean of returns (pandas ``ewm(span)``), annualised."""
    _check_frequency(frequency)
    if span < 1:
        raise InvalidInput("span", "must be >= 1")
    ew = returns_from_prices(prices).ewm(span=span).mean().iloc[-1]
    return ((1 + ew) ** frequency - 1 if compounding else ew * frequency).to_numpy()


def capm_return(
    prices,
    *,
    market_prices=None,
    risk_free_rate: float = 0.0,
    frequency: int = 252,
    compounding: bool = True,
) -> np.ndarray:
    """CAPM: rf + beta_i (E[r_m] - rf), beta from the sample covariance with the market.

    Without ``market_prices`` the market is the equal-weighted mean of the assets' returns.
    """
    _check_frequency(frequency)
    rets = returns_from_prices(prices)
    if market_prices is None:
        rets["mkt"] = rets.mean(axis=1)
    else:
        mkt = returns_from_prices(market_prices)
        if mkt.shape[1] != 1:
            raise InvalidInput("market_prices", "must be a single price series")
        mkt.columns = ["mkt"]
        if not isinstance(market_prices, (pd.DataFrame, pd.Series)):
            if len(mkt) != len(rets):
                raise InvalidInput("market_prices", "must have as many rows as prices")
            mkt.index = rets.index
        rets = rets.join(mkt, how="left")
    cov = rets.cov()
    betas = (cov["mkt"] / cov.loc["mkt", "mkt"]).drop("mkt")
    if compounding:
        mkt_ret = (1 + rets["mkt"]).prod() ** (frequency / rets["mkt"].count()) - 1
    else:
        mkt_ret = rets["mkt"].mean() * frequency
    return (risk_free_rate + betas * (mkt_ret - risk_free_rate)).to_numpy()


def market_implied_returns(
    cov, market_weights, *, risk_aversion: float = 2.5, risk_free_rate: float = 0.0
) -> np.ndarray:
    """Equilibrium returns pi = delta * S w_mkt + rf (Black & Litterman 1992)."""
    w = as_vector(market_weights, "market_weights")
    if np.any(w < 0) or not np.isclose(w.sum(), 1.0, atol=1e-6):
        raise InvalidInput("market_weights", "must be non-negative and sum to 1")
    if risk_aversion <= 0:
        raise InvalidInput("risk_aversion", "must be > 0")
    S = check_covariance(cov, w.size)
    return risk_aversion * S @ w + risk_free_rate


def sample_cov(prices, *, frequency: int = 252, fix: bool = True) -> np.ndarray:
    """Annualised sample covariance of returns (pairwise-complete, as pandas ``cov``)."""
    _check_frequency(frequency)
    S = returns_from_prices(prices).cov().to_numpy() * frequency
    return _repair(S, fix)


def ledoit_wolf(prices, *, frequency: int = 252) -> np.ndarray:
    """Ledoit-Wolf shrinkage towards a scaled identity (scikit-learn), annualised.

    Missing returns are set to zero first, as PyPortfolioOpt's ``CovarianceShrinkage`` does.
    """
    _check_frequency(frequency)
    X = np.nan_to_num(returns_from_prices(prices).to_numpy())
    shrunk, _ = _sk_ledoit_wolf(X)
    return _repair(shrunk * frequency, True)


def _repair(S: np.ndarray, fix: bool) -> np.ndarray:
    """Spectral repair of a non-PSD estimate: negative eigenvalues set to zero."""
    S = 0.5 * (S + S.T)
    evals, evecs = np.linalg.eigh(S)
    if evals[0] >= 0:
        return S
    if not fix:
        return check_covariance(S)  # raises with a clear message
    return (evecs * np.maximum(evals, 0.0)) @ evecs.T
