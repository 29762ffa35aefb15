"""A thread-safe pool of started nameko ``ClusterRpcProxy``s for callers outside nameko.

The gateway runs under gunicorn ``gthread`` workers and is never eventlet-monkey-patched. A
standalone ``ClusterRpcProxy`` is single-threaded (its reply consumer drains one connection and
a shared proxy interleaves frames), so each thread checks out its own proxy for one call and
checks it back in afterwards. The pool is bounded (``size``) and a checkout waits at most
``checkout_timeout`` seconds.

Behaviour verified against nameko 2.14.1 (``nameko/standalone/rpc.py``, ``nameko/rpc.py``,
``nameko/containers.py``):

- ``ClusterRpcProxy(config, context_data=d)`` hands ``d`` to ``WorkerContext``, which keeps the
  same dict object (``self.data = data``) and copies it into the message headers on every call
  (``WorkerContext.context_data``). Mutating ``d`` before a call therefore sends the current
  ``request_id`` as nameko context data; a service reads it as ``worker_ctx.data["request_id"]``.
- The RPC timeout is the reply consumer's socket timeout
  (``PollingQueueConsumer.timeout``), read at every ``drain_events``; a per-call timeout sets it
  before the call. After an ``RpcTimeout`` the proxy is discarded, so a late reply can never be
  taken for the answer to the next call.
- Publishing goes through kombu's producer pool with nameko's retry policy (3 retries, 2 s
  apart); the pool passes a short policy instead so a dead broker fails fast.

Failures are mapped to typed errors: ``RpcTimeout`` -> :class:`GatewayTimeout` (504); broker
unreachable, connection lost, ``UnknownService`` (no queue bound), pool exhausted ->
:class:`common.errors.ServiceUnavailable` (503); :class:`common.errors.DomainError` subclasses
pass through unchanged; any other remote exception (``RemoteError``, including
``common.rpc.InternalError``, and nameko's ``MethodNotFound``/``IncorrectSignature``) ->
:class:`InternalServiceError` (502) without details. A proxy is kept after a domain error, a
remote error or ``UnknownService`` (its reply arrived intact or the broker returned the request);
after anything else (timeout, connection error, unexpected exception) it is stopped and a new one
is built on demand. An idle proxy whose socket turned readable (the broker closed it, e.g. on a
restart) is replaced at checkout, before it is used.
"""

from __future__ import annotations

import contextlib
import logging
import select
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nameko.exceptions import RemoteError, RpcTimeout, UnknownService
from nameko.standalone.rpc import ClusterProxy, ClusterRpcProxy

from common.errors import DomainError, ServiceUnavailable
from common.logging import request_id_var

log = logging.getLogger(__name__)

# kombu retry policy for publishing a request: one quick retry, then give up.
FAST_PUBLISH_RETRY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}


class GatewayTimeout(DomainError):
    """A service did not answer within the RPC timeout."""

    status, code, title = 504, "gateway_timeout", "A service did not answer in time"


class InternalServiceError(DomainError):
    """A service failed unexpectedly; the caller learns nothing more."""

    status, code, title = 502, "internal_service_error", "A service failed to handle the request"


class _BoundedClusterProxy(ClusterProxy):
    """``ClusterProxy`` whose service proxies publish with a short retry policy."""

    def __init__(self, worker_ctx, reply_listener, **options):
        super().__init__(worker_ctx, reply_listener)
        self._options = options

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        proxies = self.__dict__["_proxies"]
        if name not in proxies:
            from nameko.rpc import ServiceProxy

            proxies[name] = ServiceProxy(
                self._worker_ctx, name, self._reply_listener, **self._options
            )
        return proxies[name]


class BoundedClusterRpcProxy(ClusterRpcProxy):
    """``ClusterRpcProxy`` passing publisher options (retry policy) to every service proxy."""

    def __init__(self, config, *, publish_options: dict | None = None, **kwargs):
        super().__init__(config, **kwargs)
        self._proxy = _BoundedClusterProxy(
            self._worker_ctx, self._reply_listener, **(publish_options or {})
        )


