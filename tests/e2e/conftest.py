"""The whole stack as real processes: six ``nameko run`` services and gunicorn."""

import dataclasses
import socket

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def stack(provisioned):
    from common.stack import Stack

    settings = dataclasses.replace(provisioned, gateway_port=_free_port(), rpc_timeout=2.0)
    running = Stack(settings, env={
        "NESTEGG_GATEWAY_PORT": str(settings.gateway_port),
        "NESTEGG_RPC_TIMEOUT": "2",
        "NESTEGG_GATEWAY_READY_TIMEOUT": "2",
        "NESTEGG_OUTBOX_INTERVAL": "0.5",
    })
    try:
        running.start_all()
        running.wait_ready(timeout=120)
        yield running
    finally:
        running.stop_all()
