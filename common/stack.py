"""Start and stop the whole stack as real processes (used by ``nestegg run`` and the e2e tests).

Each domain service runs as ``nameko run --config common/nameko.yaml <svc>.service:<Class>``
with its own broker user; the gateway runs under gunicorn with gthread workers; local stand-ins
(the Plaid sandbox) run beside them. Output goes to one log file per process in the state dir.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from common.config import REPO_ROOT, SERVICES, Settings, state_dir

SERVICE_CLASSES = {s: f"{s}.service:{s.capitalize()}Service" for s in SERVICES}
BIN = Path(sys.executable).parent


def service_command(service: str) -> list[str]:
    return [
        str(BIN / "nameko"),
        "run",
        "--config",
        str(REPO_ROOT / "common" / "nameko.yaml"),
        SERVICE_CLASSES[service],
    ]


def gateway_command(settings: Settings, workers: int = 2, threads: int = 8) -> list[str]:
    return [
        str(BIN / "gunicorn"),
        "--config",
        str(REPO_ROOT / "gateway" / "gunicorn.conf.py"),
        "--bind",
        f"{settings.gateway_host}:{settings.gateway_port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "gateway.wsgi:app",
    ]


def base_environment(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")
    env["PYTHONPATH"] = str(REPO_ROOT) + (
        os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""
    )
    env.update(extra or {})
    return env


@dataclass
class Stack:
    settings: Settings
    env: dict = field(default_factory=dict)
    log_dir: Path | None = None
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self):
        self.log_dir = self.log_dir or state_dir() / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def _spawn(self, name: str, command: list[str], extra_env: dict) -> subprocess.Popen:
        self.stop(name)
        log = open(self.log_path(name), "ab")  # noqa: SIM115 - handed to the child
        process = subprocess.Popen(  # noqa: S603 - our own fixed commands
            command,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=base_environment({**self.env, **extra_env}),
            start_new_session=True,
        )
        log.close()
        self.processes[name] = process
        return process

    def start_service(self, service: str) -> subprocess.Popen:
        return self._spawn(
            service,
            service_command(service),
            {
                "NESTEGG_SERVICE": service,
                "NESTEGG_AMQP_URI": self.settings.amqp_uri(service),
            },
        )

    def start_gateway(self, workers: int = 2, threads: int = 8) -> subprocess.Popen:
        return self._spawn(
            "gateway",
            gateway_command(self.settings, workers, threads),
            {
                "NESTEGG_SERVICE": "gateway",
            },
        )

    def start_process(self, name: str, command: list[str], extra_env: dict | None = None):
        return self._spawn(name, command, extra_env or {})

    def start_all(self) -> None:
        for service in SERVICES:
            self.start_service(service)
        self.start_gateway()

    def stop(self, name: str, *, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def kill(self, name: str) -> None:
        self.stop(name, sig=signal.SIGKILL)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    def exited(self) -> dict[str, int]:
        return {n: p.returncode for n, p in self.processes.items() if p.poll() is not None}

    @property
    def gateway_url(self) -> str:
        return f"http://{self.settings.gateway_host}:{self.settings.gateway_port}"

    def wait_ready(self, timeout: float = 90.0) -> dict:
        """Poll ``/readyz`` until 200; raise with the last answer and any dead process."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            dead = self.exited()
            if dead:
                raise RuntimeError(f"processes exited early: {dead}; see logs in {self.log_dir}")
            try:
                response = requests.get(f"{self.gateway_url}/readyz", timeout=5)
                last = (
                    response.json()
                    if response.headers.get("content-type", "").endswith("json")
                    else None
                )
                if response.status_code == 200:
                    return last or {}
            except requests.RequestException as exc:
                last = str(exc)
            time.sleep(0.5)
        raise TimeoutError(f"stack not ready after {timeout:.0f}s; last /readyz: {last}")
