"""A throwaway RabbitMQ vhost and tiny nameko services named like the real ones.

The services answer ``health`` and a few test methods; ``whoami`` returns the nameko context
data the caller sent, so the request id can be checked end to end.
"""

import contextlib
import threading

import pytest
import requests


def _service_class(service_name):
    import eventlet
    from nameko.extensions import DependencyProvider
    from nameko.rpc import rpc

    from common.errors import NotFound
    from common.rpc import InternalError

    class ContextData(DependencyProvider):
        def get_dependency(self, worker_ctx):
            return dict(worker_ctx.data)

    class TinyService:
        name = service_name
        context_data = ContextData()

        @rpc
        def health(self):
            return {"service": service_name, "status": "ok", "database": {"ok": True}}

        @rpc
        def whoami(self):
            return {"service": service_name, "request_id": self.context_data.get("request_id")}

        @rpc
        def slow(self, seconds):
            eventlet.sleep(seconds)
            return "late"

        @rpc
        def missing(self, thing):
            raise NotFound(f"No such {thing}", {"thing": thing})

        @rpc
        def crash(self):
            raise InternalError()

        @rpc
        def leak(self):
            raise ZeroDivisionError("SELECT secret FROM users")

        @rpc
        def add(self, a, b):
            from decimal import Decimal

            return str(Decimal(a) + Decimal(b))

    return TinyService


@pytest.fixture(scope="module")
def vhost():
    from _support.broker import throwaway_vhost

    try:
        with throwaway_vhost("nestegg-gw-test") as name:
            yield name
    except requests.RequestException as exc:  # pragma: no cover - infra missing
        pytest.fail(f"RabbitMQ management API not reachable: {exc}")


@pytest.fixture(scope="module")
def amqp_uri(vhost):
    return f"pyamqp://guest:guest@127.0.0.1:5672/{vhost}"


@pytest.fixture
def start_services(amqp_uri):
    """``start_services("users", "portfolio")`` starts one tiny container per name, killed at
    the end of the test. (Function scope on purpose: containers kept across tests in this
    suite lost their queue consumers at the next test boundary, so each test starts its own.)"""
    from nameko.containers import ServiceContainer

    running = {}

    def start(*names):
        for name in names:
            if name in running:
                continue
            container = ServiceContainer(
                _service_class(name), {"AMQP_URI": amqp_uri, "max_workers": 4}
            )
            container.start()
            running[name] = container
        return running

    yield start

    def kill(container):
        with contextlib.suppress(Exception):
            container.kill()

    killers = [threading.Thread(target=kill, args=(c,)) for c in running.values()]
    for killer in killers:  # in parallel: each kill waits on its own connections
        killer.start()
    for killer in killers:
        killer.join(30)


@pytest.fixture
def pool_factory(amqp_uri):
    from common.rpc_pool import RpcPool

    pools = []

    def make(uri=None, **kwargs):
        kwargs.setdefault("timeout", 3.0)
        pool = RpcPool(uri or amqp_uri, **kwargs)
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()
