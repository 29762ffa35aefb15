"""Benchmark: ledger ingest, anomaly scoring and recurring detection vs their plain references.

The measuring code lives next to what it measures (`transactions.benchmark`); this entry point lets
`make bench` run it with the others. It prints figures and writes bench/results/*.json.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from transactions.benchmark import main  # noqa: E402

if __name__ == "__main__":
    main()
