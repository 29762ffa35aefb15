"""Rule writes under concurrency, against the real transactions database: two retries of one
create with the same Idempotency-Key give one rule (no unique-key error), and applying a rule
never overwrites a category the user set by hand after the plan was made."""

import datetime as dt
import threading
import time
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select

from transactions import rule_store
from transactions.models import CategorizationRule, Transaction
from transactions.store import FieldKeys, write_details

pytestmark = pytest.mark.integration
COFFEE = "FOOD_AND_DRINK_COFFEE"


@pytest.fixture
def factory(service_db):
    return service_db("transactions")


def test_two_retries_of_one_idempotent_create_give_one_rule(factory):
    keys, user_id = FieldKeys(), f"race-{uuid.uuid4().hex[:8]}"
    body = {"category": COFFEE, "description_contains": "brewlab"}
    first_session = factory()
    first_session.begin()
    first = rule_store.create(keys, first_session, user_id, body, "retry-key-0001")
    second, errors = {}, []

    def retry():
        try:
            with factory() as session, session.begin():
                second.update(rule_store.create(keys, session, user_id, body, "retry-key-0001"))
        except Exception as exc:  # what the client would have seen as a 500
            errors.append(exc)

    thread = threading.Thread(target=retry)
    thread.start()
    time.sleep(0.5)  # the retry is waiting for the first creation's lock
    first_session.commit()
    first_session.close()
    thread.join(10)
    assert errors == [] and second["id"] == first["id"]
    with factory() as session:
        rules = session.scalars(
            select(CategorizationRule).where(CategorizationRule.user_id == user_id)
        ).all()
    assert len(rules) == 1


def test_apply_keeps_a_category_set_by_hand_since_the_plan(factory, monkeypatch):
    keys, user_id = FieldKeys(), f"apply-{uuid.uuid4().hex[:8]}"
    with factory() as session, session.begin():
        rule = rule_store.create(
            keys, session, user_id, {"category": COFFEE, "description_contains": "brewlab"}
        )
        rows = {}
        for name, source in (("model", "model"), ("hand", "user")):
            row = Transaction(
                id=str(uuid.uuid4()), user_id=user_id, source="manual", account_id="acc",
                amount=Decimal("-4.50"), iso_currency_code="USD", date=dt.date(2026, 11, 1),
                payment_channel="in store", category_primary="GENERAL_MERCHANDISE",
                category_detailed="GENERAL_MERCHANDISE_OTHER_GENERAL_MERCHANDISE",
                category_source=source, tags=[],
            )  # fmt: skip
            write_details(keys, row, {"original_description": "BREWLAB 12"}, None)
            session.add(row)
            rows[name] = row.id
    real_plan = rule_store.plan

    def stale_plan(*args, **kwargs):  # planned while "hand" was still the model's category
        result = real_plan(*args, **kwargs)
        monkeypatch.setattr(result, "update_ids", lambda: [rows["model"], rows["hand"]])
        return result

    monkeypatch.setattr(rule_store, "plan", stale_plan)
    with factory() as session, session.begin():
        rule_store.apply(keys, session, user_id, rule["id"], include_manual=False)
    with factory() as session:
        got = {
            t.id: (t.category_detailed, t.category_source)
            for t in session.scalars(select(Transaction).where(Transaction.user_id == user_id))
        }
    assert got[rows["model"]] == (COFFEE, "rule")
    assert got[rows["hand"]] == ("GENERAL_MERCHANDISE_OTHER_GENERAL_MERCHANDISE", "user")
