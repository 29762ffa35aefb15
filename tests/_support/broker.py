"""A throwaway RabbitMQ vhost for a test module or session (deleted afterwards)."""

from __future__ import annotations

import contextlib
import uuid

import requests

RABBIT_API = "http://127.0.0.1:15672/api"
AUTH = ("guest", "guest")


@contextlib.contextmanager
def throwaway_vhost(prefix: str):
    """Create ``<prefix>-<random>`` with full rights for the local admin; yield its name."""
    requests.get(f"{RABBIT_API}/overview", auth=AUTH, timeout=5).raise_for_status()
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    requests.put(f"{RABBIT_API}/vhosts/{name}", auth=AUTH, timeout=10).raise_for_status()
    requests.put(
        f"{RABBIT_API}/permissions/{name}/guest",
        auth=AUTH,
        timeout=10,
        json={"configure": ".*", "write": ".*", "read": ".*"},
    ).raise_for_status()
    try:
        yield name
    finally:
        requests.delete(f"{RABBIT_API}/vhosts/{name}", auth=AUTH, timeout=10)
