"""The whole stack as real processes: six ``nameko run`` services, gunicorn, and the bundled
Plaid sandbox (the aggregation service points at it with ``NESTEGG_PLAID_HOST``; new Items
send their webhooks to the gateway's public ``/webhooks/plaid``)."""

import dataclasses
import socket
import sys
import time
import uuid

import pytest
import requests


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_http(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return True
        except requests.ConnectionError:
            time.sleep(0.2)
    return False


@pytest.fixture(scope="session")
def stack(provisioned):
    from common.stack import Stack

    settings = dataclasses.replace(provisioned, gateway_port=_free_port(), rpc_timeout=2.0)
    plaid_port = _free_port()
    plaid_url = f"http://127.0.0.1:{plaid_port}"
    gateway_url = f"http://{settings.gateway_host}:{settings.gateway_port}"
    running = Stack(
        settings,
        env={
            "NESTEGG_GATEWAY_PORT": str(settings.gateway_port),
            "NESTEGG_RPC_TIMEOUT": "2",
            "NESTEGG_GATEWAY_READY_TIMEOUT": "2",
            "NESTEGG_OUTBOX_INTERVAL": "0.5",
            "NESTEGG_PLAID_HOST": plaid_url,
            "NESTEGG_PLAID_WEBHOOK": f"{gateway_url}/webhooks/plaid",
            "NESTEGG_SYNC_POLL": "0.5",
        },
    )
    running.plaid_url = plaid_url
    running.plaid_seed = f"e2e-{uuid.uuid4().hex[:8]}"
    try:
        running.start_process(
            "plaid-sandbox",
            [
                sys.executable,
                "-m",
                "aggregation.sandbox",
                "--port",
                str(plaid_port),
                "--seed",
                running.plaid_seed,
            ],
        )
        assert _wait_for_http(plaid_url, 30), "the Plaid sandbox did not start"
        running.start_all()
        running.wait_ready(timeout=120)
        yield running
    finally:
        running.stop_all()
