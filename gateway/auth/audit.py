"""Best-effort security audit from the gateway: token issue and revocation, authorisation
failures -> ``users.record_security_event``.

Calls run on a small background pool so a response never waits on the audit RPC; at most
``max_pending`` calls queue up (a flood of bad tokens cannot pile up threads) and the rest are
dropped with a warning. Failures are logged by kind, never with the payload's values.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)


class AuditRecorder:
    def __init__(self, rpc, *, max_pending: int = 200, timeout: float = 2.0, workers: int = 2):
        self.rpc = rpc
        self.timeout = timeout
        self._slots = threading.BoundedSemaphore(max_pending)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="audit")
        self._pending: set = set()
        self._lock = threading.Lock()
        self.dropped = 0

    def record(
        self,
        event: str,
        outcome: str,
        *,
        user_id: str | None = None,
        ip: str | None = None,
        client_id: str | None = None,
        details: dict | None = None,
    ) -> None:
        payload = {
            "event": event,
            "outcome": outcome,
            "user_id": user_id,
            "ip": ip,
            "client_id": client_id,
            "details": details or {},
        }
        if not self._slots.acquire(blocking=False):
            self.dropped += 1
            log.warning("audit queue full; dropped a %s event", event)
            return
        ctx = contextvars.copy_context()
        future = self._executor.submit(ctx.run, self._send, payload)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future) -> None:
        with self._lock:
            self._pending.discard(future)
        self._slots.release()

    def _send(self, payload: dict) -> None:
        try:
            self.rpc.call("users", "record_security_event", payload, timeout=self.timeout)
        except Exception as exc:  # noqa: BLE001 - best effort: log the kind and carry on
            log.warning(
                "could not record security event %s: %s", payload["event"], type(exc).__name__
            )

    def flush(self, timeout: float = 5.0) -> None:
        """Wait for queued calls (tests and shutdown)."""
        with self._lock:
            pending = list(self._pending)
        for future in pending:
            future.result(timeout=timeout)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
