"""Fakes for the gateway unit tests: an in-memory RPC client and Redis, and an app factory."""

import threading

import pytest

from common.config import Settings
from common.logging import request_id_var
from gateway.config import GatewayConfig


class FakeRpc:
    """Answers ``health`` per service from ``replies`` (a value, an exception, or a callable)."""

    def __init__(self, replies=None, broker_error=None):
        self.replies = dict(replies or {})
        self.broker_error = broker_error
        self.calls = []
        self.closed = False
        self.lock = threading.Lock()

    def call(self, service, method, *args, timeout=None, **kwargs):
        with self.lock:
            self.calls.append(
                {
                    "service": service,
                    "method": method,
                    "args": args,
                    "kwargs": kwargs,
                    "timeout": timeout,
                    "request_id": request_id_var.get(),
                }
            )
        reply = self.replies.get((service, method), self.replies.get(service, {"status": "ok"}))
        if isinstance(reply, BaseException):
            raise reply
        if callable(reply):
            return reply(*args, timeout=timeout, **kwargs)
        return reply

    def check_broker(self, timeout=2.0):
        if self.broker_error is not None:
            raise self.broker_error

    def close(self):
        self.closed = True


class FakeRedis:
    def __init__(self, ok=True):
        self.ok = ok

    def ping(self):
        if not self.ok:
            raise ConnectionError("redis down")
        return True


@pytest.fixture
def fake_rpc():
    return FakeRpc()


@pytest.fixture
def make_app():
    def make(rpc=None, redis=None, *, blueprints=(), **settings_overrides):
        from gateway.app import create_app

        app = create_app(
            Settings(**settings_overrides),
            rpc if rpc is not None else FakeRpc(),
            redis=redis if redis is not None else FakeRedis(),
            gateway_config=GatewayConfig(ready_timeout=0.5),
        )
        api = app.extensions["nestegg.api"]
        for blp in blueprints:
            api.register_blueprint(blp)
        return app

    return make


@pytest.fixture
def client(make_app):
    return make_app().test_client()


@pytest.fixture
def rpc_with():
    """``rpc_with(replies, broker_error=None)`` -> a FakeRpc."""
    return FakeRpc


@pytest.fixture
def redis_with():
    """``redis_with(ok)`` -> a FakeRedis."""
    return FakeRedis
