"""The domain routes over the real system: the Flask app (test client) with the real RPC pool,
real Redis, and the real users, aggregation, transactions and portfolio services as
``nameko run`` processes, plus the bundled Plaid sandbox as a process. Everything runs on a
throwaway broker vhost with the full broker definitions (per-service users, event exchanges),
so no other test's containers answer these RPCs or consume these events.

Tokens: users register through ``POST /v1/users`` (real users service, so the gateway's
session-state check passes) and get access tokens from the gateway's real issuer with the
scopes a test wants (the OAuth code flow itself is covered by tests/security and the e2e test).

Helpers reach test modules through the ``routes`` fixture (``--import-mode=importlib``: test
files cannot import this conftest).
"""

from __future__ import annotations

import dataclasses
import functools
import http.server
import json
import socket
import sys
import threading
import time
import types
import urllib.parse
import uuid

import pytest
import requests
from _support.waiting import wait_until

ALL_SCOPES = (
    "profile:read profile:write accounts:read accounts:link accounts:write "
    "transactions:read transactions:write portfolio:read portfolio:write"
)
PASSWORD = "granite heron waits by the river"
INSTITUTION = "ins_109508"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


wait_until = functools.partial(wait_until, timeout=60.0, interval=0.25)


# --- infrastructure --------------------------------------------------------------------------
DB_PREFIX = "nestegg_rt_"


@pytest.fixture(scope="session")
def routes_settings(provisioned):
    """The test deployment's settings with databases of their own (prefix ``nestegg_rt_``) and
    a fresh vhost with the real broker definitions. Own databases matter: every process of a
    service relays its database's whole outbox, so sharing the other tests' databases would
    let their processes publish this suite's events on their vhost (and ours theirs)."""
    from common import provision

    vhost = f"nestegg-routes-{uuid.uuid4().hex[:8]}"
    settings = dataclasses.replace(provisioned, amqp_vhost=vhost, db_prefix=DB_PREFIX)
    provision.setup_all(settings)
    yield settings
    base, auth = provision.rabbit_api(settings)
    requests.delete(
        f"{base}/api/vhosts/{urllib.parse.quote(vhost, safe='')}", auth=auth, timeout=10
    )


@pytest.fixture(scope="session")
def signing_issuer(provisioned):
    """The gateway's real issuer (key provider keypair); publishes the key services read."""
    from gateway.auth.tokens import AccessTokenIssuer

    issuer = AccessTokenIssuer.from_key_provider(provisioned)
    issuer.publish_public_key()
    return issuer


class WebhookSink:
    """A tiny HTTP server standing in for the gateway's public URL: records every webhook the
    sandbox delivers (headers and exact body) so a test can replay it through the app."""

    def __init__(self):
        self.received: list[dict] = []
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                sink.received.append({"headers": dict(self.headers.items()), "body": body})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/plaid"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def webhook_sink():
    sink = WebhookSink()
    yield sink
    sink.close()


@pytest.fixture(scope="session")
def services(routes_settings, signing_issuer, webhook_sink, categorizer_model):
    """users, aggregation, transactions and portfolio as processes, and the Plaid sandbox."""
    from common.rpc_pool import RpcPool
    from common.stack import Stack

    plaid_port = free_port()
    plaid_url = f"http://127.0.0.1:{plaid_port}"
    stack = Stack(
        routes_settings,
        env={
            "NESTEGG_DB_PREFIX": DB_PREFIX,
            "NESTEGG_AMQP_VHOST": routes_settings.amqp_vhost,
            "NESTEGG_BCRYPT_COST": "4",
            "NESTEGG_PLAID_HOST": plaid_url,
            "NESTEGG_PLAID_WEBHOOK": webhook_sink.url,
            "NESTEGG_SYNC_POLL": "0.5",
            "NESTEGG_OUTBOX_INTERVAL": "0.5",
        },
    )
    names = ("users", "aggregation", "transactions", "portfolio")
    pool = RpcPool(routes_settings.amqp_uri("gateway"), size=4, timeout=3.0)
    try:
        stack.start_process(
            "routes-plaid",
            [
                sys.executable,
                "-m",
                "aggregation.sandbox",
                "--port",
                str(plaid_port),
                "--seed",
                f"routes-{uuid.uuid4().hex[:6]}",
            ],
        )
        for name in names:
            stack.start_service(name)

        def all_healthy():
            if stack.exited():
                pytest.fail(f"a process exited: {stack.exited()}; logs in {stack.log_dir}")
            for name in names:
                try:
                    if pool.call(name, "health").get("status") != "ok":
                        return False
                except Exception:  # noqa: BLE001 - still starting
                    return False
            try:
                requests.get(plaid_url, timeout=1)
            except requests.ConnectionError:
                return False
            return True

        if not wait_until(all_healthy, timeout=120, interval=0.5):
            pytest.fail(f"services did not start; logs in {stack.log_dir}")
        yield types.SimpleNamespace(stack=stack, plaid_url=plaid_url)
    finally:
        pool.close()
        stack.stop_all()


