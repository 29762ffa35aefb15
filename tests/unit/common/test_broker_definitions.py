import json
import re

import pytest

from common import broker, config
from common.config import Settings


def test_committed_definitions_match_the_generator():
    committed = json.loads(broker.DEFINITIONS_PATH.read_text())
    assert committed == broker.definitions(Settings())


def test_no_password_or_hash_is_committed():
    text = broker.DEFINITIONS_PATH.read_text()
    assert "password" not in text


def _allowed(user: str, kind: str, resource: str) -> bool:
    return re.fullmatch(broker.permissions_for(user)[kind], resource) is not None


@pytest.mark.parametrize("service", config.SERVICES)
def test_each_service_may_use_only_its_own_queues(service):
    others = [s for s in config.SERVICES if s != service]
    assert _allowed(service, "read", f"rpc-{service}")
    assert _allowed(service, "configure", f"rpc-{service}")
    assert _allowed(service, "read", f"rpc.reply-{service}-0b6f2a1e-5d1c-4f0e-9b1a-2c3d4e5f6a7b")
    assert _allowed(service, "read", f"evt-users-user_registered--{service}.on_user_registered")
    assert _allowed(service, "write", f"{service}.events")
    for other in others:
        for kind in ("configure", "write", "read"):
            assert not _allowed(service, kind, f"rpc-{other}")
            assert not _allowed(service, kind, f"evt-users-user_registered--{other}.handler")
        assert not _allowed(service, "write", f"{other}.events")
        assert not _allowed(service, "configure", f"{other}.events")


def test_gateway_may_only_call_and_read_its_replies():
    assert _allowed("gateway", "write", "nameko-rpc")
    assert _allowed("gateway", "read", "rpc.reply-standalone_rpc_proxy-0b6f2a1e-5d1c")
    for service in config.SERVICES:
        assert not _allowed("gateway", "read", f"rpc-{service}")
        assert not _allowed("gateway", "write", f"{service}.events")


def test_password_hash_is_rabbitmq_sha256_format():
    import base64
    import hashlib

    encoded = broker.rabbit_password_hash("pw", salt=b"\x00\x01\x02\x03")
    raw = base64.b64decode(encoded)
    assert raw[:4] == b"\x00\x01\x02\x03"
    assert raw[4:] == hashlib.sha256(b"\x00\x01\x02\x03pw").digest()


def test_event_queues_dead_letter():
    policy = broker.definitions(Settings())["policies"][0]
    assert policy["pattern"] == "^evt-"
    assert policy["definition"]["dead-letter-exchange"] == broker.DLX
