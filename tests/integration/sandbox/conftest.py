"""Fixtures: a sandbox server on a random port, a plaid-python client for it, and a webhook
receiver that records what the sandbox POSTs."""

from __future__ import annotations

import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import plaid
import pytest
from plaid.api import plaid_api
from plaid.model.item_public_token_exchange_request import ItemPublicTokenExchangeRequest
from plaid.model.products import Products
from plaid.model.sandbox_public_token_create_request import SandboxPublicTokenCreateRequest
from plaid.model.sandbox_public_token_create_request_options import (
    SandboxPublicTokenCreateRequestOptions,
)

from aggregation.sandbox import SandboxServer

ANCHOR = date(2025, 6, 30)


class WebhookReceiver:
    def __init__(self):
        self.received: list[tuple[dict, bytes]] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.arrived:
                    receiver.received.append((dict(self.headers), body))
                    receiver.arrived.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/plaid/webhook"

    def wait_for(self, predicate, timeout=10.0):
        """The first received (headers, payload, body) whose payload matches ``predicate``."""
        with self.arrived:
            found = self.arrived.wait_for(
                lambda: any(predicate(json.loads(b)) for _, b in self.received), timeout
            )
            assert found, f"no matching webhook among {[json.loads(b) for _, b in self.received]}"
            for headers, body in self.received:
                if predicate(json.loads(body)):
                    return headers, json.loads(body), body

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def server():
    with SandboxServer(seed="itest", anchor=ANCHOR) as running:
        yield running


@pytest.fixture(scope="module")
def receiver():
    hook = WebhookReceiver()
    yield hook
    hook.close()


def make_client(base_url: str, client_id: str, secret: str) -> plaid_api.PlaidApi:
    config = plaid.Configuration(host=base_url, api_key={"clientId": client_id, "secret": secret})
    return plaid_api.PlaidApi(plaid.ApiClient(config))


@pytest.fixture(scope="module")
def client(server):
    return make_client(server.base_url, server.client_id, server.secret)


def link_item(
    client,
    institution_id="ins_109508",
    products=("transactions", "investments"),
    webhook=None,
    **options,
):
    opts = SandboxPublicTokenCreateRequestOptions(**options)
    if webhook:
        opts.webhook = webhook
    created = client.sandbox_public_token_create(
        SandboxPublicTokenCreateRequest(
            institution_id=institution_id,
            initial_products=[Products(p) for p in products],
            options=opts,
        )
    )
    exchanged = client.item_public_token_exchange(
        ItemPublicTokenExchangeRequest(public_token=created.public_token)
    )
    return created, exchanged


@pytest.fixture(scope="module")
def item(client, receiver):
    _, exchanged = link_item(client, webhook=receiver.url)
    return exchanged


@pytest.fixture(scope="module")
def linker(client):
    """link_item(...) bound to the module's client."""
    return lambda **kwargs: link_item(client, **kwargs)


@pytest.fixture(scope="module")
def api_for():
    return make_client


@pytest.fixture(scope="module")
def admin(server):
    """POST to a sandbox admin hook (not part of Plaid's API, so plaid-python has no method)."""
    import requests

    def call(path: str, **body):
        response = requests.post(
            server.base_url + path,
            json=body,
            headers={"PLAID-CLIENT-ID": server.client_id, "PLAID-SECRET": server.secret},
            timeout=30,
        )
        return response.status_code, response.json()

    return call
