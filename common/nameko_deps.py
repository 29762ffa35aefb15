"""Thin nameko adapters: dependency providers for the database, outbox, Redis and request context.

Everything nameko-specific lives here and in :mod:`common.nameko_events` /
:mod:`common.service_base`, so domain code never imports nameko.
"""

from __future__ import annotations

import logging
import time
import weakref

from nameko.extensions import DependencyProvider

from common import config as cfg
from common.config import env_float
from common.db import make_engine, make_session_factory
from common.logging import request_id_var, user_id_var
from common.outbox import OutboxRelay, kombu_publisher, purge_published, record

log = logging.getLogger(__name__)
PURGE_EVERY_SECONDS = 60.0  # how often the relay timer deletes published events past retention


def green_psycopg() -> None:
    """Make psycopg2 cooperate with eventlet when the process is monkey-patched."""
    from eventlet import patcher

    if patcher.is_monkey_patched("socket"):
        from psycogreen.eventlet import patch_psycopg

        patch_psycopg()


class _DbHandle:
    def __init__(self, factory):
        self.factory = factory
        self._session = None

    @property
    def session(self):
        if self._session is None:
            self._session = self.factory()
        return self._session

    def transaction(self):
        """``with self.db.transaction() as session:`` commits or rolls back one unit of work."""
        from common.db import transaction

        return transaction(self.factory)

    def close(self):
        if self._session is not None:
            self._session.close()
            self._session = None


class Database(DependencyProvider):
    """Engine per container with ``pool_size = max_workers``; a session handle per worker."""

    def __init__(self, service_name: str):
        self.service_name = service_name
        self.handles = weakref.WeakKeyDictionary()

    def setup(self):
        green_psycopg()
        settings = cfg.load()
        url = self.container.config.get("DATABASE_URL") or settings.database_url(self.service_name)
        workers = int(self.container.config.get("max_workers", settings.max_workers))
        self.engine = make_engine(url, pool_size=workers, application_name=self.service_name)
        self.factory = make_session_factory(self.engine)

    def stop(self):
        self.engine.dispose()

    def get_dependency(self, worker_ctx):
        handle = _DbHandle(self.factory)
        self.handles[worker_ctx] = handle
        return handle

    def worker_teardown(self, worker_ctx):
        handle = self.handles.pop(worker_ctx, None)
        if handle is not None:
            handle.close()


class _OutboxHandle:
    def __init__(self, provider):
        self.provider = provider
        self.dirty = False

    def add(self, session, event_type: str, data: dict, *, user_id: str | None = None) -> str:
        self.dirty = True
        return record(
            session,
            self.provider.model,
            source=self.provider.service_name,
            event_type=event_type,
            data=data,
            user_id=user_id,
        )

    def relay(self) -> int:
        return self.provider.relay()


class Outbox(DependencyProvider):
    """Adds events to the outbox in the caller's transaction; relays after the worker ends.

    The relay also runs on a timer (see :class:`common.service_base.NesteggService`), so an event
    whose immediate relay failed (broker down) goes out once the broker is back.
    """

    def __init__(self, model):
        self.model = model
        self.handles = weakref.WeakKeyDictionary()

    def setup(self):
        # nameko binds a copy of each provider per container: find this container's Database
        self.database = next(d for d in self.container.dependencies if isinstance(d, Database))
        self.service_name = self.container.service_name
        amqp_uri = self.container.config["AMQP_URI"]
        self._publish = kombu_publisher(amqp_uri)
        self.retention_seconds = env_float("NESTEGG_OUTBOX_RETENTION_SECONDS", 3600.0)
        self._last_purge = float("-inf")

    def relay(self) -> int:
        relay = OutboxRelay(self.database.factory, self.model, self._publish)
        published = relay.relay_pending()
        now = time.monotonic()
        if now - self._last_purge >= PURGE_EVERY_SECONDS:
            self._last_purge = now
            purge_published(
                self.database.factory, self.model, older_than_seconds=self.retention_seconds
            )
        return published

    def get_dependency(self, worker_ctx):
        handle = _OutboxHandle(self)
        self.handles[worker_ctx] = handle
        return handle

    def worker_teardown(self, worker_ctx):
        handle = self.handles.pop(worker_ctx, None)
        if handle is not None and handle.dirty:
            try:
                self.relay()
            except Exception:  # the timer will retry; the events are safe in the table
                log.warning("immediate outbox relay failed; will retry", exc_info=True)


class RequestContext(DependencyProvider):
    """Carries ``request_id`` from RPC context data into the log context of each worker."""

    def worker_setup(self, worker_ctx):
        request_id_var.set(worker_ctx.data.get("request_id") or worker_ctx.call_id)
        user_id_var.set(None)

    def worker_teardown(self, worker_ctx):
        request_id_var.set(None)
        user_id_var.set(None)

    def get_dependency(self, worker_ctx):
        return worker_ctx.data.get("request_id")


class Redis(DependencyProvider):
    """One Redis client (with its own connection pool) per container."""

    def setup(self):
        import redis

        url = self.container.config.get("REDIS_URL") or cfg.load().redis_url
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def stop(self):
        self.client.close()

    def get_dependency(self, worker_ctx):
        return self.client
