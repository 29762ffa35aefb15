"""The outbox hands events to other services exactly once, even when relayed twice."""

import functools
import urllib.parse

import pytest
import requests
from _support.waiting import wait_until
from kombu import Connection
from sqlalchemy import text, update

from common import broker, nameko_events
from common.db import make_engine, make_session_factory, transaction
from common.logging import request_id_var
from common.nameko_deps import Database, RequestContext
from common.nameko_events import handles
from common.outbox import OutboxRelay, Unroutable, kombu_publisher, record

pytestmark = pytest.mark.integration


wait_until = functools.partial(wait_until, timeout=20.0, interval=0.05)


@pytest.fixture
def users_db(provisioned):
    engine = make_engine(provisioned.database_url("users"), pool_size=2)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def notifier_db(provisioned):
    engine = make_engine(provisioned.database_url("notifier"), pool_size=2)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS it_effects (event_id text, request_id text)"))
        conn.execute(text("TRUNCATE it_effects"))
    yield engine
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS it_effects"))
    engine.dispose()


def _users_models():
    from users.models import OutboxEvent

    return OutboxEvent


class NotifierProbe:
    """Stands in for the notifier's handler: records one effect row per event."""

    name = "notifier"
    db = Database("notifier")
    context = RequestContext()

    @property
    def inbox_model(self):
        from notifier.models import ProcessedEvent

        return ProcessedEvent

    @handles("users", "user_registered")
    def on_user_registered(self, session, event):
        session.execute(
            text("INSERT INTO it_effects (event_id, request_id) VALUES (:e, :r)"),
            {"e": event["event_id"], "r": request_id_var.get()},
        )


class FailingRecommender:
    name = "recommender"
    db = Database("recommender")

    @property
    def inbox_model(self):
        from recommender.models import ProcessedEvent

        return ProcessedEvent

    @handles("users", "user_deleted")
    def on_user_deleted(self, session, event):
        raise RuntimeError("poison")


def test_event_reaches_the_handler_exactly_once_when_relayed_twice(
    provisioned, run_container, users_db, notifier_db, monkeypatch
):
    claims = []
    real_claim = nameko_events.claim
    monkeypatch.setattr(
        nameko_events, "claim", lambda *a, **k: claims.append(k["event_id"]) or real_claim(*a, **k)
    )
    run_container(NotifierProbe, as_service="notifier")
    outbox = _users_models()
    token = request_id_var.set("req-outbox-1")
    try:
        with transaction(users_db) as session:
            event_id = record(
                session,
                outbox,
                source="users",
                event_type="user_registered",
                data={"user_id": "u-1"},
            )
    finally:
        request_id_var.reset(token)
    relay = OutboxRelay(users_db, outbox, kombu_publisher(provisioned.amqp_uri("users")))
    assert relay.relay_pending() >= 1
    # simulate a relay that crashed after publishing but before recording it
    with transaction(users_db) as session:
        session.execute(update(outbox).where(outbox.id == event_id).values(published_at=None))
    assert relay.relay_pending() >= 1

    def effects():
        with notifier_db.connect() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    text("SELECT event_id, request_id FROM it_effects WHERE event_id = :e"),
                    {"e": event_id},
                ).all()
            ]

    assert wait_until(lambda: effects() == [(event_id, "req-outbox-1")]), (claims, effects())
    assert wait_until(lambda: claims.count(event_id) == 2), claims  # the repeat was seen...
    assert effects() == [(event_id, "req-outbox-1")]  # ...and had no second effect


