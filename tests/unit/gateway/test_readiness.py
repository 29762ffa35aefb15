import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from common.config import SERVICES
from common.errors import ServiceUnavailable
from common.rpc_pool import GatewayTimeout
from gateway.readiness import readiness_report


def test_healthz_touches_nothing(make_app, fake_rpc):
    response = make_app(rpc=fake_rpc).test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert fake_rpc.calls == []


def test_readyz_200_when_everything_answers(make_app, fake_rpc):
    response = make_app(rpc=fake_rpc).test_client().get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"broker", "redis"} | {f"service:{s}" for s in SERVICES}
    assert all(c["status"] == "ok" for c in body["checks"].values())
    assert {c["method"] for c in fake_rpc.calls} == {"health"}
    assert all(c["timeout"] == 0.5 for c in fake_rpc.calls)  # the short readiness timeout


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (ServiceUnavailable("not running"), "down"),
        (GatewayTimeout("late"), "timeout"),
        ({"service": "portfolio", "status": "degraded"}, "degraded"),
        (RuntimeError("boom"), "down"),
        ("not a dict", "degraded"),
    ],
)
def test_readyz_503_names_the_broken_service(make_app, rpc_with, reply, expected):
    response = make_app(rpc=rpc_with({"portfolio": reply})).test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["service:portfolio"]["status"] == expected
    others = {k: v for k, v in body["checks"].items() if k != "service:portfolio"}
    assert all(c["status"] == "ok" for c in others.values())
    assert "boom" not in response.get_data(as_text=True)  # no internals


def test_readyz_503_when_broker_down(make_app, rpc_with):
    rpc = rpc_with(broker_error=ConnectionRefusedError(111, "refused"))
    body = make_app(rpc=rpc).test_client().get("/readyz").get_json()
    assert body["checks"]["broker"]["status"] == "down"


def test_readyz_503_when_redis_down(make_app, redis_with):
    response = make_app(redis=redis_with(ok=False)).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["redis"]["status"] == "down"


def test_a_hanging_check_is_reported_as_timeout_within_the_bound(rpc_with, redis_with):
    release = threading.Event()

    def hang(*args, **kwargs):
        release.wait(5)
        return {"status": "ok"}

    rpc = rpc_with({"users": hang})
    with ThreadPoolExecutor(max_workers=8) as executor:
        started = time.monotonic()
        report = readiness_report(rpc, redis_with(), SERVICES, timeout=0.2, executor=executor)
        elapsed = time.monotonic() - started
        release.set()
    assert report["status"] == "unavailable"
    assert report["checks"]["service:users"]["status"] == "timeout"
    assert report["checks"]["service:portfolio"]["status"] == "ok"
    assert elapsed < 0.2 + 0.5 + 1.0  # the configured timeout + margin, never the 5 s hang


def test_checks_run_in_parallel(rpc_with, redis_with):
    barrier = threading.Barrier(len(SERVICES), timeout=2)

    def meet(*args, **kwargs):
        barrier.wait()  # only succeeds if all service checks are in flight together
        return {"status": "ok"}

    rpc = rpc_with({s: meet for s in SERVICES})
    with ThreadPoolExecutor(max_workers=len(SERVICES) + 2) as executor:
        report = readiness_report(rpc, redis_with(), SERVICES, timeout=3, executor=executor)
    assert report["status"] == "ok"


def test_missing_redis_client_counts_as_down(rpc_with):
    with ThreadPoolExecutor(max_workers=2) as executor:
        report = readiness_report(rpc_with(), None, [], timeout=1, executor=executor)
    assert report["checks"]["redis"]["status"] == "down"


@pytest.mark.parametrize("timeout", [0, -1])
def test_bad_timeout_is_refused(rpc_with, redis_with, timeout):
    with ThreadPoolExecutor(max_workers=1) as executor, pytest.raises(ValueError, match="positive"):
        readiness_report(rpc_with(), redis_with(), [], timeout=timeout, executor=executor)
