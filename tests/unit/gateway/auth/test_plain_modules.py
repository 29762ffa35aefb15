"""Plain modules of the identity layer: scopes, redirect matching, the auth store on the
in-memory backend, the token issuer and JWKS, config validation, the sign-in page."""

import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from gateway.auth import scopes
from gateway.auth.config import AuthConfig, load_auth_config
from gateway.auth.redirects import redirect_uri_allowed
from gateway.auth.storage import AuthStore, MemoryBackend, digest
from gateway.auth.tokens import AccessTokenIssuer


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(clock):
    return AuthStore(MemoryBackend(clock), clock)


# --- scopes ------------------------------------------------------------------------------------
def test_scope_resolution():
    client = ["profile:read", "profile:write", "transactions:read"]
    assert scopes.resolve("profile", client) == "profile:read profile:write"
    assert scopes.resolve(None, client) == "profile:read profile:write transactions:read"
    assert scopes.resolve("transactions:read transactions:write", client) == "transactions:read"
    assert scopes.resolve("portfolio:write", client) is None
    assert scopes.resolve("made:up", ["made:up"]) is None  # unknown scopes are never granted


@pytest.mark.parametrize("bad", ['a"b', "x\\y", "é", "a" * 1001])
def test_malformed_scope_strings_are_refused(bad):
    with pytest.raises(ValueError, match="scope"):
        scopes.parse(bad)


# --- redirects --------------------------------------------------------------------------------
REGISTERED = ["http://127.0.0.1/callback", "http://[::1]/callback", "https://app.example/cb"]


@pytest.mark.parametrize(
    "uri, allowed",
    [
        ("https://app.example/cb", True),
        ("http://127.0.0.1:5555/callback", True),
        ("http://127.0.0.1/callback", True),
        ("http://[::1]:4000/callback", True),
        ("https://app.example/cb/", False),
        ("https://app.example/cb?a=b", False),
        ("https://app.example/cb#f", False),
        ("https://APP.example/cb", False),
        ("https://app.example:443/cb", False),
        ("http://127.0.0.1:5555/callback/x", False),
        ("http://127.0.0.1:5555/callback?a=b", False),
        ("http://127.0.0.1:99999/callback", False),
        ("http://localhost:5555/callback", False),
        ("http://u@127.0.0.1:5555/callback", False),
        ("https://127.0.0.1:5555/callback", False),
        ("", False),
        (None, False),
    ],
)
def test_redirect_uri_matching(uri, allowed):
    assert redirect_uri_allowed(uri, REGISTERED) is allowed


def test_a_registered_port_is_exact():
    assert not redirect_uri_allowed("http://127.0.0.1:9/cb", ["http://127.0.0.1:8/cb"])
    assert redirect_uri_allowed("http://127.0.0.1:8/cb", ["http://127.0.0.1:8/cb"])


# --- store ------------------------------------------------------------------------------------
def test_codes_are_single_use_and_expire(store, clock):
    store.save_code("c1", {"a": 1}, 600)
    assert store.take_code("c1") == {"a": 1}
    assert store.take_code("c1") is None
    store.save_code("c2", {"a": 2}, 600)
    clock.now += 601
    assert store.take_code("c2") is None
    assert "c1" not in json.dumps(store.b.data, default=str)  # stored by digest only


def test_refresh_rotation_is_compare_and_set(store):
    fid = store.create_family({"user_id": "u", "client_id": "c"}, absolute_ttl=100)
    rt1 = store.new_refresh_token(fid, previous=None)
    assert store.refresh_family_of(rt1) == (fid, digest(rt1))
    rt2 = store.new_refresh_token(fid, previous=digest(rt1))
    assert rt2 and rt2 != rt1
    assert store.new_refresh_token(fid, previous=digest(rt1)) is None  # old one lost the race
    assert store.family(fid)["current"] == digest(rt2)
    assert len(rt1) >= 43  # 256 bits, url-safe


def test_family_revocation_denies_live_access_tokens(store, clock):
    fid = store.create_family({"user_id": "u", "client_id": "c"}, absolute_ttl=1000)
    store.add_access_token(fid, "j-live", int(clock.now) + 900)
    store.add_access_token(fid, "j-dead", int(clock.now) - 3600)
    assert store.revoke_family(fid) == ["j-live"]
    assert store.is_denied("j-live") and not store.is_denied("j-dead")
    assert store.is_family_revoked(fid)
    assert store.new_refresh_token(fid, previous=None) is None


def test_family_absolute_lifetime(store, clock):
    fid = store.create_family({"user_id": "u", "client_id": "c"}, absolute_ttl=10)
    clock.now += 11
    assert store.family(fid) is None


