"""Idempotent set-up of the real parts: databases and roles, broker definitions, migrations.

Run by ``nestegg setup`` (and so by ``make run``) and by the test suite for its own prefix.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import logging
import time
import urllib.parse

import psycopg2
import requests
from psycopg2 import sql

from common import broker, migrate
from common.config import SERVICES, Settings
from common.credentials import secret_for

log = logging.getLogger(__name__)


@contextlib.contextmanager
def _admin_cursor(settings: Settings, dbname: str | None = None):
    """Autocommit cursor as the PostgreSQL admin (CREATE DATABASE cannot run in a transaction)."""
    dsn = settings.pg_admin_dsn
    if dbname:
        parts = urllib.parse.urlsplit(dsn)
        dsn = urllib.parse.urlunsplit(parts._replace(path=f"/{dbname}"))
    conn = psycopg2.connect(dsn, connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def provision_database(settings: Settings, service: str) -> None:
    """Role and database of one service; only that role may connect to that database."""
    role = settings.database_role(service)
    dbname = settings.database_name(service)
    password = secret_for(f"db:{role}")
    with _admin_cursor(settings) as cur:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
        verb = "ALTER" if cur.fetchone() else "CREATE"
        cur.execute(
            sql.SQL(
                verb + " ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                "NOINHERIT PASSWORD %s"
            ).format(sql.Identifier(role)),
            (password,),
        )
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
        if not cur.fetchone():
            cur.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8'").format(
                    sql.Identifier(dbname), sql.Identifier(role)
                )
            )
        cur.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(dbname)))
        cur.execute(
            sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                sql.Identifier(dbname), sql.Identifier(role)
            )
        )
    with _admin_cursor(settings, dbname) as cur:
        cur.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        cur.execute(
            sql.SQL("GRANT USAGE, CREATE ON SCHEMA public TO {}").format(sql.Identifier(role))
        )


def rabbit_api(settings: Settings) -> tuple[str, tuple[str, str]]:
    parts = urllib.parse.urlsplit(settings.rabbit_api_uri)
    base = f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}"
    return base, (
        urllib.parse.unquote(parts.username or "guest"),
        urllib.parse.unquote(parts.password or "guest"),
    )


def wait_for_management(settings: Settings, timeout: float = 60.0) -> None:
    base, auth = rabbit_api(settings)
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"{base}/api/overview", auth=auth, timeout=3).ok:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"RabbitMQ management API not reachable at {base}; "
                "enable it with: rabbitmq-plugins enable rabbitmq_management"
            )
        time.sleep(1)


def apply_broker_definitions(settings: Settings) -> None:
    """Import the vhost, users (generated passwords), permissions, exchanges and policy."""
    wait_for_management(settings)
    base, auth = rabbit_api(settings)
    defs = broker.with_passwords(
        broker.definitions(settings), lambda user: secret_for(f"amqp:{user}")
    )
    response = requests.post(
        f"{base}/api/definitions",
        auth=auth,
        timeout=30,
        headers={"content-type": "application/json"},
        data=json.dumps(defs),
    )
    if not response.ok:
        raise RuntimeError(f"importing broker definitions failed: HTTP {response.status_code}")
    # the admin (guest locally) also gets the vhost, for operators and the test harness
    admin = auth[0]
    vhost = urllib.parse.quote(settings.amqp_vhost, safe="")
    requests.put(
        f"{base}/api/permissions/{vhost}/{admin}",
        auth=auth,
        timeout=10,
        json={"configure": ".*", "write": ".*", "read": ".*"},
    ).raise_for_status()


def reset_deployment(settings: Settings) -> None:
    """Drop a deployment's databases and broker vhost (tests and benchmarks start clean).

    Refuses the default deployment so a dev stack's data can never be wiped by a test run.
    """
    if settings.db_prefix == "nestegg_" or settings.amqp_vhost == "nestegg":
        raise RuntimeError("refusing to reset the default deployment")
    for service in SERVICES:
        with _admin_cursor(settings) as cur:
            cur.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(settings.database_name(service))
                )
            )
    base, auth = rabbit_api(settings)
    vhost = urllib.parse.quote(settings.amqp_vhost, safe="")
    response = requests.delete(f"{base}/api/vhosts/{vhost}", auth=auth, timeout=30)
    if response.status_code not in (204, 404):
        raise RuntimeError(f"deleting vhost {settings.amqp_vhost!r} failed: {response.status_code}")


def migrate_all(settings: Settings) -> None:
    for service in SERVICES:
        migrate.upgrade(service, url=settings.database_url(service))
        harden(settings, service)


def harden(settings: Settings, service: str) -> None:
    """Admin-only steps a service declares after its migrations (``<svc>/provision_hooks.py``),
    e.g. handing an append-only table to a NOLOGIN owner role. Discovered by name so that
    common/ imports no service module statically."""
    if importlib.util.find_spec(f"{service}.provision_hooks") is None:
        return
    hooks = importlib.import_module(f"{service}.provision_hooks")
    with _admin_cursor(settings, settings.database_name(service)) as cur:
        hooks.harden(cur, settings)


def setup_all(settings: Settings, *, broker_too: bool = True) -> None:
    for service in SERVICES:
        provision_database(settings, service)
    migrate_all(settings)
    if broker_too:
        apply_broker_definitions(settings)
