"""The whole stack as real processes: six ``nameko run`` services, gunicorn, and the bundled
Plaid sandbox (the aggregation service points at it with ``NESTEGG_PLAID_HOST``; new Items
send their webhooks to the gateway's public ``/webhooks/plaid``)."""

import dataclasses
import socket
import sys
import time
import uuid
from pathlib import Path

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


E2E_ENV = {
    # the stack gets a deployment of its own: its services must not answer the integration
    # tests' RPCs, nor its gateway overwrite their token verification key
    "NESTEGG_DB_PREFIX": "nestegg_e2e_",
    "NESTEGG_AMQP_VHOST": "nestegg-e2e",
}


@pytest.fixture(scope="package")
def e2e_deployment(settings):
    """Provision ``nestegg_e2e_*`` / ``nestegg-e2e`` with its own state dir, for this package."""
    import os

    from common import provision

    env = {
        **E2E_ENV,
        "NESTEGG_STATE_DIR": str(Path(os.environ["NESTEGG_STATE_DIR"]).parent / "e2e"),
    }
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        deployment = dataclasses.replace(
            settings, db_prefix=env["NESTEGG_DB_PREFIX"], amqp_vhost=env["NESTEGG_AMQP_VHOST"]
        )
        provision.reset_deployment(deployment)
        provision.setup_all(deployment)
        yield deployment, env
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="package")
def stack(e2e_deployment):
    from common.stack import Stack

    deployment, deployment_env = e2e_deployment
    settings = dataclasses.replace(deployment, gateway_port=_free_port(), rpc_timeout=2.0)
    plaid_port = _free_port()
    plaid_url = f"http://127.0.0.1:{plaid_port}"
    gateway_url = f"http://{settings.gateway_host}:{settings.gateway_port}"
    running = Stack(
        settings,
        env={
            **deployment_env,
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
