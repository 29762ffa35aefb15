"""RpcPool against the real RabbitMQ and real nameko containers."""

import socket
import threading
import time

import pytest

from common.errors import NotFound, ServiceUnavailable
from common.logging import request_id_var
from common.rpc_pool import GatewayTimeout, InternalServiceError

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def services(start_services):
    return start_services("users", "portfolio")


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_call_round_trip(pool_factory):
    pool = pool_factory()
    assert pool.call("users", "health")["status"] == "ok"
    assert pool.call("portfolio", "add", "0.10", "0.20") == "0.30"


def test_request_id_reaches_worker_ctx_data(pool_factory):
    pool = pool_factory(size=1)
    token = request_id_var.set("rid-e2e-1")
    try:
        assert pool.call("users", "whoami")["request_id"] == "rid-e2e-1"
    finally:
        request_id_var.reset(token)
    token = request_id_var.set("rid-e2e-2")  # same proxy, new id: the shared dict was updated
    try:
        assert pool.call("users", "whoami")["request_id"] == "rid-e2e-2"
    finally:
        request_id_var.reset(token)
    assert pool.call("users", "whoami")["request_id"] is None  # not sticky
    assert pool.stats["created"] == 1


def test_domain_error_arrives_as_the_same_type(pool_factory):
    pool = pool_factory()
    with pytest.raises(NotFound) as caught:
        pool.call("users", "missing", "budget")
    assert caught.value.detail == "No such budget" and caught.value.extra == {"thing": "budget"}
    assert pool.stats["discarded"] == 0


@pytest.mark.parametrize("method", ["crash", "leak"])
def test_remote_failures_are_opaque(pool_factory, method):
    pool = pool_factory()
    with pytest.raises(InternalServiceError) as caught:
        pool.call("users", method)
    assert "SELECT" not in str(caught.value.to_problem())
    assert pool.call("users", "health")["status"] == "ok"  # the proxy is still good


def test_timeout_is_504_within_the_timeout_and_the_proxy_is_rebuilt(pool_factory):
    pool = pool_factory(size=1)
    started = time.monotonic()
    with pytest.raises(GatewayTimeout):
        pool.call("users", "slow", 1.5, timeout=0.3)
    assert time.monotonic() - started < 0.3 + 1.0
    assert pool.stats["discarded"] == 1
    time.sleep(1.5)  # the late reply is published now, to the discarded proxy's queue
    assert pool.call("users", "whoami")["service"] == "users"  # never the stale "late"
    assert pool.stats["created"] == 2


def test_unknown_service_is_503_fast(pool_factory):
    pool = pool_factory()
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable, match="not running"):
        pool.call("nosuchservice", "health")
    assert time.monotonic() - started < 3.0


def test_broker_down_is_503_fast(pool_factory):
    pool = pool_factory(f"pyamqp://guest:guest@127.0.0.1:{closed_port()}/x", timeout=1.0)
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable, match="broker"):
        pool.call("users", "health")
    assert time.monotonic() - started < 1.0 + 1.0
    assert pool.in_use == 0


def test_concurrent_callers_each_get_their_own_answer(pool_factory):
    pool = pool_factory(size=4, checkout_timeout=10)
    results, errors = {}, []

    def caller(n):
        token = request_id_var.set(f"rid-{n}")
        try:
            for i in range(5):
                reply = pool.call("users", "whoami")
                assert reply["request_id"] == f"rid-{n}", reply
                assert pool.call("portfolio", "add", str(n), str(i)) == str(n + i)
            results[n] = True
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            request_id_var.reset(token)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and len(results) == 8
    assert pool.stats["created"] <= 4 and pool.in_use == 0


def test_proxy_whose_connection_was_closed_is_replaced(pool_factory, vhost):
    import requests

    pool = pool_factory(size=1)
    assert pool.call("users", "health")["status"] == "ok"
    # close the pooled proxy's broker connection from the server side, as a restart would
    deadline = time.monotonic() + 10
    closed = 0
    while time.monotonic() < deadline and not closed:
        # the reply consumer is the connection with a consumer on an rpc.reply-standalone queue
        consumers = requests.get(
            f"http://127.0.0.1:15672/api/consumers/{vhost}", auth=("guest", "guest"), timeout=5
        ).json()
        names = {
            c["channel_details"]["connection_name"]
            for c in consumers
            if c["queue"]["name"].startswith("rpc.reply-standalone_rpc_proxy")
        }
        for name in names:
            requests.delete(
                f"http://127.0.0.1:15672/api/connections/{requests.utils.quote(name, safe='')}",
                auth=("guest", "guest"),
                timeout=5,
            )
            closed += 1
        if not closed:
            time.sleep(0.5)  # the management stats lag a little
    assert closed
    time.sleep(0.3)
    assert pool.call("users", "health")["status"] == "ok"
    assert pool.stats["created"] == 2
