"""The Flask gateway over the real RpcPool, RabbitMQ, Redis and nameko containers."""

import socket
import time

import pytest

from common.config import SERVICES, Settings
from gateway.config import GatewayConfig

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


def make_test_blueprint():
    """Routes that exist only in these tests, to drive RPCs through the gateway."""
    from gateway import rpc
    from gateway.openapi import ApiBlueprint

    blp = ApiBlueprint("rpctest", __name__)

    @blp.route("/test/users/<method>", methods=["GET"])
    @blp.response(200)
    def call_users(method):
        args = {"slow": (2.0,), "missing": ("budget",)}.get(method, ())
        return {"reply": rpc.call("users", method, *args)}

    return blp


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def make_gateway(pool_factory):
    import redis

    def make(amqp_uri=None, rpc_timeout=3.0, ready_timeout=1.0):
        from gateway.app import create_app

        pool = pool_factory(amqp_uri, timeout=rpc_timeout)
        app = create_app(
            Settings(rpc_timeout=rpc_timeout),
            pool,
            redis=redis.Redis.from_url(
                "redis://127.0.0.1:6379/0", socket_timeout=1, socket_connect_timeout=1
            ),
            gateway_config=GatewayConfig(ready_timeout=ready_timeout),
        )
        app.extensions["nestegg.api"].register_blueprint(make_test_blueprint())
        return app.test_client()

    return make


def test_readyz_503_names_the_service_that_is_not_running(start_services, make_gateway):
    start_services(*[s for s in SERVICES if s != "notifier"])
    client = make_gateway()
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < 1.0 + 1.5
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["service:notifier"]["status"] == "down"
    assert checks["broker"]["status"] == "ok" and checks["redis"]["status"] == "ok"
    assert all(checks[f"service:{s}"]["status"] == "ok" for s in SERVICES if s != "notifier")


def test_readyz_200_when_all_six_answer(start_services, make_gateway):
    start_services(*SERVICES)
    response = make_gateway().get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "ok"


def test_request_id_travels_from_http_header_to_the_service(start_services, make_gateway):
    start_services("users")
    response = make_gateway().get("/test/users/whoami", headers={"X-Request-ID": "http-to-rpc-1"})
    assert response.status_code == 200
    assert response.get_json()["reply"]["request_id"] == "http-to-rpc-1"
    assert response.headers["X-Request-ID"] == "http-to-rpc-1"


def test_domain_error_from_a_service_keeps_its_status(start_services, make_gateway):
    start_services("users")
    response = make_gateway().get("/test/users/missing")
    assert response.status_code == 404 and response.mimetype == PROBLEM
    body = response.get_json()
    assert body["detail"] == "No such budget" and body["code"] == "not_found"


@pytest.mark.parametrize("method", ["crash", "leak"])
def test_internal_failure_is_502_without_details(start_services, make_gateway, method):
    start_services("users")
    response = make_gateway().get(f"/test/users/{method}")
    assert response.status_code == 502 and response.mimetype == PROBLEM
    text = response.get_data(as_text=True)
    assert "SELECT" not in text and "ZeroDivision" not in text and "InternalError" not in text


def test_rpc_timeout_is_504_within_the_timeout(start_services, make_gateway):
    start_services("users")
    client = make_gateway(rpc_timeout=0.5)
    started = time.monotonic()
    response = client.get("/test/users/slow")
    assert time.monotonic() - started < 0.5 + 1.0
    assert response.status_code == 504 and response.mimetype == PROBLEM


def test_broker_down_is_503_quickly(make_gateway):
    client = make_gateway(f"pyamqp://guest:guest@127.0.0.1:{closed_port()}/x", rpc_timeout=1.0)
    started = time.monotonic()
    response = client.get("/test/users/health")
    assert time.monotonic() - started < 1.0 + 1.0
    assert response.status_code == 503 and response.mimetype == PROBLEM
    started = time.monotonic()
    ready = client.get("/readyz")
    assert time.monotonic() - started < 1.0 + 1.5
    assert ready.status_code == 503
    checks = ready.get_json()["checks"]
    assert checks["broker"]["status"] == "down"
    assert all(checks[f"service:{s}"]["status"] != "ok" for s in SERVICES)
