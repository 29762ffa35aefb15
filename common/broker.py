"""RabbitMQ topology and per-service permissions, rendered to ``rabbitmq/definitions.json``.

Least privilege per broker user (configure / write / read regular expressions):
- a domain service may declare and consume only its own RPC queue (``rpc-<svc>``), its own reply
  queues and its own event-handler queues (``evt-*--<svc>.*``); it publishes to ``nameko-rpc``
  and to its own ``<svc>.events`` exchange only, and binds to (reads) the event exchanges;
- the gateway may only publish RPC requests and consume its own reply queues.
Event exchanges, the dead-letter exchange and queue are declared here, at deploy time (services
run with ``DECLARE_EVENT_EXCHANGES: false``). A policy dead-letters every ``evt-`` queue.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from pathlib import Path

from common.config import REPO_ROOT, SERVICES, Settings

DEFINITIONS_PATH = REPO_ROOT / "rabbitmq" / "definitions.json"
DLX = "nestegg.dlx"
DEAD_LETTER_QUEUE = "nestegg.dead-letter"
GATEWAY = "gateway"


def _any(*alternatives: str) -> str:
    return "^(" + "|".join(alternatives) + ")$"


def permissions_for(service: str) -> dict[str, str]:
    if service == GATEWAY:
        reply = r"rpc\.reply-standalone_rpc_proxy-[0-9a-f-]+"
        return {
            "configure": _any(reply, "nameko-rpc"),
            "write": _any(reply, "nameko-rpc"),
            "read": _any(reply, "nameko-rpc"),
        }
    own_queues = (
        f"rpc-{service}",
        rf"rpc\.reply-{service}-[0-9a-f-]+",
        rf"evt-[a-z_]+-[a-z_]+--{service}\.[a-z_0-9]+",
    )
    return {
        "configure": _any(*own_queues, "nameko-rpc"),
        "write": _any(*own_queues, "nameko-rpc", re.escape(f"{service}.events")),
        "read": _any(*own_queues, "nameko-rpc", r"[a-z]+\.events"),
    }


def definitions(settings: Settings) -> dict:
    """The broker definitions for one deployment (vhost and user prefix from settings)."""
    vhost = settings.amqp_vhost
    principals = list(SERVICES) + [GATEWAY]
    users = [{"name": settings.broker_user(p), "tags": ""} for p in principals]
    permissions = [
        {"user": settings.broker_user(p), "vhost": vhost, **permissions_for(p)} for p in principals
    ]
    exchange = {
        "vhost": vhost,
        "type": "topic",
        "durable": True,
        "auto_delete": False,
        "internal": False,
        "arguments": {},
    }
    exchanges = [{"name": "nameko-rpc", **exchange}]
    exchanges += [{"name": f"{s}.events", **exchange} for s in SERVICES]
    exchanges.append({**exchange, "name": DLX, "type": "fanout"})
    return {
        "rabbit_version": "3.10",
        "vhosts": [{"name": vhost}],
        "users": users,
        "permissions": permissions,
        "policies": [
            {
                "vhost": vhost,
                "name": "nestegg-event-dead-letter",
                "pattern": "^evt-",
                "apply-to": "queues",
                "priority": 0,
                "definition": {"dead-letter-exchange": DLX},
            }
        ],
        "exchanges": exchanges,
        "queues": [
            {
                "name": DEAD_LETTER_QUEUE,
                "vhost": vhost,
                "durable": True,
                "auto_delete": False,
                "arguments": {},
            }
        ],
        "bindings": [
            {
                "source": DLX,
                "vhost": vhost,
                "destination": DEAD_LETTER_QUEUE,
                "destination_type": "queue",
                "routing_key": "",
                "arguments": {},
            }
        ],
    }


def rabbit_password_hash(password: str, salt: bytes | None = None) -> str:
    """RabbitMQ's ``rabbit_password_hashing_sha256``: base64(salt || sha256(salt || password))."""
    salt = salt if salt is not None else os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def with_passwords(defs: dict, password_for) -> dict:
    rendered = json.loads(json.dumps(defs))
    for user in rendered["users"]:
        user["password_hash"] = rabbit_password_hash(password_for(user["name"]))
        user["hashing_algorithm"] = "rabbit_password_hashing_sha256"
    return rendered


def write_definitions_file(settings: Settings, path: Path = DEFINITIONS_PATH) -> None:
    path.write_text(json.dumps(definitions(settings), indent=2) + "\n")
