"""MPT optimiser speed: Nestegg (portfolio.mpt) vs PyPortfolioOpt 1.6.0 (cvxpy), side by side.

Same problems, same process, one run: synthetic 5-year daily prices from a 3-factor model,
Ledoit-Wolf covariance, bounds (0, 0.2) as in docs/portfolio-math.md.  For each objective the
median of the timed calls is reported for both, with the speed-up ratio and the largest weight
difference.  Writes bench/results/mpt.json.  Needs the dev dependencies pyportfolioopt, packaging.

    .venv/bin/python bench/mpt.py [--quick]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from _common import write_result  # noqa: E402
from sklearn.covariance import ledoit_wolf  # noqa: E402

from portfolio import mpt  # noqa: E402

warnings.filterwarnings("ignore")
from pypfopt import EfficientFrontier, objective_functions  # noqa: E402


def problem(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    T = 1260
    F = rng.normal(0, 0.006, (T, 3))
    B = rng.normal(1, 0.5, (3, n))
    R = F @ B + rng.normal(0, 0.012, (T, n)) + rng.normal(0.0004, 0.0004, n)
    return R.mean(0) * 252, ledoit_wolf(R)[0] * 252


def median_ms(fn, repeats: int) -> float:
    fn()  # warm-up
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1e3


def ppo_weights(ef) -> np.ndarray:
    w = ef.weights
    return np.array([w[i] for i in range(len(w))]) if isinstance(w, dict) else np.asarray(w)


def main(quick: bool = False) -> dict:
    bounds = (0.0, 0.2)
    sizes = [10, 20, 50, 200] if quick else [10, 20, 50, 100, 200]
    rows = []
    for n in sizes:
        mu, S = problem(n)
        w_min = mpt.min_volatility(mu, S, bounds=bounds)
        target_vol = float(1.25 * np.sqrt(w_min @ S @ w_min))

        def ours_fn(name, mu=mu, S=S, target_vol=target_vol):
            if name == "min_volatility":
                return lambda: mpt.min_volatility(mu, S, bounds=bounds)
            if name == "max_sharpe":
                return lambda: mpt.max_sharpe(mu, S, bounds=bounds)
            if name == "efficient_risk":
                return lambda: mpt.efficient_risk(mu, S, target_vol, bounds=bounds)
            return lambda: mpt.max_sharpe(mu, S, bounds=bounds, l2_gamma=0.1)

        def ppo_fn(name, mu=mu, S=S, target_vol=target_vol):
            def run():
                ef = EfficientFrontier(mu, S, weight_bounds=bounds)
                if name == "max_sharpe_l2":
                    ef.add_objective(objective_functions.L2_reg, gamma=0.1)
                    ef.max_sharpe()
                elif name == "efficient_risk":
                    ef.efficient_risk(target_vol)
                else:
                    getattr(ef, name)()
                return ppo_weights(ef)

            return run

        for name in ("min_volatility", "max_sharpe", "efficient_risk", "max_sharpe_l2"):
            repeats = 15 if quick else (25 if n <= 100 else 11)
            ours_ms = median_ms(ours_fn(name), repeats * 4)
            ppo_ms = median_ms(ppo_fn(name), repeats)
            diff = float(np.max(np.abs(ours_fn(name)() - ppo_fn(name)())))
            rows.append(
                {
                    "n_assets": n,
                    "objective": name,
                    "nestegg_ms": round(ours_ms, 3),
                    "pypfopt_ms": round(ppo_ms, 3),
                    "speedup": round(ppo_ms / ours_ms, 1),
                    "max_weight_diff": diff,
                }
            )
            print(
                f"N={n:4d} {name:15s} nestegg {ours_ms:8.3f} ms   pypfopt {ppo_ms:8.3f} ms"
                f"   x{ppo_ms / ours_ms:6.1f}   max|dw| {diff:.1e}"
            )
    payload = {
        "reference": "PyPortfolioOpt 1.6.0 EfficientFrontier with cvxpy default solvers",
        "bounds": list(bounds),
        "statistic": "median wall time per call, ms",
        "goal": ">= 5x faster for max_sharpe and min_volatility at N = 20 and N = 200",
        "results": rows,
    }
    path = write_result("mpt", payload)
    print(f"wrote {path}")
    return payload


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
