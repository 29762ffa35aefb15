"""Refresh rotation and family revocation, absolute lifetime, token forgery, revocation and
logout, client credentials, metadata and JWKS (security reference C1-C6, D5, D8)."""

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm


def _b64(data) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_refresh_rotates_and_reuse_revokes_the_whole_family(gw):
    email, _ = gw.register()
    t = gw.login(email)
    first = gw.refresh(t.refresh_token)
    assert first.status_code == 200
    rt2, at2 = first.get_json()["refresh_token"], first.get_json()["access_token"]
    assert rt2 != t.refresh_token and at2 != t.access_token
    assert gw.get("/v1/me", at2).status_code == 200
    reuse = gw.refresh(t.refresh_token)  # RT1 again: stolen or replayed
    assert reuse.status_code == 400 and reuse.get_json()["error"] == "invalid_grant"
    assert gw.refresh(rt2).status_code == 400  # the newest one is dead too
    assert gw.get("/v1/me", at2).status_code == 401  # and so are the family's access tokens
    assert gw.get("/v1/me", t.access_token).status_code == 401


def test_refresh_keeps_sign_in_facts_and_cannot_widen_scope(gw):
    email, _ = gw.register()
    t = gw.login(email, scope="profile:read")
    before = jwt.decode(t.access_token, options={"verify_signature": False})
    wider = gw.client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": t.refresh_token,
            "client_id": "nestegg-cli",
            "scope": "profile:read profile:write",
        },
        content_type="application/x-www-form-urlencoded",
    )
    assert wider.status_code == 400 and wider.get_json()["error"] == "invalid_scope"
    ok = gw.refresh(t.refresh_token)
    assert ok.status_code == 200
    after = jwt.decode(ok.get_json()["access_token"], options={"verify_signature": False})
    assert after["auth_time"] == before["auth_time"] and after["amr"] == before["amr"]
    assert after["scope"] == "profile:read" and after["jti"] != before["jti"]


def test_refresh_chain_has_an_absolute_lifetime(make_gateway):
    gw = make_gateway(refresh_absolute_ttl=2)
    email, _ = gw.register()
    t = gw.login(email)
    rotated = gw.refresh(t.refresh_token)
    assert rotated.status_code == 200
    time.sleep(2.5)
    late = gw.refresh(rotated.get_json()["refresh_token"])
    assert late.status_code == 400 and late.get_json()["error"] == "invalid_grant"


def test_refresh_token_of_another_client_is_refused(gw, h):
    email, _ = gw.register()
    t = gw.login(email)
    other = gw.refresh(t.refresh_token, client_id="ne-unknown-client")
    assert other.status_code in (400, 401)


def test_forged_tokens_are_all_401(gw):
    email, _ = gw.register()
    t = gw.login(email)
    claims = jwt.decode(t.access_token, options={"verify_signature": False})
    issuer = gw.ext.issuer
    public_pem = issuer.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    forged = {}
    forged["alg_none"] = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    signing_input = f"{_b64({'alg': 'HS256', 'kid': issuer.kid})}.{_b64(claims)}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    forged["hs256_confusion"] = f"{signing_input}.{_b64(mac)}"
    for name, change in {
        "wrong_aud": {"aud": "someone-else"},
        "wrong_iss": {"iss": "https://evil.example"},
        "refresh_typ": {"typ": "refresh"},
        "expired": {"exp": int(time.time()) - 120, "iat": int(time.time()) - 1000},
        "other_user": {"sub": "00000000-0000-0000-0000-000000000000", "scope": "profile:read"},
    }.items():
        key = (
            issuer.private_key if name != "other_user" else ec.generate_private_key(ec.SECP256R1())
        )
        forged[name] = jwt.encode(
            {**claims, **change}, key, algorithm="ES256", headers={"kid": issuer.kid}
        )
    forged["refresh_token_as_bearer"] = t.refresh_token
    forged["tampered_payload"] = ".".join(
        [
            t.access_token.split(".")[0],
            _b64({**claims, "scope": "profile:read profile:write x"}),
            t.access_token.split(".")[2],
        ]
    )
    for name, token in forged.items():
        response = gw.get("/v1/me", token)
        assert response.status_code == 401, name
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"], name
        assert "eyJ" not in response.get_data(as_text=True), name


def test_services_refuse_forged_tokens_too(gw, rpc_pool):
    """The gateway is not the only guard: the users service verifies the principal itself."""
    from common.errors import Unauthenticated

    email, _ = gw.register()
    t = gw.login(email)
    claims = jwt.decode(t.access_token, options={"verify_signature": False})
    wrong_key = jwt.encode(
        claims,
        ec.generate_private_key(ec.SECP256R1()),
        algorithm="ES256",
        headers={"kid": gw.ext.issuer.kid},
    )
    with pytest.raises(Unauthenticated):
        rpc_pool.call("users", "get_profile", wrong_key)
    assert rpc_pool.call("users", "get_profile", t.access_token)["email"] == email


