"""Entry life cycle (pending -> posted -> modified/removed) and sync paging over the log."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from aggregation.sandbox.changelog import Cursor, CursorCodec, diff_events, page
from aggregation.sandbox.errors import PlaidApiError
from aggregation.sandbox.timeline import Entry, entry_views, transactions_at

D = date(2025, 6, 1)


def card_entry(seq=0, **changes):
    fields = dict(
        seq=seq,
        account_id="acc",
        amount=Decimal("54.00"),
        post_date=date(2025, 6, 3),
        name="TST* LUCKY DUMPLING",
        auth_date=D,
        pending_amount=Decimal("45.00"),
    )
    fields.update(changes)
    return Entry(**fields)


def test_pending_then_posted_under_a_new_id_with_the_tip():
    entry = card_entry()
    assert entry_views(entry, "k", date(2025, 5, 31)) == []
    (pending,) = entry_views(entry, "k", D)
    assert pending["pending"] is True and pending["amount"] == Decimal("45.00")
    (posted,) = entry_views(entry, "k", date(2025, 6, 3))
    assert posted["pending"] is False and posted["amount"] == Decimal("54.00")
    assert posted["transaction_id"] != pending["transaction_id"]
    assert posted["pending_transaction_id"] == pending["transaction_id"]


def test_modified_and_removed_and_expired():
    modified = card_entry(modify_on=date(2025, 6, 5), modification={"amount": Decimal("56.00")})
    assert entry_views(modified, "k", date(2025, 6, 4))[0]["amount"] == Decimal("54.00")
    assert entry_views(modified, "k", date(2025, 6, 5))[0]["amount"] == Decimal("56.00")
    removed = card_entry(remove_on=date(2025, 6, 6))
    assert entry_views(removed, "k", date(2025, 6, 6)) == []
    hold = Entry(
        seq=1,
        account_id="acc",
        amount=Decimal("1.00"),
        post_date=None,
        name="SHELL",
        auth_date=D,
        expire_on=date(2025, 6, 4),
    )
    assert entry_views(hold, "k", date(2025, 6, 3))[0]["pending"] is True
    assert entry_views(hold, "k", date(2025, 6, 4)) == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(post_date=None), "never posts"),
        (dict(auth_date=date(2025, 6, 9)), "authorisation cannot come after"),
        (dict(modification={"account_id": "x"}), "cannot modify"),
    ],
)
def test_invalid_entries_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        card_entry(**kwargs)


def test_diff_gives_added_modified_removed():
    entries = [card_entry(0), card_entry(1, modify_on=date(2025, 6, 4), modification={"name": "X"})]
    before = transactions_at(entries, "k", date(2025, 6, 2))
    after = transactions_at(entries, "k", date(2025, 6, 4))
    kinds = sorted(kind for kind, _ in diff_events(before, after))
    assert kinds == ["added", "added", "removed", "removed"]
    assert diff_events(after, after) == []
    assert [k for k, _ in diff_events(transactions_at(entries, "k", date(2025, 6, 3)), after)] == [
        "modified"
    ]


def log_of(n):
    return [
        ("added", {"transaction_id": f"t{i}", "account_id": "a" if i % 2 else "b", "date": D})
        for i in range(n)
    ]


def test_paging_and_has_more():
    log = log_of(250)
    first = page(log, None, 100, None, False)
    assert len(first.added) == 100 and first.has_more
    second = page(log, first.next_cursor, 100, None, False)
    third = page(log, second.next_cursor, 100, None, False)
    assert len(third.added) == 50 and not third.has_more
    assert third.next_cursor == Cursor(250, 250)
    ids = [t["transaction_id"] for p in (first, second, third) for t in p.added]
    assert ids == [f"t{i}" for i in range(250)]


def test_account_filter_counts_only_matching_events():
    result = page(log_of(10), None, 3, "a", False)
    assert [t["transaction_id"] for t in result.added] == ["t1", "t3", "t5"]


def test_mutation_during_pagination():
    log = log_of(150)
    first = page(log, None, 100, None, False)
    log.append(("removed", log[0][1]))
    with pytest.raises(PlaidApiError) as excinfo:
        page(log, first.next_cursor, 100, None, False)
    assert excinfo.value.error_code == "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION"
    with pytest.raises(PlaidApiError):
        page(log_of(150), first.next_cursor, 100, None, True)  # forced by the admin hook
    restarted = page(log, None, 500, None, False)  # from the run's first cursor
    assert not restarted.has_more and "t0" not in {t["transaction_id"] for t in restarted.added}


def test_events_on_one_transaction_collapse_within_a_page():
    view = {"transaction_id": "x", "account_id": "a", "date": D}
    changed = dict(view, name="new")
    log = [("added", view), ("modified", changed)]
    result = page(log, None, 10, None, False)
    assert result.added == [changed] and result.modified == []


@pytest.mark.parametrize("count", [0, 501])
def test_count_bounds(count):
    with pytest.raises(PlaidApiError) as excinfo:
        page(log_of(1), None, count, None, False)
    assert excinfo.value.error_code == "INVALID_FIELD"


def test_cursors_are_tamper_evident_and_item_bound():
    codec = CursorCodec(b"k" * 32)
    text = codec.encode("item1", Cursor(5, 10))
    assert len(text) <= 256 and codec.decode("item1", text) == Cursor(5, 10)
    for bad_item, bad_text in (("item2", text), ("item1", text[:-2] + "xx"), ("item1", "???")):
        with pytest.raises(PlaidApiError) as excinfo:
            codec.decode(bad_item, bad_text)
        assert excinfo.value.error_code == "INVALID_FIELD"
