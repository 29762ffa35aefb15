"""require_auth: every refusal path, the success path and what it leaves on flask.g."""

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from common.errors import ServiceUnavailable
from gateway.auth import require_auth
from gateway.auth.bearer import is_authenticated_view


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def assert_invalid_token(response):
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.get_json()["code"] == "invalid_token"


def test_valid_token_reaches_the_view_with_principal_and_raw_token(auth_app, issue):
    token = issue("user-a").token
    response = auth_app.test_client().get("/t/read", headers=bearer(token))
    assert response.status_code == 200
    assert response.get_json() == {"user": "user-a", "token_len": len(token)}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer a b"},
        {"Authorization": "Bearer " + "x" * 9000},
    ],
)
def test_missing_or_malformed_header_is_401_invalid_token(auth_app, headers):
    assert_invalid_token(auth_app.test_client().get("/t/read", headers=headers))


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_alg_none_is_refused(auth_app, issue):
    claims = issue().claims
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    assert_invalid_token(auth_app.test_client().get("/t/read", headers=bearer(forged)))


def test_hs256_signed_with_the_public_key_is_refused(auth_app, issue):
    issuer = auth_app.extensions["nestegg.auth"].issuer
    public_pem = issuer.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = issue().claims
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": issuer.kid})
    import hashlib
    import hmac

    signing_input = f"{header}.{_b64(claims)}".encode()
    sig = hmac.new(public_pem, signing_input, hashlib.sha256).digest()
    forged = signing_input.decode() + "." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()
    assert_invalid_token(auth_app.test_client().get("/t/read", headers=bearer(forged)))


def test_foreign_key_wrong_audience_expired_and_refresh_type_are_refused(auth_app, issue):
    client = auth_app.test_client()
    issuer = auth_app.extensions["nestegg.auth"].issuer
    claims = issue().claims
    other_key = ec.generate_private_key(ec.SECP256R1())
    foreign = jwt.encode(claims, other_key, algorithm="ES256", headers={"kid": issuer.kid})
    assert_invalid_token(client.get("/t/read", headers=bearer(foreign)))
    for change in ({"aud": "other-api"}, {"iss": "https://evil"}, {"typ": "refresh"}):
        token = jwt.encode(
            {**claims, **change},
            issuer.private_key,
            algorithm="ES256",
            headers={"kid": issuer.kid},
        )
        assert_invalid_token(client.get("/t/read", headers=bearer(token)))
    old = issue(now=time.time() - 3600).token
    response = client.get("/t/read", headers=bearer(old))
    assert_invalid_token(response)
    assert "expired" in response.get_json()["detail"]


def test_denied_jti_is_refused(auth_app, issue):
    issued = issue()
    auth_app.extensions["nestegg.auth"].store.deny(issued.jti, issued.exp)
    response = auth_app.test_client().get("/t/read", headers=bearer(issued.token))
    assert_invalid_token(response)
    assert "revoked" in response.get_json()["detail"]


def test_token_from_before_sessions_valid_after_is_refused(auth_app, issue, users_fake):
    now = int(time.time())
    users_fake.state["user-b"] = {"sessions_valid_after": now, "deleted": False}
    old = issue("user-b", auth_time=now - 5).token
    fresh = issue("user-b", auth_time=now).token
    client = auth_app.test_client()
    assert_invalid_token(client.get("/t/read", headers=bearer(old)))
    assert client.get("/t/read", headers=bearer(fresh)).status_code == 200


def test_deleted_account_is_refused(auth_app, issue, users_fake):
    users_fake.state["gone"] = {"sessions_valid_after": None, "deleted": True}
    assert_invalid_token(auth_app.test_client().get("/t/read", headers=bearer(issue("gone").token)))


def test_session_state_is_cached_between_requests(auth_app, issue, users_fake):
    client = auth_app.test_client()
    token = issue("user-c").token
    for _ in range(3):
        assert client.get("/t/read", headers=bearer(token)).status_code == 200
    assert users_fake.calls == 1


def test_users_service_down_fails_closed(auth_app, issue, users_fake):
    users_fake.error = ServiceUnavailable()
    response = auth_app.test_client().get("/t/read", headers=bearer(issue("user-d").token))
    assert response.status_code == 503


def test_missing_scope_is_403_insufficient_scope(auth_app, issue):
    token = issue(scope="transactions:read").token
    response = auth_app.test_client().post("/t/write", headers=bearer(token))
    assert response.status_code == 403
    body = response.get_json()
    assert body["code"] == "insufficient_scope"
    assert body["required_scopes"] == ["transactions:write"]
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert 'scope="transactions:write"' in response.headers["WWW-Authenticate"]


def test_step_up_without_mfa_enrolled_is_403_mfa_required(auth_app, issue):
    token = issue(amr=("pwd",), mfa=False).token
    response = auth_app.test_client().post("/t/critical", headers=bearer(token))
    assert response.status_code == 403
    assert response.get_json()["code"] == "mfa_required"


def test_step_up_with_mfa_but_password_only_token_is_401_step_up_required(auth_app, issue):
    token = issue(amr=("pwd",), mfa=True).token
    response = auth_app.test_client().post("/t/critical", headers=bearer(token))
    assert response.status_code == 401
    assert response.get_json()["code"] == "step_up_required"
    assert "prompt=login" in response.get_json()["detail"]
    assert "insufficient_user_authentication" in response.headers["WWW-Authenticate"]


def test_step_up_with_an_old_second_factor_is_401(auth_app, issue):
    token = issue(amr=("pwd", "otp"), mfa=True, auth_time=int(time.time()) - 11 * 60).token
    response = auth_app.test_client().post("/t/critical", headers=bearer(token))
    assert response.status_code == 401
    assert response.get_json()["code"] == "step_up_required"


def test_step_up_with_a_fresh_second_factor_passes(auth_app, issue):
    for amr in (("pwd", "otp"), ("pwd", "recovery")):
        token = issue(amr=amr, mfa=True).token
        assert auth_app.test_client().post("/t/critical", headers=bearer(token)).status_code == 200


def test_refusals_are_audited_best_effort(auth_app, issue):
    client = auth_app.test_client()
    client.get("/t/read", headers=bearer("not-a-jwt"))
    client.post("/t/write", headers=bearer(issue("user-e", scope="transactions:read").token))
    auth_app.extensions["nestegg.auth"].audit.flush()
    events = [
        c["args"][0] for c in auth_app.rpc_fake.calls if c["method"] == "record_security_event"
    ]
    assert [e["event"] for e in events] == ["authz.invalid_token", "authz.insufficient_scope"]
    assert events[1]["user_id"] == "user-e" and events[1]["outcome"] == "denied"
    assert all("not-a-jwt" not in json.dumps(e) for e in events)


def test_require_auth_refuses_bad_scope_names():
    for bad in ("", "a b", None):
        with pytest.raises(ValueError, match="scope"):
            require_auth(bad)


def test_views_are_marked_for_the_route_registry(auth_app):
    view = auth_app.view_functions["guarded.Read"]
    assert is_authenticated_view(view)
    assert not is_authenticated_view(auth_app.view_functions["health.healthz"])
    assert auth_app.view_functions["guarded.Critical"].view_class.post.auth_required == {
        "scopes": ("profile:write",),
        "step_up": True,
    }
