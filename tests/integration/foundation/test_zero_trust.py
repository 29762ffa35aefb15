"""Zero Trust isolation between services: databases and broker queues."""

import itertools
import urllib.parse

import psycopg2
import pytest
from kombu import Connection

from common.config import SERVICES
from common.credentials import secret_for

pytestmark = pytest.mark.integration


def _connect(settings, role_of: str, db_of: str):
    role = settings.database_role(role_of)
    return psycopg2.connect(
        host=settings.pg_host,
        port=settings.pg_port,
        dbname=settings.database_name(db_of),
        user=role,
        password=secret_for(f"db:{role}"),
        connect_timeout=5,
    )


@pytest.mark.parametrize("service", SERVICES)
def test_each_role_reads_its_own_tables(provisioned, service):
    conn = _connect(provisioned, service, service)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM outbox")
            assert cur.fetchone()[0] >= 0
            cur.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'outbox'")
            assert cur.fetchone()[0] == provisioned.database_role(service)
    finally:
        conn.close()


@pytest.mark.parametrize("reader,owner", list(itertools.permutations(SERVICES, 2)))
def test_no_role_can_read_another_services_tables(provisioned, reader, owner):
    with pytest.raises(psycopg2.OperationalError) as info:
        conn = _connect(provisioned, reader, owner)
        try:  # pragma: no cover - only reached if isolation is broken
            with conn.cursor() as cur:
                cur.execute("SELECT * FROM outbox")
        finally:
            conn.close()
    assert "permission denied for database" in str(info.value)


def test_service_roles_are_not_privileged(provisioned):
    conn = _connect(provisioned, "users", "users")
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user"
            )
            assert cur.fetchone() == (False, False, False)
            other = provisioned.database_role("portfolio")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(f'SET ROLE "{other}"')
    finally:
        conn.close()


def _service_connection(settings, service):
    return Connection(settings.amqp_uri(service).replace("pyamqp://", "amqp://"), connect_timeout=5)


@pytest.fixture
def rpc_queues(admin_amqp_uri):
    """Make sure every RPC queue exists (as the broker admin) so refusals are about rights."""
    with Connection(admin_amqp_uri.replace("pyamqp://", "amqp://")) as conn:
        channel = conn.channel()
        for service in SERVICES:
            channel.queue_declare(f"rpc-{service}", durable=True, auto_delete=False)
        channel.close()


@pytest.mark.parametrize(
    "service,other",
    [("users", "portfolio"), ("notifier", "users"), ("aggregation", "transactions")],
)
def test_a_service_cannot_consume_another_services_rpc_queue(
    provisioned, rpc_queues, service, other
):
    from amqp.exceptions import AccessRefused

    with _service_connection(provisioned, service) as conn:
        channel = conn.channel()
        with pytest.raises(AccessRefused):
            channel.basic_consume(f"rpc-{other}", callback=lambda m: None)


def test_a_service_can_consume_its_own_rpc_queue(provisioned, rpc_queues):
    with _service_connection(provisioned, "users") as conn:
        channel = conn.channel()
        tag = channel.basic_consume("rpc-users", callback=lambda m: None)
        channel.basic_cancel(tag)
        channel.close()


def test_a_service_cannot_publish_another_services_events(provisioned):
    from amqp.exceptions import AccessRefused

    with _service_connection(provisioned, "notifier") as conn:
        from amqp import Message

        channel = conn.channel()
        with pytest.raises(AccessRefused):
            channel.basic_publish_confirm(
                Message(b"{}"), exchange="users.events", routing_key="user_deleted"
            )


def test_gateway_user_cannot_consume_service_queues(provisioned, rpc_queues):
    from amqp.exceptions import AccessRefused

    user = provisioned.broker_user("gateway")
    uri = (
        f"amqp://{user}:{urllib.parse.quote(secret_for(f'amqp:{user}'), safe='')}"
        f"@{provisioned.amqp_host}:{provisioned.amqp_port}/"
        f"{urllib.parse.quote(provisioned.amqp_vhost, safe='')}"
    )
    with Connection(uri) as conn:
        channel = conn.channel()
        with pytest.raises(AccessRefused):
            channel.basic_consume("rpc-users", callback=lambda m: None)
