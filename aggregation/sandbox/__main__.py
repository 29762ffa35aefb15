"""``python -m aggregation.sandbox --host 127.0.0.1 --port 8090``"""

from __future__ import annotations

import argparse
import os
from datetime import date

from werkzeug.serving import run_simple

from .app import create_app
from .engine import DEFAULT_CLIENT_ID, DEFAULT_SECRET


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Nestegg's Plaid-compatible sandbox server")
    parser.add_argument("--host", default=os.environ.get("PLAID_SANDBOX_HOST", "127.0.0.1"))
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("PLAID_SANDBOX_PORT", "8090"))
    )
    parser.add_argument("--seed", default=os.environ.get("PLAID_SANDBOX_SEED", "nestegg"))
    parser.add_argument("--client-id", default=os.environ.get("PLAID_CLIENT_ID", DEFAULT_CLIENT_ID))
    parser.add_argument(
        "--anchor-date",
        type=date.fromisoformat,
        default=None,
        help="the sandbox's 'today' for new Items (default: today, UTC)",
    )
    parser.add_argument(
        "--transactions-target",
        type=int,
        default=None,
        help="approximate transactions per Item (e.g. 10000 for benchmarks)",
    )
    args = parser.parse_args(argv)
    secret = os.environ.get("PLAID_SECRET", DEFAULT_SECRET)
    app = create_app(
        seed=args.seed,
        client_id=args.client_id,
        secret=secret,
        anchor=args.anchor_date,
        transactions_target=args.transactions_target,
    )
    run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()