@dataclass
class PooledProxy:
    """One started proxy, its context-data dict (shared with nameko) and bookkeeping."""

    runner: ClusterRpcProxy
    cluster: Any
    context: dict
    created: float = field(default_factory=time.monotonic)
    last_used: float = field(default_factory=time.monotonic)

    def set_timeout(self, seconds: float) -> None:
        # nameko reads this attribute at every drain_events (see module docstring)
        self.runner._reply_listener.queue_consumer.timeout = seconds

    def socket_readable(self) -> bool:
        """True when an idle proxy's reply socket has data or EOF: the broker closed it or a
        stray frame is pending. Either way the proxy must not be reused."""
        try:
            conn = self.runner._reply_listener.queue_consumer.connection.connection
            fileno = conn.transport.sock.fileno()
            readable, _, errored = select.select([fileno], [], [fileno], 0)
        except Exception:
            return True
        return bool(readable or errored)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.runner.stop()


def _is_connection_error(exc: BaseException) -> bool:
    import amqp.exceptions
    import kombu.exceptions

    return isinstance(
        exc,
        OSError
        | ConnectionError
        | amqp.exceptions.ConnectionError
        | kombu.exceptions.OperationalError
        | kombu.exceptions.ConnectionError,
    )


def _remote_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that come out of an intact reply: ``RemoteError`` and every non-domain
    exception class registered with nameko's ``deserialize_to_instance``."""
    from nameko.exceptions import registry

    registered = tuple(cls for cls in registry.values() if not issubclass(cls, DomainError))
    return (RemoteError, *registered)


