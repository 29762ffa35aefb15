"""Security tests of the identity layer: the real users service as a ``nameko run`` process
on a deployment of the suite's own (databases and vhost, so no other test's process answers its
RPCs or relays its events), the Flask app over the real RPC pool and real Redis, driven through
the Flask test client. The BOLA matrix also starts aggregation (with the bundled Plaid
sandbox), transactions and portfolio (``domain_services``).

Helpers: :class:`Gateway` (an app plus sign-in helpers), ``pkce()``, ``totp_at``; a session-wide
log guard (see ``secret_log_guard``) fails the run if any log record carries a secret.
"""

import base64
import dataclasses
import hashlib
import secrets
import time
import uuid
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

PASSWORD = "marble otter sings quietly at noon"
CLI = "nestegg-cli"
REDIRECT = "http://127.0.0.1:8765/callback"


# --- the session-wide secret log guard lives in tests/_support/log_guard.py ----------------------
from _support.log_guard import TEST_PASSWORDS, SecretLogGuard, remember_seed  # noqa: E402,F401


# --- infrastructure --------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def provisioned(settings):
    """This suite's own deployment (``<prefix>sec_*`` databases, ``<vhost>-sec`` vhost with the
    real broker definitions): its processes answer no other suite's RPCs and relay no other
    suite's outbox. Every fixture and test of tests/security sees these settings."""
    from _support.service_stack import own_deployment

    with own_deployment(settings, "sec") as deployment:
        yield deployment


@pytest.fixture(scope="session")
def signing_issuer(provisioned):
    """The gateway's real issuer (key provider keypair); publishes the key services read."""
    from gateway.auth.tokens import AccessTokenIssuer

    issuer = AccessTokenIssuer.from_key_provider(provisioned)
    issuer.publish_public_key()
    return issuer


@pytest.fixture(scope="session")
def service_stack(provisioned, signing_issuer):
    """The suite's services as ``nameko run`` processes (bcrypt cost 4 for speed), started on
    demand: ``users_process`` starts the users service; ``domain_services`` adds the Plaid
    sandbox, aggregation, transactions and portfolio (only the BOLA matrix needs them)."""
    from _support.service_stack import ServiceStack

    stack = ServiceStack(provisioned, env={"NESTEGG_BCRYPT_COST": "4"}, name="security")
    yield stack
    stack.stop_all()


@pytest.fixture(scope="session")
def users_process(service_stack):
    """The real users service."""
    service_stack.start("users")
    return service_stack


@pytest.fixture(scope="session")
def domain_services(users_process):
    """Users plus the Plaid sandbox, aggregation, transactions and portfolio (real processes)."""
    users_process.start_plaid_sandbox(seed=f"sec-{uuid.uuid4().hex[:6]}")
    users_process.start("aggregation", "transactions", "portfolio")
    return users_process


@pytest.fixture(scope="session")
def rpc_pool(users_process, provisioned):
    from common.rpc_pool import RpcPool

    pool = RpcPool(provisioned.amqp_uri("gateway"), size=8, timeout=30.0)
    yield pool
    pool.close()


LOOSE_LIMITS = dict(
    login_limit="1000/minute",
    token_limit="1000/minute",
    register_limit="1000/minute",
    reset_limit="1000/minute",
    mfa_limit="1000/minute",
    api_user_limit="5000/minute",
)


@pytest.fixture
def make_gateway(provisioned, rpc_pool, signing_issuer):
    """``make_gateway(**auth_config_overrides)`` -> Gateway. Each gateway has its own rate-limit
    key prefix, so tests do not share buckets."""
    from gateway.app import create_app
    from gateway.auth.config import AuthConfig
    from gateway.config import GatewayConfig

    made = []

    def make(settings=None, **overrides):
        config = AuthConfig(
            **{
                "ratelimit_key_prefix": f"sec-{uuid.uuid4().hex[:8]}",
                **LOOSE_LIMITS,
                **overrides,
            }
        )
        app = create_app(
            settings or provisioned,
            rpc_pool,
            gateway_config=GatewayConfig(ready_timeout=1.0),
            auth_config=config,
            token_issuer=signing_issuer,
        )
        gateway = Gateway(app)
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        gateway.ext.audit.flush()
        gateway.ext.audit.close()


@pytest.fixture
def gw(make_gateway):
    return make_gateway()


# --- helpers ---------------------------------------------------------------------------------------
def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def totp_at(secret: str, offset_steps: int = 0) -> str:
    import pyotp

    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


class _Inputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inputs = {}
        self.form_action = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name"):
            self.inputs[attrs["name"]] = attrs.get("value", "")
        if tag == "form":
            self.form_action = attrs.get("action")


