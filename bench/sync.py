"""Sync throughput: an Item with ~10,000 transactions from the bundled sandbox to rows stored
downstream, end to end, beside plaid-python alone reading the same pages (the ceiling).

End to end = ``refresh_item`` (plaid-python over HTTP, netting, account/balance rows, outbox
rows + cursor in one transaction) -> outbox relay -> RabbitMQ -> the real transactions service
(inbox claim, sign flip, encryption of the details, search tokens, layered categorisation with
the trained model, anomaly scoring) until the last row is stored in its ledger. With ``--probe``
a bare consumer (inbox claim + one INSERT per transaction) stands in for the transactions
service instead, which isolates the aggregation side. The bench deployment is dropped and
re-provisioned first: the sandbox is deterministic, so a kept deployment would find the Item
already synced and measure nothing.

Ceilings, same sandbox, same pages of 500: plaid-python with its typed response models (what
most integrations do) and plaid-python returning raw JSON (what the provider does).
Writes bench/results/sync.json.
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()
from psycogreen.eventlet import patch_psycopg  # noqa: E402

patch_psycopg()

import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import date  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from _common import bench_environment, write_result  # noqa: E402

bench_environment()

TABLE = "bench_agg_probe_txns"


def probe_class():
    from sqlalchemy import text

    from common.nameko_deps import Database
    from common.nameko_events import handles

    class BenchTransactionsProbe:
        name = "transactions"
        db = Database("transactions")

        @property
        def inbox_model(self):
            from transactions.models import ProcessedEvent

            return ProcessedEvent

        @handles("aggregation", "transactions_synced")
        def bench_agg_transactions_synced(self, session, event):
            data = event["data"]
            if "sync_id" not in data:
                return
            rows = [
                {"t": t["transaction_id"], "i": data["item_id"], "a": t["amount"]}
                for t in data["added"] + data["modified"]
            ]
            if rows:
                session.execute(
                    text(
                        f"INSERT INTO {TABLE} (transaction_id, item_id, amount) "
                        "VALUES (:t, :i, :a) ON CONFLICT (transaction_id) DO UPDATE "
                        "SET amount = EXCLUDED.amount"
                    ),
                    rows,
                )

    return BenchTransactionsProbe


def pull(api, token, raw: bool) -> tuple[int, float]:
    import json
    from decimal import Decimal

    from plaid.model.transactions_sync_request import TransactionsSyncRequest

    started, cursor, count = time.perf_counter(), "", 0
    while True:
        request = TransactionsSyncRequest(access_token=token, cursor=cursor, count=500)
        if raw:
            page = json.loads(
                api.transactions_sync(request, _preload_content=False).data, parse_float=Decimal
            )
            count += len(page["added"])
            cursor, more = page["next_cursor"], page["has_more"]
        else:
            page = api.transactions_sync(request)
            count += len(page.added)
            cursor, more = page.next_cursor, page.has_more
        if not more:
            return count, time.perf_counter() - started


def main(argv=None) -> int:
    import argparse

    import plaid
    from nameko.containers import ServiceContainer
    from nameko.testing.services import entrypoint_hook
    from plaid.api import plaid_api
    from sqlalchemy import text

    from aggregation.sandbox import SandboxServer
    from aggregation.service import AggregationService
    from common import config, provision
    from common import principal as principal_module
    from common.db import make_engine
    from common.principal import TokenSigner

    parser = argparse.ArgumentParser(description="sync throughput, end to end")
    parser.add_argument("--probe", action="store_true", help="count a bare probe consumer")
    args = parser.parse_args(argv)
    settings = config.load()
    provision.reset_deployment(settings)
    provision.setup_all(settings)
    if not args.probe:
        from transactions.categorizer.training import load_or_train

        load_or_train()  # the model the service loads (trained once per bench state dir)
    engine = make_engine(settings.database_url("transactions"), pool_size=2)
    with engine.begin() as conn:
        conn.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (transaction_id text PRIMARY "
                "KEY, item_id text NOT NULL, amount numeric NOT NULL)"
            )
        )
    signer = TokenSigner(issuer=settings.jwt_issuer, audience=settings.jwt_audience)
    os.environ["NESTEGG_JWT_PUBLIC_KEY"] = signer.public_pem()
    principal_module._verifier, principal_module._verifier_mtime = signer.verifier(), None
    user_token = signer.sign("bench-user", amr=("pwd", "otp"))
    containers = []
    with SandboxServer(
        seed="bench-sync", anchor=date(2025, 6, 30), transactions_target=10_000
    ) as server:
        try:
            base = {"max_workers": 4, "DECLARE_EVENT_EXCHANGES": False, "HEARTBEAT": 20}
            if args.probe:
                downstream_cls = probe_class()
            else:
                from transactions.service import TransactionsService as downstream_cls
            for cls, service, extra in (
                (downstream_cls, "transactions", {}),
                (
                    AggregationService,
                    "aggregation",
                    {"PLAID_HOST": server.base_url, "SYNC_INTERVAL": 10**9},
                ),
            ):
                container = ServiceContainer(
                    cls, {"AMQP_URI": settings.amqp_uri(service), **base, **extra}
                )
                container.start()
                containers.append(container)
            aggregation = containers[-1]

            def call(method, *args):
                with entrypoint_hook(aggregation, method) as hook:
                    return hook(*args)

            public = call(
                "create_sandbox_public_token", user_token, {"institution_id": "ins_109508"}
            )
            item = call(
                "exchange_public_token", user_token, {"public_token": public["public_token"]}
            )
            started = time.perf_counter()
            result = call("refresh_item", user_token, {"item_id": item["item_id"]})
            while result["status"] == "busy":  # the timer got there first: wait for it
                eventlet.sleep(0.05)
                result = call("refresh_item", user_token, {"item_id": item["item_id"]})
            sync_done = time.perf_counter() - started
            total = call("list_items", user_token)[0]["health"]["transactions_total"]
            with engine.connect() as conn:
                while True:
                    table = TABLE if args.probe else "transactions"
                    stored = conn.execute(
                        text(f"SELECT count(*) FROM {table} WHERE item_id = :i"),  # noqa: S608
                        {"i": item["item_id"]},
                    ).scalar()
                    if stored >= total or time.perf_counter() - started > 600:
                        break
                    eventlet.sleep(0.05)
            end_to_end = time.perf_counter() - started
            # ceiling: a second Item with the same size, read by plaid-python alone
            api = plaid_api.PlaidApi(
                plaid.ApiClient(
                    plaid.Configuration(
                        host=server.base_url,
                        api_key={"clientId": server.client_id, "secret": server.secret},
                    )
                )
            )
            from plaid.model.item_public_token_exchange_request import (
                ItemPublicTokenExchangeRequest,
            )
            from plaid.model.products import Products
            from plaid.model.sandbox_public_token_create_request import (
                SandboxPublicTokenCreateRequest,
            )

            created = api.sandbox_public_token_create(
                SandboxPublicTokenCreateRequest(
                    institution_id="ins_109508", initial_products=[Products("transactions")]
                )
            )
            token = api.item_public_token_exchange(
                ItemPublicTokenExchangeRequest(public_token=created.public_token)
            ).access_token
            typed_count, typed_s = pull(api, token, raw=False)
            raw_count, raw_s = pull(api, token, raw=True)
        finally:
            for container in reversed(containers):
                container.stop()
            engine.dispose()
    figures = {
        "transactions": total,
        "stored_downstream": stored,
        "downstream_counted_by": "probe consumer" if args.probe else "transactions service ledger",
        "sync_rpc_seconds": round(sync_done, 3),
        "end_to_end_seconds": round(end_to_end, 3),
        "end_to_end_tx_per_s": round(stored / end_to_end, 1),
        "ceiling_plaid_python_typed_models_seconds": round(typed_s, 3),
        "ceiling_plaid_python_typed_tx_per_s": round(typed_count / typed_s, 1),
        "ceiling_plaid_python_raw_json_seconds": round(raw_s, 3),
        "ceiling_plaid_python_raw_tx_per_s": round(raw_count / raw_s, 1),
        "ratio_end_to_end_over_typed_ceiling": round(
            (stored / end_to_end) / (typed_count / typed_s), 3
        ),
        "ratio_end_to_end_over_raw_ceiling": round((stored / end_to_end) / (raw_count / raw_s), 3),
    }
    for key, value in figures.items():
        print(f"{key:45s} {value}")
    write_result("sync", figures)
    return 0 if stored >= total else 1


if __name__ == "__main__":
    sys.exit(main())
