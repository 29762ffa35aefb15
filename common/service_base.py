"""The base every domain service class extends: ``health`` RPC and the outbox relay timer."""

from __future__ import annotations

from nameko.rpc import rpc
from nameko.timer import timer

from common import health
from common.config import env_float


class NesteggService:
    """Subclasses set ``name``, ``db`` (Database), ``outbox`` (Outbox), ``redis`` (Redis),
    ``context`` (RequestContext) and ``inbox_model``."""

    @rpc
    def health(self):
        """Version, database and Redis reachability, uptime. Public: no principal needed."""
        return health.report(self.name, self.db.factory.kw["bind"], self.redis)

    @rpc
    def ping(self):
        """Trivial round trip (liveness and the RPC overhead benchmark)."""
        return "pong"

    @timer(interval=env_float("NESTEGG_OUTBOX_INTERVAL", 1.0))
    def relay_outbox(self):
        self.outbox.relay()