def parse_form(html: str) -> _Inputs:
    parser = _Inputs()
    parser.feed(html)
    return parser


def unique_email(tag="sec"):
    return f"{tag}.{uuid.uuid4().hex[:12]}@example.org"


@dataclasses.dataclass
class Tokens:
    access_token: str
    refresh_token: str | None
    scope: str
    raw: dict


class Gateway:
    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        self.ext = app.extensions["nestegg.auth"]

    def authorize_url(
        self,
        *,
        client_id=CLI,
        redirect_uri=REDIRECT,
        challenge=None,
        method="S256",
        scope="profile",
        state="st-1",
        **extra,
    ):
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
        }
        if challenge is not None:
            params["code_challenge"] = challenge
        if method is not None and challenge is not None:
            params["code_challenge_method"] = method
        params.update(extra)
        return "/oauth/authorize?" + urlencode(params)

    def open_form(self, url, client=None):
        client = client or self.client
        page = client.get(url)
        assert page.status_code == 200, page.get_data(as_text=True)[:500]
        return parse_form(page.get_data(as_text=True))

    def submit(self, form, fields, client=None):
        client = client or self.client
        data = {"csrf_token": form.inputs["csrf_token"], **fields}
        return client.post(
            form.form_action, data=data, content_type="application/x-www-form-urlencoded"
        )

    def sign_in(
        self,
        email,
        password=PASSWORD,
        *,
        totp=None,
        recovery_code=None,
        scope="profile",
        client=None,
        **extra,
    ):
        """Run /oauth/authorize to the redirect; returns (code, verifier, response)."""
        verifier, challenge = pkce()
        form = self.open_form(self.authorize_url(challenge=challenge, scope=scope, **extra), client)
        fields = {"email": email, "password": password}
        if totp:
            fields["totp"] = totp
        if recovery_code:
            fields["recovery_code"] = recovery_code
        response = self.submit(form, fields, client)
        code = None
        if response.status_code == 302:
            query = parse_qs(urlsplit(response.headers["Location"]).query)
            code = query.get("code", [None])[0]
        return code, verifier, response

    def exchange(self, code, verifier, *, redirect_uri=REDIRECT, client_id=CLI):
        return self.client.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": verifier,
                "redirect_uri": redirect_uri,
                "client_id": client_id,
            },
            content_type="application/x-www-form-urlencoded",
        )

    def login(self, email, password=PASSWORD, **kwargs) -> Tokens:
        code, verifier, response = self.sign_in(email, password, **kwargs)
        assert code, (response.status_code, response.get_data(as_text=True)[:800])
        token = self.exchange(code, verifier)
        assert token.status_code == 200, token.get_json()
        body = token.get_json()
        return Tokens(body["access_token"], body.get("refresh_token"), body["scope"], body)

    def refresh(self, refresh_token, client_id=CLI):
        return self.client.post(
            "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": client_id,
            },
            content_type="application/x-www-form-urlencoded",
        )

    def register(self, email=None, password=PASSWORD, **extra):
        email = email or unique_email()
        response = self.client.post(
            "/v1/users", json={"email": email, "password": password, "name": "Sam Tester", **extra}
        )
        assert response.status_code == 201, response.get_json()
        return email, response.get_json()

    def get(self, path, token, **kwargs):
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return self.client.get(path, headers=headers, **kwargs)

    def call(self, method, path, token, **kwargs):
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def enrol_totp(self, token) -> tuple[str, list[str]]:
        """Enrol and confirm TOTP; returns (seed, recovery codes). Uses the previous time step's
        code, so a sign-in right after can use the current one."""
        enrolment = self.call("POST", "/v1/me/mfa/totp", token)
        assert enrolment.status_code == 201, enrolment.get_json()
        seed = enrolment.get_json()["secret"]
        remember_seed(seed)
        confirm = self.call(
            "POST", "/v1/me/mfa/totp/confirm", token, json={"code": totp_at(seed, -1)}
        )
        assert confirm.status_code == 200, confirm.get_json()
        return seed, confirm.get_json()["recovery_codes"]


@pytest.fixture(scope="session")
def h():
    """Plain helpers for test modules (they cannot import this conftest under importlib)."""
    import types

    return types.SimpleNamespace(
        pkce=pkce,
        totp_at=totp_at,
        parse_form=parse_form,
        unique_email=unique_email,
        remember_seed=remember_seed,
        SecretLogGuard=SecretLogGuard,
        CLI=CLI,
        REDIRECT=REDIRECT,
        PASSWORD=PASSWORD,
    )
