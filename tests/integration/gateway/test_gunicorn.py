"""The gateway under real gunicorn gthread workers (not monkey-patched) with the real pool."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from common.config import SERVICES

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn(amqp_uri, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "NESTEGG_GATEWAY_PORT": str(port),
        "NESTEGG_AMQP_URI": amqp_uri,
        "NESTEGG_GATEWAY_WORKERS": "1",
        "NESTEGG_GATEWAY_THREADS": "4",
        "NESTEGG_GATEWAY_READY_TIMEOUT": "1.5",
    }
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "-c",
                "gateway/gunicorn.conf.py",
                "gateway.wsgi:app",
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if requests.get(f"{base}/healthz", timeout=1).ok:
                break
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("gunicorn did not start:\n" + log_path.read_text())
        time.sleep(0.2)
    yield base, log_path
    proc.send_signal(signal.SIGINT)  # quick shutdown
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_gunicorn_serves_probes_with_headers_and_json_access_log(gunicorn, start_services):
    base, log_path = gunicorn
    response = requests.get(f"{base}/healthz?code=SECRETCODE", headers={"X-Request-ID": "g-1"})
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "g-1"
    assert "/" not in response.headers.get("Server", "")  # no version banner
    assert requests.request("TRACE", f"{base}/healthz").status_code == 405

    started = time.monotonic()
    not_ready = requests.get(f"{base}/readyz", timeout=10)
    assert time.monotonic() - started < 1.5 + 2.0
    assert not_ready.status_code == 503  # no service is running yet

    start_services(*SERVICES)
    ready = requests.get(f"{base}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ok"

    time.sleep(0.3)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("logger") == "gateway.access"]
    assert any(a["path"] == "/healthz" and a["request_id"] == "g-1" for a in access)
    assert "SECRETCODE" not in log_path.read_text()
