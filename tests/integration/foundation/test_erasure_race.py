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


def test_erasure_waits_for_an_admitted_writer_and_deletes_its_rows(factory):
    from transactions.models import Base, ErasedUser, Transaction

    user_id = f"race-{uuid.uuid4().hex[:8]}"
    writer = factory()
    writer.begin()
    assert admit(writer, ErasedUser, user_id)
    writer.add(a_row(user_id))
    writer.flush()

    done = threading.Event()

    def erase():
        with factory() as session, session.begin():
            erase_user(session, Base, ErasedUser, user_id)
        done.set()

    eraser = threading.Thread(target=erase)
    eraser.start()
    time.sleep(0.5)
    assert not done.is_set(), "the erasure must wait for the admitted writer"
    writer.commit()
    writer.close()
    eraser.join(10)
    assert done.is_set()
    with factory() as session:
        rows = session.scalars(select(Transaction).where(Transaction.user_id == user_id)).all()
        assert rows == []
        assert not admit(session, ErasedUser, user_id)  # and later writers are refused
        session.rollback()


def test_disconnecting_a_bank_waits_for_an_admitted_page_of_it_and_deletes_its_rows(factory):
    """The same guarantee for ``item_removed``: a page of the item admitted at the same moment
    commits first and its rows are then dropped; a page admitted later finds the tombstone."""
    from transactions import user_data
    from transactions.models import ErasedUser, RemovedItem, Transaction

    user_id = f"race-{uuid.uuid4().hex[:8]}"
    writer = factory()
    writer.begin()
    assert admit(writer, ErasedUser, user_id)
    assert not is_item_removed(writer, RemovedItem, user_id, "item-1")
    row = a_row(user_id)
    row.item_id, row.account_id = "item-1", "acc-1"
    writer.add(row)
    writer.flush()

    done = threading.Event()

    def disconnect():
        with factory() as session, session.begin():
            forget_item(session, RemovedItem, user_id, "item-1")
            user_data.remove_accounts(session, user_id, ["acc-1"])
        done.set()

    remover = threading.Thread(target=disconnect)
    remover.start()
    time.sleep(0.5)
    assert not done.is_set(), "the disconnect must wait for the admitted page"
    writer.commit()
    writer.close()
    remover.join(10)
    assert done.is_set()
    with factory() as session:
        rows = session.scalars(select(Transaction).where(Transaction.user_id == user_id)).all()
        assert rows == []
        assert admit(session, ErasedUser, user_id)  # the user is not erased ...
        assert is_item_removed(session, RemovedItem, user_id, "item-1")  # ... the item is
        session.rollback()