@pytest.fixture(scope="session")
def rpc_pool(services, routes_settings):
    from common.rpc_pool import RpcPool

    pool = RpcPool(routes_settings.amqp_uri("gateway"), size=8, timeout=30.0)
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def app(routes_settings, rpc_pool, signing_issuer):
    from gateway.app import create_app, shutdown
    from gateway.auth.config import AuthConfig
    from gateway.config import GatewayConfig

    config = AuthConfig(
        ratelimit_key_prefix=f"routes-{uuid.uuid4().hex[:8]}",
        login_limit="1000/minute",
        token_limit="1000/minute",
        register_limit="1000/minute",
        reset_limit="1000/minute",
        mfa_limit="1000/minute",
        api_user_limit="5000/minute",
    )
    flask_app = create_app(
        routes_settings,
        rpc_pool,
        gateway_config=GatewayConfig(ready_timeout=1.0),
        auth_config=config,
        token_issuer=signing_issuer,
    )
    yield flask_app
    flask_app.extensions["nestegg.auth"].audit.flush()
    flask_app.extensions.pop("nestegg.rpc", None)  # the session pool is closed by its fixture
    shutdown(flask_app)


# --- users and requests ----------------------------------------------------------------------
class User:
    """A registered user with a token factory and request helpers (JSON in, response out)."""

    def __init__(self, app, issuer, user_id: str, email: str):
        self.app, self.issuer = app, issuer
        self.id, self.email = user_id, email
        self.client = app.test_client()
        self.token = self.token_for(ALL_SCOPES)

    def token_for(self, scope: str, *, second_factor: bool = True) -> str:
        now = int(time.time())
        return self.issuer.issue(
            self.id,
            scope=scope,
            amr=("pwd", "otp") if second_factor else ("pwd",),
            auth_time=now,
            client_id="nestegg-cli",
            mfa=second_factor,
        ).token

    def call(self, method: str, path: str, token: str | None = None, **kwargs):
        headers = {"Authorization": f"Bearer {token or self.token}", **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.call("POST", path, **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs):
        """The JSON body of a response that must have ``status``."""
        response = self.call(method, path, **kwargs)
        assert response.status_code == status, (
            method,
            path,
            response.status_code,
            response.get_data(as_text=True)[:1500],
        )
        if status == 204:
            assert response.get_data() == b""
            return None
        return response.get_json() if response.mimetype.endswith("json") else response


@pytest.fixture(scope="session")
def make_user(app, signing_issuer):
    def make() -> User:
        client = app.test_client()
        email = f"routes.{uuid.uuid4().hex[:12]}@example.org"
        response = client.post(
            "/v1/users", json={"email": email, "password": PASSWORD, "name": "Route Tester"}
        )
        assert response.status_code == 201, response.get_json()
        return User(app, signing_issuer, response.get_json()["id"], email)

    return make


def link_bank(user: User, institution_id: str = INSTITUTION, **credentials) -> dict:
    public = user.ok(
        "POST",
        "/v1/link/sandbox/public-token",
        201,
        json={"institution_id": institution_id, **credentials},
    )
    return user.ok("POST", "/v1/items", 201, json={"public_token": public["public_token"]})


def transactions_of(user: User, **query) -> list[dict]:
    items, cursor = [], None
    while True:
        params = {**query, "limit": 500, **({"cursor": cursor} if cursor else {})}
        page = user.ok("GET", "/v1/transactions", query_string=params)
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


@pytest.fixture(scope="session")
def categorizer_model():
    """A trained categorisation model in the test deployment's artefact store (trained once on
    the thinned corpus, ~1 min, then reused from $NESTEGG_ARTIFACT_DIR), before the transactions service
    starts (it loads the model at its first categorisation and keeps what it found)."""
    from _support.categorizer_data import deployment_test_model

    return deployment_test_model()


@pytest.fixture(scope="session")
def linked(make_user):
    """One user with a linked sandbox bank whose first sync reached transactions and
    portfolio (shared by the read-only tests of every module)."""
    user = make_user()
    item = link_bank(user)
    first = wait_until(lambda: len(transactions_of(user)) > 100, timeout=120)
    assert first, "transactions never arrived through aggregation -> transactions"
    holdings = wait_until(
        lambda: (h := user.ok("GET", "/v1/holdings"))["accounts"] and h, timeout=60
    )
    assert holdings, "holdings never arrived through aggregation -> portfolio"
    return types.SimpleNamespace(user=user, item=item)


@pytest.fixture(scope="session")
def routes(services):
    """Plain helpers for the test modules."""
    return types.SimpleNamespace(
        link_bank=link_bank,
        transactions_of=transactions_of,
        wait_until=wait_until,
        ALL_SCOPES=ALL_SCOPES,
        INSTITUTION=INSTITUTION,
        plaid_url=services.plaid_url,
        json=json,
    )
