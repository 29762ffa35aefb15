"""Boot the real stack, watch /readyz follow a service dying and coming back."""

import time

import pytest
import requests

from common.config import SERVICES

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def readyz(stack):
    response = requests.get(f"{stack.gateway_url}/readyz", timeout=15)
    return response.status_code, response.json()


def service_states(body) -> dict[str, bool]:
    checks = body["checks"]
    return {
        name.split(":", 1)[1]: check["status"] == "ok"
        for name, check in checks.items()
        if name.startswith("service:")
    }


def wait_for(stack, want_status, predicate, timeout):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        status, body = readyz(stack)
        last = (status, body)
        if status == want_status and predicate(body):
            return time.monotonic(), body
        time.sleep(0.25)
    raise AssertionError(f"/readyz never reached {want_status}: {last}")


def test_all_six_services_report_ready(stack):
    status, body = readyz(stack)
    assert status == 200
    states = service_states(body)
    assert set(states) == set(SERVICES)
    assert all(states.values())
    assert body["checks"]["broker"]["status"] == "ok"
    assert body["checks"]["redis"]["status"] == "ok"
    assert body["status"] == "ok"


def test_a_killed_service_is_reported_down_within_10s_and_recovers(stack):
    stack.kill("portfolio")
    killed_at = time.monotonic()
    seen_at, body = wait_for(stack, 503, lambda b: service_states(b)["portfolio"] is False, 10)
    assert seen_at - killed_at <= 10
    states = service_states(body)
    assert [name for name, ok in states.items() if not ok] == ["portfolio"]

    stack.start_service("portfolio")
    wait_for(stack, 200, lambda b: all(service_states(b).values()), 90)


def test_health_endpoints_and_request_id(stack):
    response = requests.get(
        f"{stack.gateway_url}/healthz", headers={"X-Request-ID": "e2e-abc-123"}, timeout=5
    )
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "e2e-abc-123"
    missing = requests.get(f"{stack.gateway_url}/nope", timeout=5)
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("application/problem+json")
