"""Session set-up shared by every test.

nameko containers need eventlet monkey-patching before anything else is imported (under plain
pytest they hang otherwise), and psycopg2 must be made green. Tests use their own deployment
prefix (databases ``nestegg_test_*``, broker vhost ``nestegg-test``, state dir
``.nestegg/test``) so they never touch the data of a running ``make run`` stack.
"""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()

from psycogreen.eventlet import patch_psycopg  # noqa: E402

patch_psycopg()

import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # shared test helpers: tests/_support
os.environ.setdefault("NESTEGG_ENV", "test")
os.environ.setdefault("NESTEGG_DB_PREFIX", "nestegg_test_")
os.environ.setdefault("NESTEGG_AMQP_VHOST", "nestegg-test")
os.environ.setdefault("NESTEGG_STATE_DIR", str(REPO / ".nestegg" / "test"))
# one trained categorisation model for every suite and stack of the session (trained once)
os.environ.setdefault("NESTEGG_ARTIFACT_DIR", str(REPO / ".nestegg" / "test" / "models"))
warnings.filterwarnings("ignore", category=DeprecationWarning, module="eventlet")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def settings():
    from common import config

    return config.load()


@pytest.fixture(scope="session")
def provisioned(settings):
    """The test deployment's databases, roles, migrations and broker definitions, for real,
    rebuilt from nothing at the start of each session (no data or queued message from an
    earlier run can make a test pass or fail)."""
    from common import provision

    if os.environ.get("NESTEGG_TEST_KEEP_DEPLOYMENT") != "1":
        provision.reset_deployment(settings)
    provision.setup_all(settings)
    return settings


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session", autouse=True)
def secret_log_guard():
    """Fail the session if any log record held a JWT, test password, TOTP seed, Plaid token or SSN."""
    from _support.log_guard import SecretLogGuard

    guard = SecretLogGuard()
    root = logging.getLogger()
    root.addHandler(guard)
    old_level = root.level
    root.setLevel(min(old_level, logging.INFO) if old_level else logging.INFO)
    yield guard
    root.removeHandler(guard)
    root.setLevel(old_level)
    assert not guard.leaks, f"secrets reached the logs: {guard.leaks[:10]}"
