"""An event handled at the same moment as ``user_deleted`` cannot leave data behind: writers
hold the user's advisory lock shared (``common.erasure.admit``), the erasure takes it
exclusively, so it waits for the writer and then deletes what the writer committed."""

import datetime as dt
import threading
import time
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select

from common.erasure import admit, erase_user, forget_item, is_item_removed

pytestmark = pytest.mark.integration


@pytest.fixture
def factory(service_db):
    return service_db("transactions")


def a_row(user_id):
    from transactions.models import Transaction

    return Transaction(
        id=str(uuid.uuid4()), user_id=user_id, source="manual", account_id="acc",
        amount=Decimal("-1.00"), iso_currency_code="USD", date=dt.date(2026, 1, 1),
        payment_channel="other", category_source="none", details="x", search_tokens=[], tags=[],
    )  # fmt: skip


def admitted_writer(factory, user_id, **row_fields):
    """An open transaction that was admitted for ``user_id`` and wrote one row (not committed)."""
    from transactions.models import ErasedUser

    writer = factory()
    writer.begin()
    assert admit(writer, ErasedUser, user_id)
    row = a_row(user_id)
    for name, value in row_fields.items():
        setattr(row, name, value)
    writer.add(row)
    writer.flush()
    return writer


def waits_for_the_writer(factory, writer, action):
    """Run ``action(session)`` in its own transaction on another thread; it must block until
    the writer commits, then finish."""
    done = threading.Event()

    def run():
        with factory() as session, session.begin():
            action(session)
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.5)
    blocked = not done.is_set()
    writer.commit()
    writer.close()
    thread.join(10)
    return blocked and done.is_set()


def rows_of(factory, user_id):
    from transactions.models import Transaction

    with factory() as session:
        return session.scalars(select(Transaction).where(Transaction.user_id == user_id)).all()


def test_erasure_waits_for_an_admitted_writer_and_deletes_its_rows(factory):
    from transactions.models import Base, ErasedUser

    user_id = f"race-{uuid.uuid4().hex[:8]}"
    writer = admitted_writer(factory, user_id)
    assert waits_for_the_writer(
        factory, writer, lambda session: erase_user(session, Base, ErasedUser, user_id)
    ), "the erasure must wait for the admitted writer"
    assert rows_of(factory, user_id) == []
    with factory() as session:
        assert not admit(session, ErasedUser, user_id)  # and later writers are refused
        session.rollback()


def test_disconnecting_a_bank_waits_for_an_admitted_page_of_it_and_deletes_its_rows(factory):
    """The same guarantee for ``item_removed``: a page of the item admitted at the same moment
    commits first and its rows are then dropped; a page admitted later finds the tombstone."""
    from transactions import user_data
    from transactions.models import ErasedUser, RemovedItem

    user_id = f"race-{uuid.uuid4().hex[:8]}"
    writer = admitted_writer(factory, user_id, item_id="item-1", account_id="acc-1")
    assert not is_item_removed(writer, RemovedItem, user_id, "item-1")

    def disconnect(session):
        forget_item(session, RemovedItem, user_id, "item-1")
        user_data.remove_accounts(session, user_id, ["acc-1"])

    assert waits_for_the_writer(factory, writer, disconnect), (
        "the disconnect must wait for the admitted page"
    )
    assert rows_of(factory, user_id) == []
    with factory() as session:
        assert admit(session, ErasedUser, user_id)  # the user is not erased ...
        assert is_item_removed(session, RemovedItem, user_id, "item-1")  # ... the item is
        session.rollback()
