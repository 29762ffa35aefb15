"""Benchmark: field encryption (local and Vault providers) vs bare AES-GCM.

The measuring code lives next to what it measures (`common.crypto.benchmark`); this entry point lets
`make bench` run it with the others. It prints figures and writes bench/results/*.json.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.crypto.benchmark import main  # noqa: E402

if __name__ == "__main__":
    main()
