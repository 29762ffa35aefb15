"""link -> exchange -> sync -> events, end to end at the RPC level, against the sandbox."""

from __future__ import annotations

from decimal import Decimal

import pytest
from plaid.model.transactions_sync_request import TransactionsSyncRequest
from sqlalchemy import select

from common.errors import Forbidden, NotFound, StepUpRequired

pytestmark = pytest.mark.integration


def plaid_truth(client, access_token) -> dict:
    """A fresh full sync through plaid-python's typed models: {transaction_id: amount}."""
    known, cursor = {}, ""
    while True:
        page = client.transactions_sync(
            TransactionsSyncRequest(access_token=access_token, cursor=cursor, count=500)
        )
        for t in page.added + page.modified:
            known[t.transaction_id] = Decimal(str(t.amount))
        for r in page.removed:
            known.pop(r.transaction_id, None)
        cursor = page.next_cursor
        if not page.has_more:
            return known


def stored_token(provisioned, item_id) -> str:
    from aggregation.models import Item
    from aggregation.sync_store import token_context
    from common.crypto import FieldCipher, get_key_provider
    from common.db import make_engine, make_session_factory

    engine = make_engine(provisioned.database_url("aggregation"), pool_size=1)
    try:
        with make_session_factory(engine)() as session:
            item = session.scalars(select(Item).where(Item.id == item_id)).one()
            assert item.access_token and not item.access_token.startswith("access-")
            return FieldCipher(get_key_provider()).decrypt(
                item.access_token, ctx=token_context(item.id)
            )
    finally:
        engine.dispose()


def test_link_sync_advance_and_downstream_set_equals_the_sandbox(
    aggregation, probe, user, helpers, plaid_client, admin, provisioned
):
    alice = user()
    item = helpers.link(aggregation, alice.token)
    assert item["provider"] == "plaid" and len(item["accounts"]) == 6
    assert "access_token" not in str(item)
    first = helpers.sync_now(aggregation, alice.token, item["item_id"])
    token = stored_token(provisioned, item["item_id"])
    truth = plaid_truth(plaid_client, token)
    assert first["status"] in ("synced", "busy") or first
    assert helpers.wait_until(lambda: probe.transactions(item["item_id"]) == truth, 60)

    # advance the sandbox's clock until it has added, modified and removed transactions (how
    # many of each a 10-day step brings depends on the calendar)
    seen = {"added": 0, "modified": 0, "removed": 0}
    for _ in range(12):
        status, result = admin("/sandbox/admin/advance", access_token=token, days=10)
        assert status == 200
        for kind in seen:
            seen[kind] += result[kind]
        if all(seen.values()):
            break
    assert all(seen.values()), seen
    second = helpers.sync_now(aggregation, alice.token, item["item_id"])
    assert second["status"] == "synced"
    truth = plaid_truth(plaid_client, token)
    assert helpers.wait_until(lambda: probe.transactions(item["item_id"]) == truth, 60)

    chunks = probe.events(item["item_id"], "transactions_synced")
    assert all(size <= 500 for _, _, size in chunks) and len(chunks) >= 5
    assert probe.events(item["item_id"], "balances_updated")
    assert helpers.wait_until(lambda: probe.events(item["item_id"], "holdings_synced"))

    listed = aggregation.list_items(alice.token)
    health = next(i for i in listed if i["item_id"] == item["item_id"])["health"]
    assert health["status"] == "healthy" and health["last_synced_at"]
    assert health["transactions_total"] >= len(truth) and health["last_sync_ms"] is not None
    accounts = aggregation.list_accounts(alice.token)
    assert {a["item_id"] for a in accounts} == {item["item_id"]}
    assert all(
        a["current"] is None or Decimal(a["current"]) == Decimal(a["current"]) for a in accounts
    )
    metrics = aggregation.metrics()
    assert metrics["counters"].get("syncs.synced", 0) >= 1


def test_linking_needs_a_recent_second_factor_and_the_sandbox(aggregation, user):
    bob = user()
    with pytest.raises(StepUpRequired):
        aggregation.create_sandbox_public_token(bob.weak_token, {"institution_id": "ins_109508"})
    with pytest.raises(StepUpRequired):
        aggregation.create_link_token(bob.weak_token, {})
    link = aggregation.create_link_token(bob.token, {})
    assert link["link_token"].startswith("link-") and link["update_mode"] is False


def test_sandbox_public_token_is_refused_outside_the_sandbox(run_container, sandbox, user):
    from nameko.testing.services import entrypoint_hook

    from aggregation.service import AggregationService

    container = run_container(
        AggregationService,
        as_service="aggregation",
        PLAID_HOST=sandbox.base_url,
        PLAID_ENV="production",
    )
    with (
        entrypoint_hook(container, "create_sandbox_public_token") as hook,
        pytest.raises(Forbidden),
    ):
        hook(user().token, {"institution_id": "ins_109508"})


def test_bola_another_users_item_is_not_found(aggregation, user, helpers):
    alice, mallory = user(), user()
    item = helpers.link(aggregation, alice.token, "ins_109509")
    for call in (aggregation.refresh_item, aggregation.delete_item):
        with pytest.raises(NotFound):
            call(mallory.token, {"item_id": item["item_id"]})
    with pytest.raises(NotFound):
        aggregation.create_link_token(mallory.token, {"item_id": item["item_id"]})
    assert aggregation.list_items(mallory.token) == []
    assert aggregation.list_accounts(mallory.token) == []
    # the owner still has it, and can delete it (Plaid /item/remove, token gone)
    assert aggregation.delete_item(alice.token, {"item_id": item["item_id"]})["deleted"]
    assert aggregation.list_items(alice.token) == []
