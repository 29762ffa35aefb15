"""Integration fixtures: the test deployment (``nestegg_test_*`` databases, ``nestegg-test``
vhost) provisioned for real on the local PostgreSQL and RabbitMQ, and nameko containers."""

import contextlib

import pytest


@pytest.fixture(scope="session")
def admin_amqp_uri(provisioned):
    """The broker admin on the test vhost (the harness, not a service)."""
    from urllib.parse import quote

    base = provisioned.amqp_admin_uri.rstrip("/")
    return f"{base}/{quote(provisioned.amqp_vhost, safe='')}"


@pytest.fixture
def run_container(provisioned):
    """Start a nameko service class as the named service's broker user; stopped at teardown."""
    from nameko.containers import ServiceContainer

    containers = []

    def start(cls, *, as_service: str, **extra):
        config = {
            "AMQP_URI": provisioned.amqp_uri(as_service),
            "max_workers": 4,
            "DECLARE_EVENT_EXCHANGES": False,
            "AUTO_DELETE_EVENT_EXCHANGES": False,
            "HEARTBEAT": 20,
            **extra,
        }
        container = ServiceContainer(cls, config)
        container.start()
        containers.append(container)
        return container

    yield start
    for container in reversed(containers):
        with contextlib.suppress(Exception):
            container.stop()


@pytest.fixture(scope="session")
def service_db(provisioned):
    """``service_db("transactions")``: a session factory on that service's database, connected
    as the service's own role (one engine per service for the whole session)."""
    from common.db import make_engine, make_session_factory

    factories = {}

    def factory(service: str):
        if service not in factories:
            engine = make_engine(provisioned.database_url(service), pool_size=3)
            factories[service] = make_session_factory(engine)
        return factories[service]

    yield factory
    for made in factories.values():
        made.kw["bind"].dispose()


@pytest.fixture(scope="session")
def emit_event(provisioned, service_db):
    """``emit_event(source, event_type, data, user_id)``: write the event to ``source``'s outbox
    and relay it, as that service would; returns the event id."""
    import importlib

    from common.db import transaction
    from common.outbox import OutboxRelay, kombu_publisher, record

    publishers = {}

    def emit(source: str, event_type: str, data: dict, user_id: str) -> str:
        outbox = importlib.import_module(f"{source}.models").OutboxEvent
        factory = service_db(source)
        with transaction(factory) as session:
            event_id = record(
                session, outbox, source=source, event_type=event_type, data=data, user_id=user_id
            )
        if source not in publishers:
            publishers[source] = kombu_publisher(provisioned.amqp_uri(source))
        OutboxRelay(factory, outbox, publishers[source]).relay_pending()
        return event_id

    return emit
