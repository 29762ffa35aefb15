"""Expected-return / covariance estimators agree with PyPortfolioOpt; bad input is refused."""

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from portfolio import estimators
from portfolio.discrete import allocate
from portfolio.errors import InvalidInput

pypfopt = pytest.importorskip("pypfopt")
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")


@pytest.fixture
def prices():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        100 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, (700, 6)), axis=0)),
        columns=list("ABCDEF"),
        index=pd.bdate_range("2020-01-01", periods=700),
    )
    df.iloc[:60, 2] = np.nan  # listed later
    return df


def test_estimators_match_pypfopt(prices):
    from pypfopt import expected_returns as er
    from pypfopt import risk_models as rm

    pairs = [
        (estimators.mean_historical_return(prices), er.mean_historical_return(prices)),
        (
            estimators.mean_historical_return(prices, compounding=False),
            er.mean_historical_return(prices, compounding=False),
        ),
        (
            estimators.ema_historical_return(prices, span=100),
            er.ema_historical_return(prices, span=100),
        ),
        (
            estimators.capm_return(prices, risk_free_rate=0.01),
            er.capm_return(prices, risk_free_rate=0.01),
        ),
        (estimators.sample_cov(prices), rm.sample_cov(prices)),
        (estimators.ledoit_wolf(prices), rm.CovarianceShrinkage(prices).ledoit_wolf()),
    ]
    for ours, ref in pairs:
        assert np.allclose(ours, np.asarray(ref), rtol=1e-12, atol=1e-14)


def test_capm_with_explicit_market(prices):
    from pypfopt import expected_returns as er

    market = prices.mean(axis=1).to_frame("SPY")
    ours = estimators.capm_return(prices, market_prices=market)
    ref = er.capm_return(prices, market_prices=market)
    assert np.allclose(ours, ref.to_numpy(), atol=1e-12)


def test_market_implied_returns_formula():
    S = np.array([[0.04, 0.01], [0.01, 0.09]])
    pi = estimators.market_implied_returns(S, [0.6, 0.4], risk_aversion=2.0, risk_free_rate=0.02)
    assert np.allclose(pi, 2.0 * S @ [0.6, 0.4] + 0.02)
    with pytest.raises(InvalidInput, match="sum to 1"):
        estimators.market_implied_returns(S, [0.6, 0.6])


def test_bad_prices_are_refused():
    with pytest.raises(InvalidInput, match="positive"):
        estimators.mean_historical_return(pd.DataFrame({"A": [1.0, -2.0, 3.0, 4.0]}))
    with pytest.raises(InvalidInput, match="at least 3 rows"):
        estimators.sample_cov(pd.DataFrame({"A": [1.0, 2.0]}))
    with pytest.raises(InvalidInput, match="frequency"):
        estimators.mean_historical_return(pd.DataFrame({"A": [1.0, 2.0, 3.0]}), frequency=0)


def test_discrete_allocation_matches_pypfopt_greedy():
    from pypfopt.discrete_allocation import DiscreteAllocation

    rng = np.random.default_rng(3)
    for _ in range(40):
        n = int(rng.integers(3, 15))
        tickers = [f"T{i}" for i in range(n)]
        w = rng.dirichlet(np.ones(n))
        p = np.round(rng.uniform(5, 400, n), 2)
        da = DiscreteAllocation(
            dict(zip(tickers, w, strict=True)),
            pd.Series(p, index=tickers),
            total_portfolio_value=10000,
        )
        ref, ref_left = da.greedy_portfolio()
        ours = allocate(
            dict(zip(tickers, w.tolist(), strict=True)),
            {t: Decimal(str(x)) for t, x in zip(tickers, p, strict=True)},
            Decimal(10000),
        )
        assert {t: int(q) for t, q in ours.shares.items()} == {
            t: int(q) for t, q in ref.items() if q
        }
        assert abs(float(ours.leftover) - ref_left) < 1e-6


def test_fractional_allocation_spends_almost_everything():
    out = allocate(
        {"VTI": 0.6, "BND": 0.4},
        {"VTI": Decimal("251.37"), "BND": Decimal("72.05")},
        Decimal("1000"),
        fraction_digits=3,
    )
    spent = sum(
        q * p
        for q, p in zip(out.shares.values(), [Decimal("251.37"), Decimal("72.05")], strict=True)
    )
    assert out.leftover == Decimal(1000) - spent
    assert out.leftover < Decimal("0.26")
    assert all(q == q.quantize(Decimal("0.001")) for q in out.shares.values())


def test_allocation_bad_input():
    with pytest.raises(InvalidInput, match="cash"):
        allocate({"A": 1.0}, {"A": Decimal(1)}, Decimal(-5))
    with pytest.raises(InvalidInput, match="no price"):
        allocate({"A": 1.0}, {}, Decimal(5))
    with pytest.raises(InvalidInput, match="long-only"):
        allocate({"A": 1.2, "B": -0.2}, {"A": Decimal(1), "B": Decimal(1)}, Decimal(5))