class RpcPool:
    """Bounded pool of started ``ClusterRpcProxy``s; ``call`` is safe from any thread."""

    def __init__(
        self,
        amqp_uri: str,
        *,
        size: int = 8,
        timeout: float = 5.0,
        checkout_timeout: float = 2.0,
        config: dict | None = None,
        publish_options: dict | None = None,
        proxy_factory: Callable[[dict, dict, float], PooledProxy] | None = None,
    ):
        if size < 1:
            raise ValueError(f"pool size must be at least 1, got {size}")
        if timeout <= 0:
            raise ValueError(f"RPC timeout must be positive, got {timeout}")
        if checkout_timeout < 0:
            raise ValueError(f"checkout timeout must be >= 0, got {checkout_timeout}")
        self.size = size
        self.timeout = float(timeout)
        self.checkout_timeout = float(checkout_timeout)
        self.config = {"AMQP_URI": amqp_uri, **(config or {})}
        self.publish_options = {
            "retry_policy": dict(FAST_PUBLISH_RETRY),
            **(publish_options or {}),
        }
        self._factory = proxy_factory or self._start_proxy
        self._idle: deque[PooledProxy] = deque()
        self._cond = threading.Condition()
        self._created = 0
        self._closed = False
        self.stats = {"created": 0, "discarded": 0, "calls": 0}

    # -- proxies ---------------------------------------------------------------------------

    def _start_proxy(self, config: dict, publish_options: dict, timeout: float) -> PooledProxy:
        # nameko's reply consumer connects with kombu's default 2 s retry interval; probe the
        # broker first with no retry delay so a dead broker is reported at once.
        self.check_broker(timeout=min(timeout, 2.0))
        context: dict = {}
        runner = BoundedClusterRpcProxy(
            config, context_data=context, timeout=timeout, publish_options=publish_options
        )
        cluster = runner.start()
        return PooledProxy(runner=runner, cluster=cluster, context=context)

    def _checkout(self) -> PooledProxy:
        deadline = time.monotonic() + self.checkout_timeout
        with self._cond:
            while True:
                if self._closed:
                    raise ServiceUnavailable("The RPC client is shut down")
                if self._idle:
                    proxy = self._idle.pop()  # LIFO: the warmest connection first
                    break
                if self._created < self.size:
                    self._created += 1
                    proxy = None
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ServiceUnavailable("All RPC connections are busy; try again shortly")
                self._cond.wait(remaining)
        if proxy is not None:
            if not proxy.socket_readable():
                return proxy
            log.info("discarding an RPC proxy whose connection was closed while idle")
            self._discard(proxy, count=False)
        try:
            proxy = self._factory(self.config, self.publish_options, self.timeout)
        except Exception as exc:
            self._release_slot()
            log.warning("cannot connect an RPC proxy to the broker: %s", type(exc).__name__)
            raise ServiceUnavailable("The message broker is unreachable") from None
        with self._cond:
            self.stats["created"] += 1
        return proxy

    def _checkin(self, proxy: PooledProxy) -> None:
        proxy.last_used = time.monotonic()
        with self._cond:
            if self._closed:
                closed = True
            else:
                closed = False
                self._idle.append(proxy)
                self._cond.notify()
        if closed:
            self._discard(proxy)

    def _release_slot(self) -> None:
        with self._cond:
            self._created -= 1
            self._cond.notify()

    def _discard(self, proxy: PooledProxy, *, count: bool = True) -> None:
        """Stop a proxy. ``count=False`` keeps its slot (the caller rebuilds in place)."""
        proxy.stop()
        with self._cond:
            self.stats["discarded"] += 1
        if count:
            self._release_slot()

    # -- public API ------------------------------------------------------------------------

    def call(self, service: str, method: str, *args, timeout: float | None = None, **kwargs):
        """Call ``service.method(*args, **kwargs)`` and return its result.

        ``timeout`` overrides the pool's RPC timeout for this call. The current
        ``common.logging.request_id_var`` travels as nameko context data ``request_id``.
        """
        if not service or not method or method.startswith("_"):
            raise ValueError(f"invalid RPC target {service!r}.{method!r}")
        seconds = self.timeout if timeout is None else float(timeout)
        if seconds <= 0:
            raise ValueError(f"RPC timeout must be positive, got {timeout}")
        proxy = self._checkout()
        with self._cond:
            self.stats["calls"] += 1
        try:
            proxy.set_timeout(seconds)
            proxy.context.clear()  # the very dict nameko serialises into the headers
            request_id = request_id_var.get()
            if request_id:
                proxy.context["request_id"] = request_id
            result = getattr(proxy.cluster[service], method)(*args, **kwargs)
        except DomainError:
            self._checkin(proxy)
            raise
        except UnknownService:
            # the broker returned the unroutable request; the proxy itself is healthy
            self._checkin(proxy)
            raise ServiceUnavailable(f"The {service} service is not running") from None
        except _remote_errors() as exc:
            # the reply arrived intact (RemoteError, InternalError, MethodNotFound, ...)
            self._checkin(proxy)
            kind = getattr(exc, "exc_type", None) or type(exc).__name__
            log.warning("%s.%s failed remotely (%s)", service, method, kind)
            raise InternalServiceError() from None
        except RpcTimeout:
            self._discard(proxy)
            raise GatewayTimeout(f"The {service} service did not answer in time") from None
        except Exception as exc:
            self._discard(proxy)
            if _is_connection_error(exc) or isinstance(exc, RuntimeError):
                log.warning("RPC %s.%s lost the broker: %s", service, method, type(exc).__name__)
                raise ServiceUnavailable("The message broker is unreachable") from None
            log.exception("unexpected RPC client failure calling %s.%s", service, method)
            raise InternalServiceError() from None
        except BaseException:  # interrupted mid-call (KeyboardInterrupt, greenlet kill)
            self._discard(proxy)
            raise
        self._checkin(proxy)
        return result

    def check_broker(self, timeout: float = 2.0) -> None:
        """Open and close one AMQP connection (no retry delay); raise on failure."""
        from kombu import Connection

        with Connection(self.config["AMQP_URI"], connect_timeout=timeout) as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=timeout
            )

    @property
    def idle(self) -> int:
        with self._cond:
            return len(self._idle)

    @property
    def in_use(self) -> int:
        with self._cond:
            return self._created - len(self._idle)

    def close(self) -> None:
        """Stop every idle proxy; proxies in use are stopped when checked back in."""
        with self._cond:
            self._closed = True
            idle, self._idle = list(self._idle), deque()
            self._created -= len(idle)
            self._cond.notify_all()
        for proxy in idle:
            proxy.stop()

    def __enter__(self) -> RpcPool:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
