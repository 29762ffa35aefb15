"""/transactions/sync cursor semantics through plaid-python, plus the admin hooks that make
new data arrive (advance) and force a mutation during pagination."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from plaid.exceptions import ApiException
from plaid.model.accounts_get_request import AccountsGetRequest
from plaid.model.transactions_sync_request import TransactionsSyncRequest
from plaid.model.transactions_sync_request_options import TransactionsSyncRequestOptions


def sync_all(client, access_token, cursor="", count=500):
    """Pull every page; returns ({id: txn}, removed ids, final cursor, pages)."""
    known, removed, pages = {}, set(), 0
    while True:
        page = client.transactions_sync(
            TransactionsSyncRequest(
                access_token=access_token,
                cursor=cursor,
                count=count,
                options=TransactionsSyncRequestOptions(include_original_description=True),
            )
        )
        pages += 1
        for txn in page.added + page.modified:
            known[txn.transaction_id] = txn
        for gone in page.removed:
            removed.add(gone.transaction_id)
            known.pop(gone.transaction_id, None)
        cursor = page.next_cursor
        if not page.has_more:
            return known, removed, cursor, pages


@pytest.fixture(scope="module")
def synced(client, linker, receiver):
    _, item = linker(institution_id="ins_109510", webhook=receiver.url)
    known, _, cursor, pages = sync_all(client, item.access_token)
    return item, known, cursor, pages


def test_full_history_pages_through_thousands_of_transactions(client, synced):
    item, known, cursor, pages = synced
    assert len(known) > 2000 and pages >= 5
    dates = sorted(t.date for t in known.values())
    assert (dates[-1] - dates[0]).days >= 700  # 24 months
    names = [t.name for t in known.values()]
    assert any("XXXX" in n or "C#" in n for n in names)  # card masks in debit lines
    assert all(t.original_description == t.name for t in known.values())
    again = client.transactions_sync(
        TransactionsSyncRequest(access_token=item.access_token, cursor=cursor)
    )
    assert again.added == [] and again.has_more is False and again.next_cursor == cursor


def test_balances_equal_opening_plus_posted_transactions(client, synced, server):
    item, known, _, _ = synced
    accounts = client.accounts_get(AccountsGetRequest(access_token=item.access_token)).accounts
    state = next(s for s in server.sandbox._items.values() if s.item_id == item.item_id)
    for account in accounts:
        if str(account.type) == "investment":
            continue
        spec = state.account(account.account_id)
        posted = sum(
            Decimal(str(t.amount))
            for t in known.values()
            if t.account_id == account.account_id and not t.pending
        )
        opening = state.ledger.opening[spec.role]
        expected = opening + posted if spec.owes else opening - posted
        assert Decimal(str(account.balances.current)) == expected, spec.role


def test_advance_posts_pending_modifies_and_removes(client, synced, admin, receiver):
    item, known, cursor, _ = synced
    pending_before = {tid for tid, t in known.items() if t.pending}
    assert pending_before, "the anchor day has pending card transactions"
    status, result = admin("/sandbox/admin/advance", access_token=item.access_token, days=10)
    assert status == 200 and result["added"] > 0 and result["removed"] > 0
    assert result["modified"] > 0
    receiver.wait_for(
        lambda p: (
            p["webhook_code"] == "SYNC_UPDATES_AVAILABLE"
            and p["item_id"] == item.item_id
            and p["historical_update_complete"]
        )
    )
    added, modified, removed = [], [], []
    while True:
        page = client.transactions_sync(
            TransactionsSyncRequest(access_token=item.access_token, cursor=cursor, count=100)
        )
        added += page.added
        modified += page.modified
        removed += [r.transaction_id for r in page.removed]
        cursor = page.next_cursor
        if not page.has_more:
            break
    assert (len(added), len(modified), len(removed)) == (
        result["added"],
        result["modified"],
        result["removed"],
    )
    posted_from_pending = [t for t in added if t.pending_transaction_id in pending_before]
    assert posted_from_pending, "pending transactions post under new ids"
    for txn in posted_from_pending:
        assert txn.transaction_id != txn.pending_transaction_id and txn.pending is False
        assert txn.pending_transaction_id in removed
    assert modified and all(
        t.transaction_id in known or t.transaction_id in {a.transaction_id for a in added}
        for t in modified
    )


def test_mutation_during_pagination_then_restart(client, linker, admin):
    _, item = linker(institution_id="ins_109511")
    first = client.transactions_sync(
        TransactionsSyncRequest(access_token=item.access_token, count=100)
    )
    assert first.has_more
    admin("/sandbox/admin/transactions/fail_next_sync_page", access_token=item.access_token)
    with pytest.raises(ApiException) as excinfo:
        client.transactions_sync(
            TransactionsSyncRequest(
                access_token=item.access_token, cursor=first.next_cursor, count=100
            )
        )
    body = json.loads(excinfo.value.body)
    assert (excinfo.value.status, body["error_type"], body["error_code"]) == (
        400,
        "TRANSACTIONS_ERROR",
        "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION",
    )
    # a real change mid-run has the same effect
    second = client.transactions_sync(
        TransactionsSyncRequest(access_token=item.access_token, cursor=first.next_cursor, count=100)
    )
    admin("/sandbox/admin/advance", access_token=item.access_token, days=3)
    with pytest.raises(ApiException):
        client.transactions_sync(
            TransactionsSyncRequest(
                access_token=item.access_token, cursor=second.next_cursor, count=100
            )
        )
    # restarting from the beginning of the run (cursor "") succeeds and includes the new days
    known, _, _, _ = sync_all(client, item.access_token)
    assert max(t.date for t in known.values()) > first.added[0].date


def test_now_cursor_fast_forwards(client, linker):
    _, item = linker(institution_id="ins_109509", products=("transactions",))
    page = client.transactions_sync(
        TransactionsSyncRequest(access_token=item.access_token, cursor="now")
    )
    assert page.added == [] and page.has_more is False and page.next_cursor


def test_same_seed_same_data(client, linker, server, api_for):
    from plaid.model.institutions_get_by_id_request import InstitutionsGetByIdRequest  # noqa

    from aggregation.sandbox import SandboxServer

    def first_page(api, access_token):
        page = api.transactions_sync(TransactionsSyncRequest(access_token=access_token, count=200))
        return [(t.transaction_id, t.name, t.amount, t.date) for t in page.added]

    def fresh_item(srv):
        api = api_for(srv.base_url, srv.client_id, srv.secret)
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
        exchanged = api.item_public_token_exchange(
            ItemPublicTokenExchangeRequest(public_token=created.public_token)
        )
        return api, exchanged

    anchor = server.sandbox.anchor
    with (
        SandboxServer(seed="twin", anchor=anchor) as one,
        SandboxServer(seed="twin", anchor=anchor) as two,
        SandboxServer(seed="other", anchor=anchor) as three,
    ):
        (api1, item1), (api2, item2), (api3, item3) = map(fresh_item, (one, two, three))
        assert item1.access_token == item2.access_token
        assert first_page(api1, item1.access_token) == first_page(api2, item2.access_token)
        assert first_page(api1, item1.access_token) != first_page(api3, item3.access_token)
