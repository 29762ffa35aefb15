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

from common.erasure import admit, erase_user

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
