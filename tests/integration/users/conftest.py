"""The users service in a real nameko container against the test database and broker.

RPCs are called as the gateway would: a ``ClusterRpcProxy`` with the gateway's broker user.
Access tokens are signed by a test ``TokenSigner`` whose verifier the boundary uses. The
service clock (``users.clock.now``) is replaced by a controllable one, and bcrypt runs at
cost 4 (``NESTEGG_BCRYPT_COST``) except where a test says otherwise.
"""

import datetime as dt
import itertools
import os
import uuid

import pytest
from sqlalchemy import text

os.environ["NESTEGG_BCRYPT_COST"] = "4"
os.environ["NESTEGG_USERS_SCRUB_INTERVAL"] = "1"

STRONG_PASSWORD = "velvet harbor quietly sings"
ALL_SCOPES = ("profile:read", "profile:write")
_counter = itertools.count()


class FakeClock:
    """Server time for the service; each test starts it 5 s into a fresh 30 s TOTP step."""

    def __init__(self):
        self.reset()

    def reset(self):
        real = dt.datetime.now(dt.UTC).timestamp()
        self.current = dt.datetime.fromtimestamp((int(real) // 30) * 30 + 5, dt.UTC)

    def now(self):
        return self.current

    def advance(self, seconds: float):
        self.current += dt.timedelta(seconds=seconds)

    def ts(self) -> float:
        return self.current.timestamp()


_CLOCK = FakeClock()


@pytest.fixture(scope="session")
def signer(settings):
    from common.principal import TokenSigner

    return TokenSigner(issuer=settings.jwt_issuer, audience=settings.jwt_audience)


@pytest.fixture(scope="package")
def event_sink(admin_amqp_uri):
    """An exclusive queue taking every users event while the tests run, so events whose real
    consumers are not running are still routable (else the outbox retries them forever)."""
    from kombu import Connection, Exchange, Queue

    with Connection(admin_amqp_uri) as conn:
        queue = Queue(
            "",
            Exchange("users.events", type="topic", passive=True),
            routing_key="#",
            exclusive=True,
            queue_arguments={"x-max-length": 1000},
            channel=conn.default_channel,
        )
        queue.declare()
        yield queue


@pytest.fixture(scope="package")
def users_service(provisioned, signer, event_sink):
    """One container for this test package (starting and stopping one costs seconds), with
    the service clock and the token verifier replaced for as long as it runs. Package scope
    (this folder has an ``__init__.py`` for it) stops it before other folders' tests run, so
    it never competes with their users containers for the ``rpc-users`` queue."""
    from nameko.containers import ServiceContainer

    import common.rpc
    from users import clock as clock_module
    from users.service import UsersService

    verifier = signer.verifier()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clock_module, "now", _CLOCK.now)
        patch.setattr(common.rpc, "default_verifier", lambda: verifier)
        container = ServiceContainer(
            UsersService,
            {
                "AMQP_URI": provisioned.amqp_uri("users"),
                "max_workers": 10,
                "DECLARE_EVENT_EXCHANGES": False,
                "AUTO_DELETE_EVENT_EXCHANGES": False,
                "HEARTBEAT": 20,
            },
        )
        container.start()
        yield container
        container.stop()


@pytest.fixture
def clock(users_service):
    _CLOCK.reset()
    return _CLOCK


@pytest.fixture
def tokens(signer, users_service):
    """``tokens(user_id, amr=..., scopes=..., auth_time=...)`` signs an access token."""

    def sign(user_id, *, amr=("pwd",), scopes=ALL_SCOPES, **kwargs):
        return signer.sign(user_id, amr=amr, scopes=scopes, **kwargs)

    return sign


def _proxy_config(provisioned):
    return {"AMQP_URI": provisioned.amqp_uri("gateway"), "HEARTBEAT": 20}


@pytest.fixture(scope="package")
def _session_rpc(provisioned, users_service):
    from nameko.standalone.rpc import ClusterRpcProxy

    import users.errors  # noqa: F401 - registers MfaCodeRequired for deserialisation

    with ClusterRpcProxy(_proxy_config(provisioned), timeout=30) as proxy:
        yield proxy.users


@pytest.fixture
def rpc(_session_rpc, clock):
    return _session_rpc


@pytest.fixture
def gateway_proxies(provisioned, users_service, clock):
    """Open ``n`` independent proxies (one per concurrent caller, like the gateway's pool)."""
    import contextlib

    from nameko.standalone.rpc import ClusterRpcProxy

    stack = contextlib.ExitStack()

    def open_many(n):
        return [
            stack.enter_context(ClusterRpcProxy(_proxy_config(provisioned), timeout=30)).users
            for _ in range(n)
        ]

    yield open_many
    stack.close()


@pytest.fixture(scope="session")
def users_engine(provisioned):
    """The users *service role* (not the admin), as the service itself connects."""
    from common.db import make_engine

    engine = make_engine(provisioned.database_url("users"), pool_size=5)
    yield engine
    engine.dispose()


@pytest.fixture
def db(users_engine):
    def query(sql, **params):
        with users_engine.begin() as conn:
            return conn.execute(text(sql), params).mappings().all()

    return query


def unique_email(tag="user"):
    return f"{tag}.{uuid.uuid4().hex[:10]}{next(_counter)}@example.org"


@pytest.fixture
def register(rpc):
    def make(**overrides):
        payload = {
            "email": unique_email(),
            "password": STRONG_PASSWORD,
            "name": "Robin Quill",
            **overrides,
        }
        profile = rpc.register(payload, {"ip": "203.0.113.7", "user_agent": "pytest"})
        return profile, payload

    return make


@pytest.fixture
def enrolled(rpc, register, tokens, clock):
    """A registered user with TOTP confirmed: (profile, payload, secret, recovery_codes)."""
    from users import totp

    def make(**overrides):
        profile, payload = register(**overrides)
        token = tokens(profile["id"])
        enrolment = rpc.mfa_totp_enroll(token)
        secret = enrolment["secret"]
        codes = rpc.mfa_totp_confirm(token, {"code": totp.code_at(secret, clock.ts())})
        clock.advance(30)  # the confirming code's step is spent; tests start on a fresh one
        return profile, payload, secret, codes["recovery_codes"]

    return make


def outbox_events(db, event_type, user_id):
    return [
        r["payload"]
        for r in db(
            "SELECT payload FROM outbox WHERE event_type = :t AND payload->'data'->>'user_id' = :u "
            "ORDER BY created_at",
            t=event_type,
            u=user_id,
        )
    ]


@pytest.fixture
def outbox(db):
    return lambda event_type, user_id: outbox_events(db, event_type, user_id)
