"""WSGI entry point for gunicorn: ``gunicorn -c gateway/gunicorn.conf.py gateway.wsgi:app``.

Each gunicorn worker imports this module after the fork (``preload_app`` is off), so each
worker has its own RPC pool and nothing connects to the broker before forking.
"""

from __future__ import annotations

from common.config import env
from common.logging import configure
from gateway.app import create_app

configure("gateway", env("NESTEGG_LOG_LEVEL", "INFO"))
app = create_app()
