"""Real service processes for a test suite, on a deployment of its own.

    with own_deployment(settings, "sec") as deployment:       # nestegg_test_sec_* / nestegg-test-sec
        stack = ServiceStack(deployment, env={"NESTEGG_BCRYPT_COST": "4"})
        stack.start("users")                                   # returns once `health` answers
        stack.start_plaid_sandbox(seed="sec")                  # the bundled Plaid sandbox
        stack.start("aggregation", "transactions", "portfolio")
        ...
        stack.stop_all()

Why a deployment of its own: every process of a service relays its database's whole outbox and
answers every RPC on its vhost, so a suite whose processes shared the other tests' databases or
vhost would publish their events and answer their calls (see tests/integration/gateway_routes).
The processes are :class:`common.stack.Stack` children (``nameko run`` with each service's own
broker user, ``python -m aggregation.sandbox``), logging to one file each in the state dir.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import sys
import time
import urllib.parse

import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def own_deployment(base, suffix: str):
    """``base`` with databases ``<prefix><suffix>_*`` and vhost ``<vhost>-<suffix>``, rebuilt
    from nothing (unless ``NESTEGG_TEST_KEEP_DEPLOYMENT=1``) and provisioned for real; the vhost
    is deleted afterwards. Derived from the session's own prefix, so two sessions with
    different prefixes never share it."""
    from common import provision

    settings = dataclasses.replace(
        base, db_prefix=f"{base.db_prefix}{suffix}_", amqp_vhost=f"{base.amqp_vhost}-{suffix}"
    )
    if os.environ.get("NESTEGG_TEST_KEEP_DEPLOYMENT") != "1":
        provision.reset_deployment(settings)
    provision.setup_all(settings)
    try:
        yield settings
    finally:
        api, auth = provision.rabbit_api(settings)
        vhost = urllib.parse.quote(settings.amqp_vhost, safe="")
        with contextlib.suppress(requests.RequestException):
            requests.delete(f"{api}/api/vhosts/{vhost}", auth=auth, timeout=10)


class StackFailed(RuntimeError):
    pass


class ServiceStack:
    """Services of one deployment as ``nameko run`` processes, started on demand.

    ``env`` goes to every child on top of the deployment's prefix and vhost; a Plaid sandbox
    port is chosen up front so the aggregation service can be pointed at it whenever it starts.
    """

    def __init__(self, settings, env: dict | None = None, *, name: str = "stack"):
        from common.stack import Stack

        self.settings = settings
        self.name = name
        self.plaid_url = f"http://127.0.0.1:{free_port()}"
        self.stack = Stack(
            settings,
            env={
                "NESTEGG_DB_PREFIX": settings.db_prefix,
                "NESTEGG_AMQP_VHOST": settings.amqp_vhost,
                "NESTEGG_PLAID_HOST": self.plaid_url,
                "NESTEGG_SYNC_POLL": "0.5",
                "NESTEGG_OUTBOX_INTERVAL": "0.5",
                **(env or {}),
            },
        )
        self.running: set[str] = set()

    def log_path(self, name: str):
        return self.stack.log_path(name)

    def _check_alive(self):
        dead = self.stack.exited()
        if dead:
            raise StackFailed(f"processes exited: {dead}; logs in {self.stack.log_dir}")

    def start(self, *services: str, timeout: float = 120.0) -> None:
        """Start the services not yet running; return when each answers ``health``."""
        from common.rpc_pool import RpcPool

        new = [s for s in services if s not in self.running]
        for service in new:
            self.stack.start_service(service)
        pool = RpcPool(self.settings.amqp_uri("gateway"), size=1, timeout=3.0)
        deadline = time.monotonic() + timeout
        try:
            for service in new:
                while True:
                    self._check_alive()
                    try:
                        if pool.call(service, "health").get("status") == "ok":
                            break
                    except Exception:  # noqa: BLE001 - still starting
                        pass
                    if time.monotonic() > deadline:
                        raise StackFailed(
                            f"{service} did not start; see {self.stack.log_path(service)}"
                        )
                    time.sleep(0.5)
                self.running.add(service)
        finally:
            pool.close()

    def start_plaid_sandbox(self, seed: str, timeout: float = 60.0) -> str:
        """The bundled Plaid sandbox on ``self.plaid_url`` (``python -m aggregation.sandbox``)."""
        if "plaid" in self.running:
            return self.plaid_url
        port = urllib.parse.urlsplit(self.plaid_url).port
        process = f"{self.name}-plaid"
        self.stack.start_process(
            process,
            [sys.executable, "-m", "aggregation.sandbox", "--port", str(port), "--seed", seed],
        )
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            try:
                requests.get(self.plaid_url, timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise StackFailed(
                        f"the Plaid sandbox did not start; see {self.stack.log_path(process)}"
                    ) from None
                time.sleep(0.2)
        self.running.add("plaid")
        return self.plaid_url

    def stop_all(self) -> None:
        self.stack.stop_all()
        self.running.clear()
