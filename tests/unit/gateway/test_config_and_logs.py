import datetime as dt
import json

import pytest

from common.config import Settings
from gateway.access_log import access_entry
from gateway.config import GatewayConfig, gateway_amqp_uri, load_gateway_config


def test_gateway_amqp_uri_uses_the_gateway_broker_user(monkeypatch, tmp_path):
    monkeypatch.setenv("NESTEGG_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("NESTEGG_AMQP_URI", raising=False)
    monkeypatch.delenv("NESTEGG_GATEWAY_AMQP_URI", raising=False)
    settings = Settings(db_prefix="acme_", amqp_vhost="v1", amqp_port=5673)
    uri = gateway_amqp_uri(settings)
    assert uri.startswith("pyamqp://acme-gateway:")
    assert uri.endswith("@127.0.0.1:5673/v1")
    assert uri == settings.amqp_uri("gateway")


def test_gateway_amqp_uri_override(monkeypatch):
    monkeypatch.setenv("NESTEGG_GATEWAY_AMQP_URI", "pyamqp://u:p@h:1/x")
    assert gateway_amqp_uri(Settings()) == "pyamqp://u:p@h:1/x"


def test_gateway_config_from_env(monkeypatch):
    monkeypatch.setenv("NESTEGG_GATEWAY_THREADS", "12")
    monkeypatch.delenv("NESTEGG_GATEWAY_RPC_POOL_SIZE", raising=False)
    config = load_gateway_config()
    assert config.threads == 12 and config.rpc_pool_size == 12  # one proxy per thread


@pytest.mark.parametrize(
    "bad", [{"workers": 0}, {"threads": -1}, {"rpc_pool_size": 0}, {"ready_timeout": 0}]
)
def test_gateway_config_rejects_nonsense(bad):
    with pytest.raises(ValueError, match="gateway"):
        GatewayConfig(**bad)


def test_gateway_config_rejects_non_numbers(monkeypatch):
    monkeypatch.setenv("NESTEGG_GATEWAY_THREADS", "lots")
    with pytest.raises(ValueError, match="NESTEGG_GATEWAY_THREADS"):
        load_gateway_config()


def test_access_log_entry_has_no_query_string_and_is_json():
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": '/oauth/callback"x',
        "QUERY_STRING": "code=SECRETCODE&state=abc",
        "REMOTE_ADDR": "127.0.0.1",
    }
    entry = access_entry(
        "200 OK", environ, dt.timedelta(milliseconds=12), 34, [("X-Request-ID", "rid-1")]
    )
    line = json.dumps(entry)
    assert "SECRETCODE" not in line and "?" not in entry["path"]
    assert json.loads(line)["path"] == '/oauth/callback"x'
    assert entry["status"] == 200 and entry["request_id"] == "rid-1"
    assert entry["duration_ms"] == 12.0


def test_wsgi_module_builds_the_app(monkeypatch):
    """Importing gateway.wsgi must not connect anywhere (the pool and Redis are lazy)."""
    monkeypatch.setenv("NESTEGG_GATEWAY_AMQP_URI", "pyamqp://u:p@127.0.0.1:1/none")
    monkeypatch.setenv("NESTEGG_REDIS_URL", "redis://127.0.0.1:1/0")
    import importlib
    import logging

    root_handlers = list(logging.getLogger().handlers)
    try:
        module = importlib.import_module("gateway.wsgi")
        module = importlib.reload(module)
        assert module.app.extensions["nestegg.rpc"].idle == 0
        assert module.app.test_client().get("/healthz").status_code == 200
    finally:
        root = logging.getLogger()
        for handler in list(root.handlers):
            if handler not in root_handlers:
                root.removeHandler(handler)
