"""RpcPool with fake proxies: checkout/checkin, bounds, error mapping, discard, context data."""

import threading

import pytest
from nameko.exceptions import MethodNotFound, RemoteError, RpcTimeout, UnknownService

from common.errors import NotFound, ServiceUnavailable
from common.logging import request_id_var
from common.rpc_pool import GatewayTimeout, InternalServiceError, RpcPool


class FakeMethod:
    def __init__(self, proxy, service, method):
        self.proxy, self.service, self.method = proxy, service, method

    def __call__(self, *args, **kwargs):
        proxy = self.proxy
        proxy.seen.append(
            {
                "service": self.service,
                "method": self.method,
                "args": args,
                "kwargs": kwargs,
                "context": dict(proxy.context),
                "timeout": proxy.timeout,
                "thread": threading.get_ident(),
            }
        )
        if proxy.in_use:
            raise AssertionError("a proxy was used by two callers at once")
        proxy.in_use = True
        try:
            behaviour = proxy.script.get((self.service, self.method), "ok")
            if callable(behaviour):
                return behaviour(*args, **kwargs)
            if isinstance(behaviour, BaseException):
                raise behaviour
            return {"answer": behaviour, "args": list(args), "kwargs": kwargs}
        finally:
            proxy.in_use = False


class FakeService:
    def __init__(self, proxy, name):
        self.proxy, self.name = proxy, name

    def __getattr__(self, method):
        return FakeMethod(self.proxy, self.name, method)


class FakeProxy:
    def __init__(self, script):
        self.script = script
        self.context = {}
        self.timeout = None
        self.stopped = False
        self.readable = False
        self.in_use = False
        self.seen = []
        self.cluster = self

    def __getitem__(self, service):
        return FakeService(self, service)

    def set_timeout(self, seconds):
        self.timeout = seconds

    def socket_readable(self):
        return self.readable

    def stop(self):
        self.stopped = True


class Factory:
    def __init__(self, script=None, fail=None):
        self.script = dict(script or {})
        self.fail = fail
        self.built = []

    def __call__(self, config, publish_options, timeout):
        if self.fail is not None:
            raise self.fail
        proxy = FakeProxy(self.script)
        proxy.config, proxy.publish_options, proxy.start_timeout = config, publish_options, timeout
        self.built.append(proxy)
        return proxy


def make_pool(script=None, fail=None, **kwargs):
    factory = Factory(script, fail)
    kwargs.setdefault("timeout", 3.0)
    return RpcPool("pyamqp://u:p@127.0.0.1:5672/v", proxy_factory=factory, **kwargs), factory


def test_call_returns_the_result_and_reuses_one_proxy():
    pool, factory = make_pool()
    assert pool.call("users", "health")["answer"] == "ok"
    assert pool.call("users", "get", "u1", flag=True) == {
        "answer": "ok",
        "args": ["u1"],
        "kwargs": {"flag": True},
    }
    assert len(factory.built) == 1 and pool.idle == 1 and pool.in_use == 0
    assert factory.built[0].config["AMQP_URI"] == "pyamqp://u:p@127.0.0.1:5672/v"
    assert factory.built[0].publish_options["retry_policy"]["max_retries"] == 1


def test_default_and_per_call_timeouts():
    pool, factory = make_pool()
    pool.call("users", "health")
    pool.call("users", "health", timeout=0.25)
    pool.call("users", "health")
    assert [s["timeout"] for s in factory.built[0].seen] == [3.0, 0.25, 3.0]


def test_request_id_travels_as_context_data_and_is_not_sticky():
    pool, factory = make_pool()
    token = request_id_var.set("rid-1")
    try:
        pool.call("users", "health")
    finally:
        request_id_var.reset(token)
    pool.call("users", "health")
    contexts = [s["context"] for s in factory.built[0].seen]
    assert contexts == [{"request_id": "rid-1"}, {}]


def test_rpc_kwargs_named_like_nameko_options_pass_through():
    pool, factory = make_pool()
    result = pool.call("users", "update", payload={"a": 1}, principal="tok")
    assert result["kwargs"] == {"payload": {"a": 1}, "principal": "tok"}


def test_domain_errors_pass_through_and_keep_the_proxy():
    pool, factory = make_pool({("users", "get"): NotFound("no such user")})
    with pytest.raises(NotFound, match="no such user"):
        pool.call("users", "get", "u1")
    assert pool.idle == 1 and not factory.built[0].stopped


@pytest.mark.parametrize(
    "remote",
    [
        RemoteError("InternalError", ""),
        RemoteError("ZeroDivisionError", "division by zero at line 3 SELECT *"),
        MethodNotFound("nope"),
    ],
)
def test_remote_failures_become_opaque_502_and_keep_the_proxy(remote):
    pool, factory = make_pool({("users", "get"): remote})
    with pytest.raises(InternalServiceError) as caught:
        pool.call("users", "get")
    assert caught.value.status == 502
    assert "SELECT" not in str(caught.value.to_problem()) and "Zero" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert pool.idle == 1 and not factory.built[0].stopped