def test_deny_list_ttl_is_the_remaining_lifetime(store, clock):
    store.deny("j", int(clock.now) + 300)
    _, expiry = store.b.data["nestegg:auth:deny:j"]
    assert expiry == clock.now + 360  # + 60 s leeway
    store.deny("old", int(clock.now) - 120)
    assert not store.is_denied("old")


def test_revoke_user_ends_every_family(store, clock):
    a = store.create_family({"user_id": "u1", "client_id": "c"}, absolute_ttl=100)
    b = store.create_family({"user_id": "u1", "client_id": "c"}, absolute_ttl=100)
    other = store.create_family({"user_id": "u2", "client_id": "c"}, absolute_ttl=100)
    assert store.revoke_user("u1") == 2
    assert store.is_family_revoked(a) and store.is_family_revoked(b)
    assert not store.is_family_revoked(other)


def test_memory_backend_nx_and_ttl(clock):
    backend = MemoryBackend(clock)
    assert backend.set("k", "1", 10, nx=True) and not backend.set("k", "2", 10, nx=True)
    clock.now += 11
    assert backend.get("k") is None and backend.set("k", "3", 10, nx=True)


# --- issuer -----------------------------------------------------------------------------------
def test_issuer_claims_header_and_jwks():
    issuer = AccessTokenIssuer(
        ec.generate_private_key(ec.SECP256R1()),
        kid="k1",
        issuer="https://id.example",
        audience="api",
    )
    issued = issuer.issue(
        "u1",
        scope="profile:read",
        amr=["pwd", "otp"],
        auth_time=1_700_000_000,
        client_id="c",
        mfa=True,
        sid="fam",
        now=1_800_000_000,
    )
    header = jwt.get_unverified_header(issued.token)
    assert header == {"alg": "ES256", "kid": "k1", "typ": "at+jwt"}
    (key,) = issuer.jwks()["keys"]
    claims = jwt.decode(
        issued.token,
        ECAlgorithm.from_jwk(json.dumps(key)),
        algorithms=["ES256"],
        audience="api",
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )
    assert claims["exp"] - claims["iat"] == 900 and claims["sid"] == "fam"
    assert (
        claims["mfa"] is True and claims["typ"] == "access" and claims["auth_time"] == 1_700_000_000
    )
    with pytest.raises(ValueError, match="900"):
        AccessTokenIssuer(issuer.private_key, kid="k", issuer="i", audience="a", lifetime=901)


def test_public_key_is_published_only_when_it_changes(tmp_path):
    issuer = AccessTokenIssuer(
        ec.generate_private_key(ec.SECP256R1()), kid="k1", issuer="i", audience="a"
    )
    path = tmp_path / "jwt_public.pem"
    issuer.publish_public_key(path)
    first = path.stat().st_mtime_ns
    issuer.publish_public_key(path)
    assert path.stat().st_mtime_ns == first
    assert path.read_text().startswith("# kid: k1\n-----BEGIN PUBLIC KEY-----")


# --- config ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"access_ttl": 901}, "access token"),
        ({"code_ttl": 601}, "authorization code"),
        ({"refresh_absolute_ttl": 0}, "refresh_absolute_ttl"),
        ({"session_state_ttl": -1}, "negative"),
    ],
)
def test_config_limits(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AuthConfig(**kwargs)


def test_config_from_env(monkeypatch):
    monkeypatch.setenv("NESTEGG_LIMIT_LOGIN", "2/minute")
    monkeypatch.setenv("NESTEGG_RATELIMIT_ENABLED", "off")
    config = load_auth_config()
    assert config.login_limit == "2/minute" and config.ratelimit_enabled is False
    monkeypatch.setenv("NESTEGG_RATELIMIT_ENABLED", "perhaps")
    with pytest.raises(ValueError, match="NESTEGG_RATELIMIT_ENABLED"):
        load_auth_config()


# --- sign-in page ------------------------------------------------------------------------------
def test_login_page_escapes_everything(auth_app):
    from gateway.auth.login_page import login_page

    with auth_app.test_request_context("/oauth/authorize"):
        page = login_page(
            200,
            client_name="<script>alert(1)</script>",
            message='"><img src=x>',
            csrf_token="t",
            action="/oauth/authorize?a=1&b=2",
            redirect_uri="https://c.example/cb",
        )
    html = page.get_data(as_text=True)
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "a=1&amp;b=2" in html
    assert page.nestegg_csp.endswith("form-action 'self' https://c.example")
