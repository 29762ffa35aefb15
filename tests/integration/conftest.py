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
