"""WSGI entry point for gunicorn: ``gunicorn -c gateway/gunicorn.conf.py gateway.wsgi:app``.

Each gunicorn worker imports this module after the fork (``preload_app`` is off), so each
worker has its own RPC pool and nothing connects to the broker before forking.
"""

from __future__ import annotations

import logging

from common.config import env
from common.logging import configure
from gateway.app import create_app

configure("gateway", env("NESTEGG_LOG_LEVEL", "INFO"))
# py-amqp warns about every basic.return (an RPC to a service that is not running), which the
# pool already reports as a 503; keep the library loggers to real problems
for name, level in (
    ("amqp", logging.ERROR),
    ("kombu", logging.WARNING),
    ("nameko", logging.WARNING),
):
    logging.getLogger(name).setLevel(level)
app = create_app()
