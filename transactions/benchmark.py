"""Speed of the transactions service's plain modules, each next to a named reference, in one run.

    python -m transactions.benchmark [--n 2000]

Prints figures and writes ``bench/results/transactions.json``; nothing passes or fails on them.

Measured, each against a reference (the minimum work of the same job):

- ingest path: ``from_provider`` + ``index_tokens`` + ``FieldCipher`` seal per transaction;
  reference: bare ``AESGCM.encrypt`` of the same JSON under one fixed key;
- ``anomalies.score_new`` of n new rows against 2n history rows; reference:
  ``statistics.median`` of each row's merchant history (the core of a robust z-score);
- ``recurring.detect_recurring`` over n rows; reference: ``sorted`` by (merchant, date).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from transactions import anomalies, recurring
from transactions.ledger import from_provider
from transactions.search_index import index_tokens, user_key

RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results" / "transactions.json"
MERCHANTS = [f"merchant {i}" for i in range(60)]


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _plaid(i: int, rng: random.Random) -> dict:
    return {
        "transaction_id": f"t{i}",
        "account_id": "acc",
        "amount": f"{rng.randint(100, 20000) / 100:.2f}",
        "iso_currency_code": "USD",
        "date": (dt.date(2026, 1, 1) + dt.timedelta(days=i % 365)).isoformat(),
        "name": f"POS PURCHASE {rng.choice(MERCHANTS).upper()} #{rng.randint(100, 999)} AUSTIN TX",
        "merchant_name": rng.choice(MERCHANTS),
        "location": {"city": "Austin", "country": "US"},
        "payment_meta": {"reference_number": str(i)},
        "counterparties": [],
        "payment_channel": "in store",
        "pending": False,
    }


def bench_ingest(n: int) -> dict:
    from common.crypto import CipherContext, FieldCipher, LocalKeyProvider

    rng = random.Random(1)
    raw = [_plaid(i, rng) for i in range(n)]
    with tempfile.TemporaryDirectory() as state:
        os.chmod(state, 0o700)
        provider = LocalKeyProvider(state)
        cipher = FieldCipher(provider)
        key = user_key(provider.blind_index_key("transactions.search"), "bench-user")

        def ours():
            for i, txn in enumerate(raw):
                record = from_provider(txn)
                details = record["details"]
                index_tokens(key, [details["name"], details["merchant_name"]])
                ctx = CipherContext(table="transactions", column="details", row_id=f"row-{i}")
                cipher.encrypt(json.dumps(details), ctx=ctx)

        fixed = AESGCM(AESGCM.generate_key(bit_length=256))
        payloads = [json.dumps(t).encode() for t in raw]

        def reference():
            for p in payloads:
                fixed.encrypt(os.urandom(12), p, None)

        ours_s, ref_s = _timed(ours), _timed(reference)
    return {
        "n": n,
        "per_second": n / ours_s,
        "reference_per_second": n / ref_s,
        "ratio": ours_s / ref_s,
    }


def _rows(n: int, rng: random.Random, offset: int = 0) -> list[dict]:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = []
    for i in range(n):
        at = start + dt.timedelta(hours=(offset + i) * 3)
        rows.append(
            {
                "id": f"r{offset + i}",
                "amount": -Decimal(rng.randint(100, 20000)) / 100,
                "at": at,
                "time_known": True,
                "hour": at.hour,
                "merchant": rng.choice(MERCHANTS),
                "category": "GENERAL_MERCHANDISE_OTHER_GENERAL_MERCHANDISE",
                "country": "US",
                "dismissed": False,
                "date": at.date(),
                "currency": "USD",
            }
        )
    return rows


def bench_anomalies(n: int) -> dict:
    rng = random.Random(2)
    history, new = _rows(2 * n, rng), _rows(n, rng, offset=2 * n)

    def reference():
        by_merchant: dict[str, list[float]] = {}
        for row in history + new:
            amounts = by_merchant.setdefault(row["merchant"], [])
            if amounts:
                statistics.median(amounts)
            amounts.append(float(-row["amount"]))

    ours_s = _timed(lambda: anomalies.score_new(history, new))
    ref_s = _timed(reference)
    return {
        "n_new": n,
        "n_history": 2 * n,
        "seconds": ours_s,
        "reference_seconds": ref_s,
        "ratio": ours_s / ref_s,
    }


def bench_recurring(n: int) -> dict:
    rows = _rows(n, random.Random(3))
    ours_s = _timed(lambda: recurring.detect_recurring(rows, as_of=dt.date(2026, 12, 31)))
    ref_s = _timed(lambda: sorted(rows, key=lambda r: (r["merchant"], r["date"])))
    return {"n": n, "seconds": ours_s, "reference_seconds": ref_s, "ratio": ours_s / ref_s}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args(argv)
    result = {
        "ingest": bench_ingest(args.n),
        "anomalies": bench_anomalies(args.n),
        "recurring": bench_recurring(args.n),
    }
    print(json.dumps(result, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
