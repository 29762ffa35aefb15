"""Bench: pull a ~10,000-transaction Item through /transactions/sync.

Run: ``python -m aggregation.sandbox.benchmark``. Prints figures and writes
bench/results/plaid_sandbox_sync.json. The reference in the same run
is the sandbox engine called in-process (no HTTP, no plaid-python parsing), so the ratio shows
what HTTP plus plaid-python's model validation cost on this machine.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import plaid
from plaid.api import plaid_api
from plaid.model.item_public_token_exchange_request import ItemPublicTokenExchangeRequest
from plaid.model.products import Products
from plaid.model.sandbox_public_token_create_request import SandboxPublicTokenCreateRequest
from plaid.model.transactions_sync_request import TransactionsSyncRequest

from aggregation.sandbox import SandboxServer
from aggregation.sandbox.engine import Sandbox, Settings

ANCHOR = date(2025, 6, 30)


def engine_pull() -> tuple[int, float, float]:
    sandbox = Sandbox(Settings(seed="bench", anchor=ANCHOR, transactions_target=10_000))
    public = sandbox.sandbox_public_token_create(
        {"institution_id": "ins_109508", "initial_products": ["transactions"]}
    )
    started = time.perf_counter()
    item = sandbox.item_public_token_exchange({"public_token": public["public_token"]})
    build_s = time.perf_counter() - started
    started, cursor, count = time.perf_counter(), "", 0
    while True:
        page = sandbox.transactions_sync(
            {"access_token": item["access_token"], "cursor": cursor, "count": 500}
        )
        count += len(page["added"])
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    return count, build_s, time.perf_counter() - started


def client_pull() -> tuple[int, float]:
    with SandboxServer(seed="bench", anchor=ANCHOR, transactions_target=10_000) as server:
        api = plaid_api.PlaidApi(
            plaid.ApiClient(
                plaid.Configuration(
                    host=server.base_url,
                    api_key={"clientId": server.client_id, "secret": server.secret},
                )
            )
        )
        created = api.sandbox_public_token_create(
            SandboxPublicTokenCreateRequest(
                institution_id="ins_109508", initial_products=[Products("transactions")]
            )
        )
        token = api.item_public_token_exchange(
            ItemPublicTokenExchangeRequest(public_token=created.public_token)
        ).access_token
        started, cursor, count = time.perf_counter(), "", 0
        while True:
            page = api.transactions_sync(
                TransactionsSyncRequest(access_token=token, cursor=cursor, count=500)
            )
            count += len(page.added)
            cursor = page.next_cursor
            if not page.has_more:
                break
        return count, time.perf_counter() - started


def main() -> None:
    engine_count, build_s, engine_s = engine_pull()
    client_count, client_s = client_pull()
    result = {
        "transactions": client_count,
        "item_build_seconds": round(build_s, 3),
        "reference_in_process_sync_seconds": round(engine_s, 3),
        "plaid_python_over_http_sync_seconds": round(client_s, 3),
        "ratio_http_client_to_in_process": round(client_s / engine_s, 1),
        "client_transactions_per_second": round(client_count / client_s, 1),
    }
    assert engine_count == client_count
    print(json.dumps(result, indent=2))
    out = Path(__file__).resolve().parents[2] / "bench" / "results" / "plaid_sandbox_sync.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