def test_revoke_access_token_denylists_it_and_ends_the_family(gw):
    email, _ = gw.register()
    t = gw.login(email)
    response = gw.client.post(
        "/oauth/revoke",
        data={"token": t.access_token, "client_id": "nestegg-cli"},
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert gw.get("/v1/me", t.access_token).status_code == 401
    assert gw.refresh(t.refresh_token).status_code == 400
    claims = jwt.decode(t.access_token, options={"verify_signature": False})
    ttl = gw.ext.store.b.client.ttl(f"nestegg:auth:deny:{claims['jti']}")
    assert 0 < ttl <= claims["exp"] - int(time.time()) + 61


def test_revoke_refresh_token_ends_the_sign_in(gw):
    email, _ = gw.register()
    t = gw.login(email)
    response = gw.client.post(
        "/oauth/revoke",
        data={
            "token": t.refresh_token,
            "token_type_hint": "refresh_token",
            "client_id": "nestegg-cli",
        },
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert gw.refresh(t.refresh_token).status_code == 400
    assert gw.get("/v1/me", t.access_token).status_code == 401


def test_revoke_unknown_token_is_200_and_needs_a_client(gw):
    ok = gw.client.post(
        "/oauth/revoke",
        data={"token": "nonsense", "client_id": "nestegg-cli"},
        content_type="application/x-www-form-urlencoded",
    )
    assert ok.status_code == 200
    anonymous = gw.client.post(
        "/oauth/revoke",
        data={"token": "nonsense"},
        content_type="application/x-www-form-urlencoded",
    )
    assert anonymous.status_code in (400, 401)


def test_logout_denylists_the_token_and_revokes_the_family(gw):
    email, _ = gw.register()
    t = gw.login(email)
    other_session = gw.login(email)
    assert gw.call("POST", "/v1/logout", t.access_token).status_code == 204
    assert gw.get("/v1/me", t.access_token).status_code == 401
    assert gw.refresh(t.refresh_token).status_code == 400
    assert gw.get("/v1/me", other_session.access_token).status_code == 200
    assert (
        gw.call("POST", "/v1/logout?everywhere=true", other_session.access_token).status_code == 204
    )
    assert gw.refresh(other_session.refresh_token).status_code == 400


def test_new_tokens_at_every_sign_in(gw):
    email, _ = gw.register()
    a, b = gw.login(email), gw.login(email)
    assert a.access_token != b.access_token and a.refresh_token != b.refresh_token


def test_client_credentials_for_a_confidential_client(gw, rpc_pool):
    created = rpc_pool.call(
        "users",
        "create_oauth_client",
        {
            "name": "Budget exporter",
            "redirect_uris": ["https://exporter.example/cb"],
            "scopes": ["transactions:read"],
            "public": False,
            "first_party": False,
        },
    )
    cid, secret = created["client_id"], created["client_secret"]
    basic = base64.b64encode(f"{cid}:{secret}".encode()).decode()
    ok = gw.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
        content_type="application/x-www-form-urlencoded",
    )
    assert ok.status_code == 200, ok.get_json()
    body = ok.get_json()
    assert body["scope"] == "transactions:read" and "refresh_token" not in body
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == f"client:{cid}" and claims["amr"] == []
    wider = gw.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "profile:write"},
        headers={"Authorization": f"Basic {basic}"},
        content_type="application/x-www-form-urlencoded",
    )
    assert wider.status_code == 400 and wider.get_json()["error"] == "invalid_scope"
    bad = base64.b64encode(f"{cid}:wrong-secret".encode()).decode()
    refused = gw.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {bad}"},
        content_type="application/x-www-form-urlencoded",
    )
    assert refused.status_code == 401 and refused.get_json()["error"] == "invalid_client"
    # a client token cannot read a user's profile
    assert gw.get("/v1/me", body["access_token"]).status_code == 403


def test_metadata_and_jwks_publish_what_verifies_tokens(gw):
    meta = gw.client.get("/.well-known/oauth-authorization-server").get_json()
    issuer = gw.ext.issuer.issuer
    assert meta["issuer"] == issuer
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["response_types_supported"] == ["code"]
    assert "password" not in meta["grant_types_supported"]
    assert "implicit" not in meta["grant_types_supported"]
    assert meta["token_endpoint"].endswith("/oauth/token")
    assert meta["revocation_endpoint"].endswith("/oauth/revoke")
    jwks = gw.client.get("/.well-known/jwks.json").get_json()
    (key,) = jwks["keys"]
    assert key["kty"] == "EC" and key["alg"] == "ES256" and "d" not in key
    email, _ = gw.register()
    t = gw.login(email)
    public = ECAlgorithm.from_jwk(json.dumps(key))
    claims = jwt.decode(
        t.access_token, public, algorithms=["ES256"], audience=gw.ext.issuer.audience
    )
    assert claims["iss"] == issuer