def test_timeout_becomes_504_and_discards_the_proxy():
    pool, factory = make_pool({("users", "slow"): RpcTimeout(3.0)})
    with pytest.raises(GatewayTimeout) as caught:
        pool.call("users", "slow")
    assert caught.value.status == 504 and caught.value.to_problem()["status"] == 504
    assert factory.built[0].stopped and pool.idle == 0 and pool.in_use == 0
    pool.call("users", "health")  # a fresh proxy is built on demand
    assert len(factory.built) == 2


@pytest.mark.parametrize(
    "error",
    [
        ConnectionResetError(104, "reset"),
        OSError("broken pipe"),
        RuntimeError("This consumer has been disconnected, and can no longer be used"),
    ],
)
def test_connection_errors_become_503_and_discard_the_proxy(error):
    pool, factory = make_pool({("users", "get"): error})
    with pytest.raises(ServiceUnavailable):
        pool.call("users", "get")
    assert factory.built[0].stopped and pool.in_use == 0 and pool.idle == 0


def test_unknown_service_is_503_and_keeps_the_proxy():
    pool, factory = make_pool({("ghost", "health"): UnknownService("ghost")})
    with pytest.raises(ServiceUnavailable, match="ghost"):
        pool.call("ghost", "health")
    assert pool.idle == 1


def test_any_other_failure_is_opaque_and_discards():
    pool, factory = make_pool({("users", "get"): KeyError("internal detail")})
    with pytest.raises(InternalServiceError) as caught:
        pool.call("users", "get")
    assert "internal detail" not in str(caught.value)
    assert factory.built[0].stopped


def test_broker_unreachable_at_build_is_503_and_frees_the_slot():
    pool, factory = make_pool(fail=ConnectionRefusedError(111, "refused"), size=1)
    for _ in range(3):  # the slot is released each time: no exhaustion
        with pytest.raises(ServiceUnavailable, match="broker"):
            pool.call("users", "health")
    assert pool.in_use == 0


def test_idle_proxy_with_a_closed_socket_is_replaced():
    pool, factory = make_pool(size=1)
    pool.call("users", "health")
    factory.built[0].readable = True  # the broker closed the connection while idle
    pool.call("users", "health")
    assert factory.built[0].stopped and len(factory.built) == 2
    assert pool.idle == 1 and pool.in_use == 0


def test_pool_is_bounded_and_checkout_times_out_with_503():
    entered, release = threading.Event(), threading.Event()

    def hold(*args, **kwargs):
        entered.set()
        release.wait(5)
        return "held"

    pool, factory = make_pool({("users", "hold"): hold}, size=1, checkout_timeout=0.05)
    holder = threading.Thread(target=pool.call, args=("users", "hold"))
    holder.start()
    assert entered.wait(2)
    with pytest.raises(ServiceUnavailable, match="busy"):
        pool.call("users", "health")
    release.set()
    holder.join(2)
    assert pool.call("users", "health")["answer"] == "ok"
    assert len(factory.built) == 1


def test_waiting_caller_gets_the_proxy_when_it_is_checked_in():
    entered, release = threading.Event(), threading.Event()

    def hold(*args, **kwargs):
        entered.set()
        release.wait(5)
        return "held"

    pool, factory = make_pool({("users", "hold"): hold}, size=1, checkout_timeout=5)
    holder = threading.Thread(target=pool.call, args=("users", "hold"))
    holder.start()
    assert entered.wait(2)
    results = []
    waiter = threading.Thread(target=lambda: results.append(pool.call("users", "health")))
    waiter.start()
    release.set()
    holder.join(5)
    waiter.join(5)
    assert results and results[0]["answer"] == "ok" and len(factory.built) == 1


def test_concurrent_callers_never_share_a_proxy():
    pool, factory = make_pool(size=4, checkout_timeout=5)
    errors = []

    def worker(n):
        try:
            for i in range(25):
                assert pool.call("users", "echo", n, i)["args"] == [n, i]
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == []
    assert 1 <= len(factory.built) <= 4
    assert sum(len(p.seen) for p in factory.built) == 200
    assert pool.in_use == 0


def test_close_stops_idle_proxies_and_refuses_new_calls():
    pool, factory = make_pool(size=2)
    pool.call("users", "health")
    pool.close()
    assert factory.built[0].stopped
    with pytest.raises(ServiceUnavailable, match="shut down"):
        pool.call("users", "health")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"size": 0}, "size"), ({"timeout": 0}, "timeout"), ({"checkout_timeout": -1}, "checkout")],
)
def test_bad_configuration_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RpcPool("pyamqp://x", **kwargs)


@pytest.mark.parametrize(
    ("service", "method", "timeout"),
    [
        ("", "health", None),
        ("users", "", None),
        ("users", "_private", None),
        ("users", "health", 0),
    ],
)
def test_bad_calls_are_refused(service, method, timeout):
    pool, _ = make_pool()
    with pytest.raises(ValueError):
        pool.call(service, method, timeout=timeout)