def test_event_written_while_nobody_listens_is_kept_and_marked(provisioned, users_db):
    """No queue is bound for this routing key, so the broker returns it (mandatory)."""
    outbox = _users_models()
    event_type = "it_nobody_listens"
    event_id = str(__import__("uuid").uuid4())
    with transaction(users_db) as session:  # bypasses record()'s known-type check on purpose
        session.add(
            outbox(
                id=event_id,
                source="users",
                event_type=event_type,
                attempts=0,
                payload={"event_id": event_id},
            )
        )
    publish = kombu_publisher(provisioned.amqp_uri("users"))
    with pytest.raises(Unroutable):
        publish("users", event_type, {"event_id": event_id})
    relay = OutboxRelay(users_db, outbox, publish)
    relay.relay_pending()
    with users_db() as session:
        row = session.get(outbox, event_id)
        assert row.published_at is None
        assert row.attempts == 1 and row.last_error.startswith("unroutable")
        row.attempts = 10  # next attempt due 100 s after creation
        session.commit()
    relay.relay_pending()  # backoff: not retried on this sweep
    with users_db() as session:
        row = session.get(outbox, event_id)
        assert row.attempts == 10
        session.delete(row)
        session.commit()


def test_event_for_an_unknown_type_is_refused_before_it_is_written(users_db):
    with pytest.raises(ValueError), transaction(users_db) as session:
        record(session, _users_models(), source="users", event_type="made_up", data={})


def _dead_letter_count(provisioned) -> int:
    base = provisioned.amqp_admin_uri.rstrip("/")
    uri = f"{base}/{urllib.parse.quote(provisioned.amqp_vhost, safe='')}".replace("pyamqp", "amqp")
    with Connection(uri) as conn:
        channel = conn.channel()
        _, count, _ = channel.queue_declare(broker.DEAD_LETTER_QUEUE, passive=True)
        channel.close()
    return count


def test_a_poison_event_is_dead_lettered_not_lost(
    provisioned, run_container, users_db, monkeypatch
):
    monkeypatch.setattr(nameko_events.DeadLetteringEventHandler, "retry_pause", 0.05)
    before = _dead_letter_count(provisioned)
    run_container(FailingRecommender, as_service="recommender")
    outbox = _users_models()
    with transaction(users_db) as session:
        record(session, outbox, source="users", event_type="user_deleted", data={"user_id": "u-3"})
    OutboxRelay(users_db, outbox, kombu_publisher(provisioned.amqp_uri("users"))).relay_pending()
    assert wait_until(lambda: _dead_letter_count(provisioned) >= before + 1)


def test_dead_letter_policy_is_applied(provisioned):
    from common.provision import rabbit_api

    base, auth = rabbit_api(provisioned)
    vhost = urllib.parse.quote(provisioned.amqp_vhost, safe="")
    policies = requests.get(f"{base}/api/policies/{vhost}", auth=auth, timeout=5).json()
    assert any(
        p["pattern"] == "^evt-" and p["definition"]["dead-letter-exchange"] == broker.DLX
        for p in policies
    )


def test_published_events_are_purged_after_the_retention_pending_ones_never(users_db):
    """Published payloads (which can carry personal data) do not stay at rest."""
    import datetime as dt
    import uuid

    from common.outbox import purge_published

    outbox = _users_models()
    now = dt.datetime.now(dt.UTC)
    ids = {name: str(uuid.uuid4()) for name in ("old", "recent", "pending_old")}
    with transaction(users_db) as session:
        for name, event_id in ids.items():
            session.add(
                outbox(
                    id=event_id,
                    source="users",
                    event_type="it_purge",
                    attempts=0,
                    payload={"event_id": event_id},
                    created_at=now - dt.timedelta(hours=3),
                    published_at={
                        "old": now - dt.timedelta(hours=2),
                        "recent": now - dt.timedelta(seconds=30),
                        "pending_old": None,
                    }[name],
                )
            )
    purge_published(users_db, outbox, older_than_seconds=3600)
    with users_db() as session:
        left = {row.id for row in session.query(outbox).filter(outbox.id.in_(ids.values()))}
        assert left == {ids["recent"], ids["pending_old"]}
        for event_id in left:
            session.delete(session.get(outbox, event_id))
        session.commit()
