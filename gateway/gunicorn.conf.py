"""gunicorn settings for the gateway (a Python config file: ``gunicorn -c gateway/gunicorn.conf.py
gateway.wsgi:app``).

gthread workers, never eventlet: the RPC pool gives each request thread its own started
``ClusterRpcProxy``. Bind address from ``NESTEGG_GATEWAY_HOST``/``NESTEGG_GATEWAY_PORT``.
"""

from common.config import load
from gateway.config import load_gateway_config

_settings = load()
_gateway = load_gateway_config()

bind = f"{_settings.gateway_host}:{_settings.gateway_port}"
worker_class = "gthread"
workers = _gateway.workers
threads = _gateway.threads
preload_app = False  # each worker builds its own app and RPC pool after the fork
timeout = _gateway.worker_timeout
graceful_timeout = 20
keepalive = 5
max_requests = 10000
max_requests_jitter = 1000
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
# X-Forwarded-* is honoured only by werkzeug's ProxyFix, for settings.trusted_proxies hops
forwarded_allow_ips = ""
proxy_allow_ips = ""
accesslog = "-"
errorlog = "-"
logger_class = "gateway.access_log.JsonAccessLogger"
proc_name = "nestegg-gateway"


def worker_exit(server, worker):
    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "extensions"):
        from gateway.app import shutdown

        shutdown(app)
