"""Monte Carlo projection speed: 10,000 paths x 40 years in monthly steps.

Times ``portfolio.projection.simulate`` (year-blocked, in-place) beside the straightforward
month-by-month NumPy loop ``simulate_reference`` on the same seed, checks that both give
bit-identical balances, and times the full ``project`` call (percentiles and success rate).
Goal: project() <= 150 ms.  Writes bench/results/projection.json.

    .venv/bin/python bench/projection.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from _common import write_result  # noqa: E402

from portfolio.projection import (  # noqa: E402
    Assumptions,
    Plan,
    historical,
    project,
    simulate,
    simulate_reference,
)


def median_ms(fn, repeats: int = 9) -> float:
    fn()
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1e3


def main() -> dict:
    plan = Plan(
        initial_balance=100_000,
        years=40,
        monthly_contribution=1_000,
        contribution_growth=0.02,
        retire_after_years=25,
        monthly_withdrawal=4_000,
    )
    # a glide path: one (expected return, volatility) per year, de-risking over the 40 years
    glide = tuple((0.08 - 0.0008 * y, 0.16 - 0.0025 * y) for y in range(40))
    variants = [
        ("normal", Assumptions(0.065, 0.12)),
        ("student_t", Assumptions(0.065, 0.12, distribution="student_t")),
        ("normal+glide", Assumptions(0.065, 0.12, path=glide)),
    ]
    rows = []
    for dist, a in variants:
        fast = median_ms(lambda a=a: simulate(plan, a, paths=10_000, seed=1))
        ref = median_ms(lambda a=a: simulate_reference(plan, a, paths=10_000, seed=1))
        full = median_ms(lambda a=a: project(plan, a, paths=10_000, seed=1))
        r1, alive1 = simulate(plan, a, paths=10_000, seed=1)
        r2, alive2 = simulate_reference(plan, a, paths=10_000, seed=1)
        identical = bool(np.array_equal(r1, r2) and np.array_equal(alive1, alive2))
        rows.append(
            {
                "distribution": dist,
                "paths": 10_000,
                "years": 40,
                "simulate_ms": round(fast, 1),
                "reference_ms": round(ref, 1),
                "speedup": round(ref / fast, 2),
                "project_ms": round(full, 1),
                "identical_results": identical,
            }
        )
        print(
            f"{dist:12s} simulate {fast:7.1f} ms  reference {ref:7.1f} ms  x{ref / fast:4.2f}  "
            f"project() {full:7.1f} ms  identical={identical}"
        )
    hist_ms = median_ms(lambda: historical(plan, 0.6))
    print(f"historical replay (57 cycles x 40 y): {hist_ms:.1f} ms")
    payload = {
        "goal": "10,000 paths x 40 years monthly <= 150 ms",
        "statistic": "median wall time per call, ms",
        "results": rows,
        "historical_replay_ms": round(hist_ms, 1),
    }
    print(f"wrote {write_result('projection', payload)}")
    return payload


if __name__ == "__main__":
    main()
