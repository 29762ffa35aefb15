"""docker-compose.yml stays consistent with the native runner (no Docker engine needed)."""

import importlib
import re
import shlex
from pathlib import Path

import pytest
import yaml

from common import stack
from common.config import SERVICES, Settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
DEFAULTS = Settings()


def _argv(service: str) -> list[str]:
    command = COMPOSE["services"][service]["command"]
    if command[:2] == ["sh", "-c"]:
        return shlex.split(command[2].replace("$$", "$"))
    return command


def _target(argv: list[str]) -> str:
    return next(arg for arg in argv if re.fullmatch(r"[a-z_.]+:[A-Za-z_]+", arg))


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_command_names_a_real_service_class(service):
    argv = _argv(service)
    assert argv[argv.index("exec") + 1 :][:2] == ["nameko", "run"]
    target = _target(argv)
    assert target == stack.SERVICE_CLASSES[service]  # same as the native runner
    module, cls = target.split(":")
    service_cls = getattr(importlib.import_module(module), cls)
    assert service_cls.name == service
    config_path = argv[argv.index("--config") + 1]
    assert (REPO / config_path).is_file()
    assert f"nestegg amqp-uri {service}" in COMPOSE["services"][service]["command"][2]


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_environment_names_itself(service):
    env = COMPOSE["services"][service]["environment"]
    assert env["NESTEGG_SERVICE"] == service
    assert env["NESTEGG_AMQP_VHOST"] == DEFAULTS.amqp_vhost


def test_gateway_command_and_port_match_the_native_runner():
    argv = _argv("gateway")
    native = stack.gateway_command(DEFAULTS)
    assert _target(argv) == _target(native) == "gateway.wsgi:app"
    assert argv[argv.index("--config") + 1] == "gateway/gunicorn.conf.py"
    assert (REPO / "gateway" / "gunicorn.conf.py").is_file()
    importlib.import_module("gateway.wsgi")
    port = argv[argv.index("--bind") + 1].rsplit(":", 1)[1]
    assert int(port) == DEFAULTS.gateway_port
    assert COMPOSE["services"]["gateway"]["ports"] == [f"127.0.0.1:{port}:{port}"]


def test_server_ports_match_the_defaults():
    def published(name):
        return {int(p.rsplit(":", 1)[1]) for p in COMPOSE["services"][name]["ports"]}

    assert published("rabbitmq") == {DEFAULTS.amqp_port, 15672}
    assert published("postgres") == {DEFAULTS.pg_port}
    assert published("redis") == {6379}
    assert "management" in COMPOSE["services"]["rabbitmq"]["image"]


def test_every_environment_variable_is_one_the_code_reads():
    source = "\n".join(p.read_text() for p in (REPO / "common").rglob("*.py"))
    source += (REPO / "common" / "nameko.yaml").read_text()
    for name, spec in COMPOSE["services"].items():
        for var in spec.get("environment", {}):
            if var.startswith("NESTEGG_"):
                assert var in source, f"{name}: {var} is not read anywhere"


def test_every_service_has_a_container():
    assert set(SERVICES) | {"gateway", "setup"} <= set(COMPOSE["services"])
    assert COMPOSE["services"]["setup"]["command"] == ["nestegg", "setup"]


def test_the_broker_gets_the_management_plugin_and_config_from_the_repo():
    mounts = COMPOSE["services"]["rabbitmq"]["volumes"]
    assert any(m.startswith("./rabbitmq/enabled_plugins:") for m in mounts)
    assert "rabbitmq_management" in (REPO / "rabbitmq" / "enabled_plugins").read_text()
    assert any(m.startswith("./rabbitmq/rabbitmq.conf:") for m in mounts)
