"""The transactions service in a real nameko container against the test database and broker.

RPCs are called as the gateway would (a ClusterRpcProxy as the gateway broker user) with
access tokens signed by a test TokenSigner. ``transactions_synced`` events are written to the
aggregation service's outbox and relayed to the broker for real; ``sync(...)`` waits until the
transactions inbox records the event.
"""

import datetime as dt
import functools
import time
import uuid

import pytest
from _support.waiting import wait_until
from sqlalchemy import text

SCOPES = ("transactions:read", "transactions:write")


wait_until = functools.partial(wait_until, timeout=30.0, interval=0.05)


@pytest.fixture(scope="session")
def signer(settings):
    from common.principal import TokenSigner

    return TokenSigner(issuer=settings.jwt_issuer, audience=settings.jwt_audience)


@pytest.fixture
def tokens(signer, monkeypatch):
    import common.rpc

    verifier = signer.verifier()
    monkeypatch.setattr(common.rpc, "default_verifier", lambda: verifier)
    return lambda user_id, scopes=SCOPES: signer.sign(user_id, scopes=scopes)


@pytest.fixture
def service(run_container, tokens):
    from transactions.service import TransactionsService

    return run_container(TransactionsService, as_service="transactions")


@pytest.fixture
def rpc(provisioned, service):
    from nameko.standalone.rpc import ClusterRpcProxy

    config = {"AMQP_URI": provisioned.amqp_uri("gateway"), "HEARTBEAT": 20}
    with ClusterRpcProxy(config, timeout=30) as proxy:
        yield proxy.transactions


@pytest.fixture(scope="session")
def tx_engine(provisioned):
    from common.db import make_engine

    engine = make_engine(provisioned.database_url("transactions"), pool_size=3)
    yield engine
    engine.dispose()


@pytest.fixture
def db(tx_engine):
    def query(sql, **params):
        with tx_engine.begin() as conn:
            return conn.execute(text(sql), params).mappings().all()

    return query


@pytest.fixture
def events(db):
    """``events(user_id, event_type)`` -> payload data of outbox events the service wrote."""

    def find(user_id, event_type):
        rows = db(
            "SELECT payload FROM outbox WHERE event_type = :t AND payload->>'user_id' = :u "
            "ORDER BY created_at",
            t=event_type,
            u=user_id,
        )
        return [r["payload"]["data"] for r in rows]

    return find


@pytest.fixture(scope="session")
def aggregation_db(service_db):
    return service_db("aggregation")


@pytest.fixture
def sync(provisioned, service, aggregation_db, db, emit_event):
    """Publish one ``transactions_synced`` event (or replay one by id) and wait for it."""
    from aggregation.models import OutboxEvent
    from common.db import transaction
    from common.outbox import OutboxRelay, kombu_publisher

    def handled(event_id):
        return db("SELECT 1 FROM inbox WHERE event_id = :e", e=event_id)

    def send(user_id, added=(), modified=(), removed=(), *, replay_of=None, item_id="item-1"):
        if replay_of is None:
            data = {
                "user_id": user_id,
                "item_id": item_id,
                "added": list(added),
                "modified": list(modified),
                "removed": list(removed),
            }
            event_id = emit_event("aggregation", "transactions_synced", data, user_id)
            assert wait_until(lambda: handled(event_id))
            return event_id
        with transaction(aggregation_db) as session:
            session.execute(
                text("UPDATE outbox SET published_at = NULL WHERE id = :i"), {"i": replay_of}
            )
        assert len(handled(replay_of)) == 1
        publish = kombu_publisher(provisioned.amqp_uri("aggregation"))
        OutboxRelay(aggregation_db, OutboxEvent, publish).relay_pending()
        time.sleep(1.0)  # a replay is skipped by the inbox: nothing to wait for
        return replay_of

    return send


@pytest.fixture
def user(tx_engine):
    """A fresh user id; its outbox rows (unroutable: nobody consumes them in this suite) are
    deleted afterwards so the relay timer does not retry them in later runs."""
    user_id = f"user-{uuid.uuid4().hex[:12]}"
    yield user_id
    with tx_engine.begin() as conn:
        conn.execute(
            text("DELETE FROM outbox WHERE payload->>'user_id' LIKE :u"), {"u": user_id + "%"}
        )


def today():
    return dt.datetime.now(dt.UTC).date()


def plaid(tid, amount, *, days_ago=0, account="acc-chk", name="NETFLIX.COM 866-579", **extra):
    """A Plaid-shaped transaction (Plaid sign: positive = money out)."""
    day = (today() - dt.timedelta(days=days_ago)).isoformat()
    txn = {
        "transaction_id": tid,
        "account_id": account,
        "amount": amount,
        "iso_currency_code": "USD",
        "unofficial_currency_code": None,
        "date": day,
        "authorized_date": day,
        "authorized_datetime": None,
        "datetime": None,
        "name": name,
        "original_description": name,
        "merchant_name": extra.pop("merchant_name", None),
        "location": {"country": "US", "city": "Austin", "address": "1 Main St"},
        "payment_meta": {"reference_number": "REF-778899"},
        "counterparties": [],
        "payment_channel": "online",
        "pending": False,
        "pending_transaction_id": None,
        "personal_finance_category": None,
        "website": None,
        "check_number": None,
    }
    txn.update(extra)
    return txn


@pytest.fixture
def txn():
    """``txn(tid, plaid_amount, days_ago=0, ...)`` builds a Plaid-shaped transaction."""
    return plaid


@pytest.fixture
def day():
    """``day(days_ago)`` -> ISO date string relative to today (UTC)."""
    return lambda days_ago=0: (today() - dt.timedelta(days=days_ago)).isoformat()
