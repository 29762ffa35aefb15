"""RabbitMQ stopped and started during a sync of several thousand transactions: downstream ends
with exactly the sandbox's set, each transaction applied once (outbox + inbox)."""

from __future__ import annotations

import socket
import subprocess
import threading
import time

import pytest
from plaid.model.transactions_sync_request import TransactionsSyncRequest
from sqlalchemy import text

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _broker_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=1):
            pass
    except OSError:
        return False
    return (
        subprocess.run(["rabbitmqctl", "-q", "status"], capture_output=True, timeout=30).returncode
        == 0
    )


def _bounce(delay: float, outage: float, done: threading.Event) -> None:
    try:
        time.sleep(delay)
        subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True, timeout=60)
        time.sleep(outage)
    finally:
        subprocess.run(["rabbitmqctl", "-q", "start_app"], timeout=120)
        deadline = time.monotonic() + 90
        while not _broker_up() and time.monotonic() < deadline:
            time.sleep(0.5)
        done.set()


def test_broker_outage_during_a_big_sync_loses_and_duplicates_nothing(
    aggregation, probe, user, helpers, admin, plaid_client, probe_engine, provisioned
):
    from common.provision import wait_for_management

    admin("/sandbox/admin/settings", transactions_target=5000)
    try:
        alice = user()
        item = helpers.link(aggregation, alice.token, "ins_109509")
    finally:
        admin("/sandbox/admin/settings", transactions_target=None)
    done = threading.Event()
    bouncer = threading.Thread(target=_bounce, args=(0.2, 3.0, done), daemon=True)
    bouncer.start()
    try:
        result = helpers.sync_now(aggregation, alice.token, item["item_id"])
        assert result["status"] in ("synced", "busy")
    finally:
        done.wait(180)
        bouncer.join(5)
        wait_for_management(provisioned, timeout=90)
    assert _broker_up()

    token = _token(provisioned, item["item_id"])
    truth, cursor = set(), ""
    while True:
        page = plaid_client.transactions_sync(
            TransactionsSyncRequest(access_token=token, cursor=cursor, count=500)
        )
        truth |= {t.transaction_id for t in page.added}
        cursor = page.next_cursor
        if not page.has_more:
            break
    assert len(truth) > 3000
    assert helpers.wait_until(lambda: set(probe.transactions(item["item_id"])) == truth, 120)
    with probe_engine.connect() as conn:
        applied = conn.execute(
            text("SELECT max(applied) FROM it_agg_probe_txns WHERE item_id = :i"),
            {"i": item["item_id"]},
        ).scalar()
    assert applied == 1  # every transaction applied exactly once


def _token(provisioned, item_id):
    from sqlalchemy import select

    from aggregation.models import Item
    from aggregation.sync_store import token_context
    from common.crypto import FieldCipher, get_key_provider
    from common.db import make_engine, make_session_factory

    engine = make_engine(provisioned.database_url("aggregation"), pool_size=1)
    try:
        with make_session_factory(engine)() as session:
            item = session.scalars(select(Item).where(Item.id == item_id)).one()
            return FieldCipher(get_key_provider()).decrypt(
                item.access_token, ctx=token_context(item.id)
            )
    finally:
        engine.dispose()
