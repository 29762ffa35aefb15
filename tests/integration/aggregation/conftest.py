"""Fixtures: a bundled Plaid sandbox, the aggregation service in a nameko container pointed at
it, a probe ``transactions`` service that applies transactions_synced events (inbox) to a
table, and principals signed by a test key."""

from __future__ import annotations

import time
import uuid
from datetime import date

import plaid
import pytest
import requests
from _support.waiting import wait_until
from nameko.testing.services import entrypoint_hook
from plaid.api import plaid_api
from sqlalchemy import text

from aggregation.sandbox import SandboxServer
from common import principal as principal_module
from common.db import make_engine
from common.nameko_deps import Database
from common.nameko_events import handles
from common.principal import TokenSigner

ANCHOR = date(2025, 6, 30)
PROBE_TABLE = "it_agg_probe_txns"
PROBE_EVENTS = "it_agg_probe_events"


class TransactionsProbe:
    """Stands in for the transactions service: applies events to a table, exactly once."""

    name = "transactions"
    db = Database("transactions")

    @property
    def inbox_model(self):
        from transactions.models import ProcessedEvent

        return ProcessedEvent

    @handles("aggregation", "transactions_synced")
    def probe_agg_transactions_synced(self, session, event):
        from common.contracts.aggregation import load_event

        if "sync_id" not in event["data"]:
            return  # another engineer's test publishing its own shape on the shared vhost
        data = load_event("transactions_synced", event["data"])
        for kind in ("added", "modified"):
            for t in data[kind]:
                session.execute(
                    text(
                        f"INSERT INTO {PROBE_TABLE} (transaction_id, item_id, amount, name) "
                        "VALUES (:t, :i, :a, :n) ON CONFLICT (transaction_id) DO UPDATE "
                        "SET amount = EXCLUDED.amount, name = EXCLUDED.name, "
                        "applied = {PROBE_TABLE}.applied + 1".replace("{PROBE_TABLE}", PROBE_TABLE)
                    ),
                    {
                        "t": t["transaction_id"],
                        "i": data["item_id"],
                        "a": t["amount"],
                        "n": t["name"],
                    },
                )
        for r in data["removed"]:
            session.execute(
                text(f"DELETE FROM {PROBE_TABLE} WHERE transaction_id = :t"),
                {"t": r["transaction_id"]},
            )
        self._note(
            session, event, len(data["added"]) + len(data["modified"]) + len(data["removed"])
        )

    def _note(self, session, event, size):
        session.execute(
            text(
                f"INSERT INTO {PROBE_EVENTS} (event_id, event_type, item_id, size) "
                "VALUES (:e, :t, :i, :s)"
            ),
            {
                "e": event["event_id"],
                "t": event["event_type"],
                "i": event["data"]["item_id"],
                "s": size,
            },
        )

    @handles("aggregation", "balances_updated")
    def probe_agg_balances(self, session, event):
        self._note(session, event, len(event["data"]["accounts"]))

    @handles("aggregation", "holdings_synced")
    def probe_agg_holdings(self, session, event):
        self._note(session, event, len(event["data"]["holdings"]))

    @handles("aggregation", "item_error")
    def probe_agg_item_error(self, session, event):
        self._note(session, event, 1)


@pytest.fixture(scope="session")
def probe_engine(provisioned):
    engine = make_engine(provisioned.database_url("transactions"), pool_size=2)
    with engine.begin() as conn:
        conn.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {PROBE_TABLE} (transaction_id text PRIMARY KEY, "
                "item_id text NOT NULL, amount numeric NOT NULL, name text, "
                "applied int NOT NULL DEFAULT 1)"
            )
        )
        conn.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {PROBE_EVENTS} (event_id text PRIMARY KEY, "
                "event_type text NOT NULL, item_id text NOT NULL, size int NOT NULL)"
            )
        )
    yield engine
    engine.dispose()


class Probe:
    def __init__(self, engine):
        self.engine = engine

    def transactions(self, item_id: str) -> dict:
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(f"SELECT transaction_id, amount FROM {PROBE_TABLE} WHERE item_id = :i"),
                {"i": item_id},
            ).all()
        return {r[0]: r[1] for r in rows}

    def events(self, item_id: str, event_type: str | None = None) -> list[tuple]:
        query = f"SELECT event_id, event_type, size FROM {PROBE_EVENTS} WHERE item_id = :i"
        params = {"i": item_id}
        if event_type:
            query += " AND event_type = :t"
            params["t"] = event_type
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(query), params).all()]


@pytest.fixture
def probe(run_container, probe_engine):
    run_container(TransactionsProbe, as_service="transactions")
    return Probe(probe_engine)


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(seed=f"agg-{uuid.uuid4().hex[:8]}", anchor=ANCHOR) as server:
        yield server


@pytest.fixture(scope="module")
def admin(sandbox):
    def call(path: str, **body):
        response = requests.post(
            sandbox.base_url + path,
            json=body,
            timeout=30,
            headers={"PLAID-CLIENT-ID": sandbox.client_id, "PLAID-SECRET": sandbox.secret},
        )
        return response.status_code, response.json()

    return call


@pytest.fixture(scope="module")
def plaid_client(sandbox):
    config = plaid.Configuration(
        host=sandbox.base_url, api_key={"clientId": sandbox.client_id, "secret": sandbox.secret}
    )
    return plaid_api.PlaidApi(plaid.ApiClient(config))


@pytest.fixture
def signer(monkeypatch, settings):
    signer = TokenSigner(issuer=settings.jwt_issuer, audience=settings.jwt_audience)
    monkeypatch.setenv("NESTEGG_JWT_PUBLIC_KEY", signer.public_pem())
    monkeypatch.setattr(principal_module, "_verifier", signer.verifier())
    monkeypatch.setattr(principal_module, "_verifier_mtime", None)
    return signer


@pytest.fixture
def user(signer):
    """A fresh user: ``user.token`` has a recent second factor (step-up satisfied)."""

    class User:
        def __init__(self):
            self.id = f"u-{uuid.uuid4().hex[:12]}"
            self.token = signer.sign(self.id, amr=("pwd", "otp"))
            self.weak_token = signer.sign(self.id, amr=("pwd",))

    return User


@pytest.fixture
def aggregation(run_container, sandbox):
    from aggregation.service import AggregationService

    container = run_container(
        AggregationService,
        as_service="aggregation",
        PLAID_HOST=sandbox.base_url,
        PLAID_CLIENT_ID=sandbox.client_id,
        PLAID_SECRET=sandbox.secret,
    )

    class Rpc:
        def __getattr__(self, method):
            def call(*args, **kwargs):
                with entrypoint_hook(container, method) as hook:
                    return hook(*args, **kwargs)

            return call

    return Rpc()


def link(aggregation, user_token, institution_id="ins_109508", **extra) -> dict:
    public = aggregation.create_sandbox_public_token(
        user_token, {"institution_id": institution_id, **extra}
    )
    return aggregation.exchange_public_token(user_token, {"public_token": public["public_token"]})


def sync_now(aggregation, token, item_id, timeout=60.0) -> dict:
    """refresh_item, waiting out a concurrent timer-run sync (status busy)."""
    deadline = time.monotonic() + timeout
    while True:
        result = aggregation.refresh_item(token, {"item_id": item_id})
        if result["status"] != "busy" or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


@pytest.fixture
def helpers():
    class H:
        pass

    h = H()
    h.link, h.sync_now, h.wait_until = link, sync_now, wait_until
    return h
